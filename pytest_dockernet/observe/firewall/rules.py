"""Nat rules reduced to what decides masquerading, and the questions asked of them by meaning.

Both parsers (:mod:`.iptables`, :mod:`.nftables`) produce :class:`NatRule` values, and
:meth:`NatRule.masquerades` answers the question the same way for either, as
:meth:`NatRule.forwards` does for a published port's DNAT. Addresses are of either family
(IPv4 from ``iptables``/``ip docker-bridges``, IPv6 from ``ip6tables``/``ip6 docker-bridges``);
a value of one family never matches a value of the other, and never raises.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from ...addressing import IPAddress, IPNetwork


class Backend(str, enum.Enum):
    """Which firewall Docker writes its bridge rules to; decides which tool reads them back."""

    IPTABLES_NFT = "iptables-nft"
    """iptables 1.8 nf_tables variant: iptables syntax, kernel nf_tables underneath."""
    IPTABLES_LEGACY = "iptables-legacy"
    """The x_tables kernel tables (iptables-legacy, or iptables before 1.8)."""
    NFTABLES = "nftables"
    """Docker's native nftables backend (``--firewall-backend=nftables``, experimental since
    Docker 29.0; rules in tables ``ip docker-bridges`` and ``ip6 docker-bridges``)."""


LOOPBACK = IPv4Network("127.0.0.0/8")
"""What Docker's nat OUTPUT path leaves to docker-proxy over IPv4 (``! -d 127.0.0.0/8``)."""
LOOPBACK6 = IPv6Network("::1/128")
"""The same over IPv6 (``! -d ::1/128``, nft ``ip6 daddr != ::1``)."""
LINK_LOCAL6 = IPv6Network("fe80::/10")
"""IPv6 sources Docker's DNAT leaves to docker-proxy (``! -s fe80::/10``): the kernel would drop
a link-local connection DNATed to a container (moby commit 7ca9e9b4969b)."""


def loopback(version: int) -> IPNetwork:
    """The loopback network of IP `version` (4 or 6), as Docker's nat rules name it.

    Example::

        loopback(4)  # IPv4Network('127.0.0.0/8')
        loopback(6)  # IPv6Network('::1/128')
    """
    return LOOPBACK6 if version == 6 else LOOPBACK


def network_within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """Whether `inner` lies inside `outer` (or is it); False for networks of different
    families, where ``subnet_of`` would raise.

    Example::

        network_within(IPv4Network("10.1.0.0/16"), IPv4Network("10.0.0.0/8"))  # True
        network_within(IPv6Network("fd00::/64"), IPv4Network("0.0.0.0/0"))  # False
    """
    if isinstance(inner, IPv4Network) and isinstance(outer, IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, IPv6Network) and isinstance(outer, IPv6Network):
        return inner.subnet_of(outer)
    return False


@dataclass(frozen=True)
class NatRule:
    """One nat rule reduced to what decides masquerading: source, interfaces and target.

    ``target`` is the verdict in iptables terms: a built-in target upper-case (``MASQUERADE``,
    ``SNAT``, ``DNAT``, ``RETURN``, ``ACCEPT``, ...; nft statements are upper-cased to match), the
    name of the chain jumped to (iptables ``-j DOCKER``, nft ``jump nat-postrouting-out__br0``), or
    ``""`` for a rule without a verdict. For nftables the fields hold the conditions of the whole
    path from the base chain, including those of the rules (and verdict-map keys) that jumped here.

    ``other_matches`` lists the conditions this model does not interpret (protocol, ports,
    destination, addrtype, fib, conntrack state, ...), as printed. A non-empty tuple means the rule
    applies to only part of the traffic its source and interfaces describe.

    A published port's DNAT is read from those conditions too: ``destination``, ``protocol``,
    ``dports`` and ``to_local`` (the packet is for one of the host's addresses: ``-m addrtype
    --dst-type LOCAL``, ``fib daddr type local``) hold what they say, ``to_address`` and
    ``to_ports`` where the DNAT sends the packet, and ``unread`` the conditions neither reading
    interprets (a rule with any is narrower than its fields say).
    """

    chain: str
    target: str
    source: IPNetwork | None
    source_negated: bool
    out_interface: str | None
    out_negated: bool
    text: str
    in_interface: str | None = None
    in_negated: bool = False
    other_matches: tuple[str, ...] = ()
    destination: IPNetwork | None = None
    destination_negated: bool = False
    protocol: str | None = None
    dports: tuple[int, int] | None = None
    """Destination ports, first and last (one port: both the same)."""
    to_local: bool = False
    to_address: IPAddress | None = None
    """Where DNAT sends the packet (``--to-destination``, ``dnat to``)."""
    to_ports: tuple[int, int] | None = None
    """The port(s) DNAT sends to; None keeps the packet's own port."""
    unread: tuple[str, ...] = ()

    def masquerades(self, subnet: IPNetwork, bridge: str) -> bool:
        """True when this rule masquerades traffic from `subnet` leaving by any interface but
        `bridge` (the Docker rule ``-s SUBNET ! -o BRIDGE -j MASQUERADE``).

        Decided by meaning, and exactly: the rule must NAT *every* packet from the subnet that
        leaves by another interface, and *no* packet that leaves by the bridge. So:

        * the target is ``MASQUERADE`` (``SNAT`` to a fixed address is a different setup);
        * the out-interface is exactly ``! BRIDGE``. A rule without an out-interface (e.g.
          ``-s 10.0.0.0/8 -j MASQUERADE``) does not count: it also rewrites traffic that
          hairpins back into the bridge, it is not the rule Docker writes, and accepting it would
          let an unrelated catch-all rule hide a missing Docker rule. ``-o eth0`` does not count
          either (other ways out stay un-NATed), nor does a wildcard like ``! -o br-+``;
        * the source covers the whole subnet: absent, a supernet, or a negated network that does
          not overlap the subnet (a source of the other family is no supernet);
        * an in-interface, if any, admits packets arriving from the bridge (nftables reaches the
          per-bridge chain through ``iifname vmap``, so its rule carries ``iifname BRIDGE``);
        * no other match narrows the rule (``-p tcp``, ``--dport``, ``fib saddr type local``).

        Rule order (an earlier ``RETURN`` or ``ACCEPT`` shadowing this rule) is not evaluated.
        """
        if self.target != "MASQUERADE" or self.other_matches:
            return False
        if self.out_interface != bridge or not self.out_negated:
            return False
        if self.in_interface is not None and (
            ifname_matches(self.in_interface, bridge) == self.in_negated
        ):
            return False
        return _source_covers(self.source, self.source_negated, subnet)

    def forwards(
        self,
        host_port: int,
        proto: str,
        address: IPAddress,
        port: int,
        host_ip: IPAddress | None = None,
    ) -> bool:
        """True when this rule sends every ``proto`` packet for the host's ``host_port`` (on
        ``host_ip``; None, 0.0.0.0 or ``::``: every address of the host) to ``address:port``:
        the DNAT Docker writes for a published port (``-A DOCKER ! -i BRIDGE -p tcp -m tcp
        --dport P -j DNAT --to-destination A:PORT``, with ``-d 127.0.0.1/32`` for a loopback
        binding; nft ``iifname != BRIDGE tcp dport P dnat to A:PORT``; over IPv6 ``! -s
        fe80::/10 ... --to-destination [A]:PORT``).

        Decided by meaning:

        * the target is ``DNAT`` to ``address`` and ``port`` (or to the address alone, keeping
          the port, when ``port`` is ``host_port``);
        * the protocol is ``proto`` and the destination ports include ``host_port``;
        * ``host_ip``, when given, is of ``address``'s family (Docker never DNATs between
          families: docker-proxy alone serves an IPv6 host address for an IPv4 container);
        * the destination covers ``host_ip``. For 0.0.0.0 (``::``) it is absent or excludes
          loopback only: the path from nftables' output hook (``ip daddr != 127.0.0.0/8``,
          ``ip6 daddr != ::1``) leaves the host's own loopback connections to docker-proxy;
        * no source narrows it but the exclusion of IPv6 link-local sources Docker writes (``!
          -s fe80::/10``: those connections are docker-proxy's); no out-interface and no
          positive in-interface narrow it (``! -i BRIDGE`` only leaves out what comes back in
          from the container's own bridge);
        * no condition the reading does not interpret narrows it (``unread`` is empty).

        Rule order (an earlier ``RETURN`` shadowing this rule) is not evaluated.
        """
        if self.target != "DNAT" or self.to_address != address or self.unread:
            return False
        wanted_to = (port, port)
        if self.to_ports != wanted_to and not (self.to_ports is None and port == host_port):
            return False
        if self.protocol != proto or self.dports is None:
            return False
        if not self.dports[0] <= host_port <= self.dports[1]:
            return False
        if host_ip is not None and host_ip.version != address.version:
            return False
        if not self._from_any_source() or self.out_interface is not None:
            return False
        if self.in_interface is not None and not self.in_negated:
            return False
        return self._covers_destination(host_ip)

    def _from_any_source(self) -> bool:
        """No source condition, or only the exclusion of IPv6 link-local sources."""
        if self.source is None:
            return True
        return self.source_negated and network_within(self.source, LINK_LOCAL6)

    def _covers_destination(self, host_ip: IPAddress | None) -> bool:
        if self.destination is None:
            return True
        if host_ip is None or host_ip.is_unspecified:
            return self.destination_negated and network_within(
                self.destination, loopback(self.destination.version)
            )
        if host_ip.version != self.destination.version:
            return False
        return (host_ip in self.destination) != self.destination_negated

    def dnats_port(self, host_port: int, proto: str) -> bool:
        """True for a DNAT rule whose protocol and destination ports take in ``host_port``."""
        return (
            self.target == "DNAT"
            and self.protocol == proto
            and self.dports is not None
            and self.dports[0] <= host_port <= self.dports[1]
        )

    def mentions(self, subnet: IPNetwork, bridge: str) -> bool:
        """True when the rule's source overlaps `subnet` or one of its interfaces is `bridge`."""
        if self.source is not None and self.source.overlaps(subnet):
            return True
        return any(
            name is not None and ifname_matches(name, bridge)
            for name in (self.in_interface, self.out_interface)
        )


@dataclass(frozen=True)
class NatTable:
    """All nat rules of the backend Docker uses for one IP family, with where they were read
    from.

    The queries by subnet or address (:meth:`masquerade_rules`, :meth:`dnat_rules`) find
    nothing for a value of the other family: a rule without a source in ``ip6tables`` does not
    masquerade an IPv4 subnet. Example::

        table = read_nat_table(engine_info, family=6)
        table.masquerade_rules(IPv6Network("fd00:1::/64"), "br-0123456789ab")
    """

    backend: Backend
    rules: tuple[NatRule, ...]
    source: str
    """How the rules were read, e.g. ``iptables-save -t nat (nf_tables)``."""
    note: str = ""
    """Anything a failure message should add, e.g. that the other iptables variant has rules."""
    family: int = 4
    """The IP family of the rules: 4 (``iptables``, ``ip docker-bridges``) or 6."""

    def masquerade_rules(self, subnet: IPNetwork, bridge: str) -> tuple[NatRule, ...]:
        """The rules that masquerade `subnet` behind `bridge` (see :meth:`NatRule.masquerades`)."""
        if subnet.version != self.family:
            return ()
        return tuple(rule for rule in self.rules if rule.masquerades(subnet, bridge))

    def dnat_rules(
        self,
        host_port: int,
        proto: str,
        address: IPAddress,
        port: int,
        host_ip: IPAddress | None = None,
    ) -> tuple[NatRule, ...]:
        """The rules that send the host's ``host_port``/``proto`` (on ``host_ip``) to
        ``address:port``: a published port's DNAT (see :meth:`NatRule.forwards`). nftables
        rules appear once per path that reaches them."""
        if address.version != self.family:
            return ()
        return tuple(
            rule for rule in self.rules if rule.forwards(host_port, proto, address, port, host_ip)
        )

    def rules_for_port(
        self, host_port: int, proto: str, address: IPAddress | None = None
    ) -> tuple[NatRule, ...]:
        """DNAT rules that take in ``host_port``/``proto`` or send anything to ``address``: what
        a failure message shows next to "no DNAT rule found"."""
        return tuple(
            rule
            for rule in self.rules
            if rule.dnats_port(host_port, proto)
            or (address is not None and rule.target == "DNAT" and rule.to_address == address)
        )

    def rules_mentioning(self, subnet: IPNetwork, bridge: str) -> tuple[NatRule, ...]:
        """Rules whose source overlaps `subnet` or whose interface is `bridge`: what a failure
        message should show next to "no masquerade rule found"."""
        return tuple(rule for rule in self.rules if rule.mentions(subnet, bridge))


def format_rules(rules: Iterable[NatRule]) -> str:
    """Rules one per line, indented, for failure messages."""
    return "\n".join(f"    [{rule.chain}] {rule.text}" for rule in rules) or "    (no rules)"


def _source_covers(source: IPNetwork | None, negated: bool, subnet: IPNetwork) -> bool:
    if source is None:
        return True
    if negated:
        return source.version == subnet.version and not subnet.overlaps(source)
    return network_within(subnet, source)


def is_wildcard(name: str) -> bool:
    # iptables writes a trailing "+", nft a trailing "*".
    return name.endswith(("+", "*"))


def ifname_matches(pattern: str, name: str) -> bool:
    if is_wildcard(pattern):
        return name.startswith(pattern[:-1])
    return pattern == name
