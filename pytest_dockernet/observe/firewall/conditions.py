"""Conditions shared by both parsers: what a rule matches, as alternatives of conditions on
source, in-interface and out-interface (and, for a published port's DNAT, destination,
protocol, destination ports and "addressed to the host"), folded into one
:class:`~.rules.NatRule` per combination that can hold. Addresses are of either family; two
positive address conditions of different families can never both hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import TypeAlias

from ...addressing import IPAddress, IPNetwork
from .rules import NatRule, ifname_matches, is_wildcard, network_within

PortRange: TypeAlias = "tuple[int, int]"
"""First and last port (one port: both the same)."""
NatTo: TypeAlias = "tuple[IPAddress | None, PortRange | None]"
"""Where a DNAT sends a packet: the address (None: one this reading does not model, such as a
range) and the ports (None: the packet's own)."""


@dataclass(frozen=True)
class Cond:
    """One condition of a rule: kind "saddr" / "iif" / "oif" / "daddr" with one value,
    "proto" (a protocol name), "dport" (protocol, first port, last port), "local" (addressed to
    one of the host's addresses), or "other"."""

    kind: str
    negated: bool
    value: IPNetwork | str | tuple[str, int, int]
    text: str


_INTERFACE_KINDS = ("saddr", "iif", "oif")


Alternatives = list[list[Cond]]
"""A parsed match: any one inner list (all of its conditions) satisfies it."""


@dataclass
class _Normal:
    source: IPNetwork | None = None
    source_negated: bool = False
    in_interface: str | None = None
    in_negated: bool = False
    out_interface: str | None = None
    out_negated: bool = False
    other: list[str] = field(default_factory=list)


Folded: TypeAlias = "tuple[IPNetwork | None, bool, list[str]]"


def _fold_networks(conds: Sequence[Cond]) -> Folded | None:
    """Fold address conditions into one network (negated or not) and the texts of those that
    narrow it further; None when they can never all hold."""
    positive = [c for c in conds if not c.negated]
    negative = [c for c in conds if c.negated]
    net: IPNetwork | None = None
    narrower: list[str] = []
    for cond in positive:
        assert isinstance(cond.value, IPv4Network | IPv6Network)
        if net is None or network_within(cond.value, net):
            net = cond.value
        elif not network_within(net, cond.value):
            return None  # disjoint networks, or networks of both families
    if net is not None:
        for cond in negative:
            assert isinstance(cond.value, IPv4Network | IPv6Network)
            if not cond.value.overlaps(net):
                continue  # excludes nothing of net (nor does a network of the other family)
            if network_within(net, cond.value):
                return None  # excludes all of net
            narrower.append(cond.text)  # excludes part of net: narrows the rule
        return net, False, narrower
    if negative:
        first = negative[0]
        assert isinstance(first.value, IPv4Network | IPv6Network)
        return first.value, True, [cond.text for cond in negative[1:]]
    return None, False, []


def _normalise_source(conds: Sequence[Cond], normal: _Normal) -> bool:
    """Fold the saddr conditions into one network; False when they can never all hold."""
    folded = _fold_networks(conds)
    if folded is None:
        return False
    normal.source, normal.source_negated, narrower = folded
    normal.other.extend(narrower)
    return True


@dataclass
class _Ports:
    """The protocol and destination-port conditions folded together."""

    protocol: str | None = None
    dports: PortRange | None = None


def _fold_ports(conds: Sequence[Cond]) -> _Ports | None:
    """One protocol and one range of destination ports; None when they can never all hold
    (``-p udp`` with ``tcp dport``, or disjoint port ranges)."""
    folded = _Ports()
    for cond in conds:
        if cond.kind == "proto":
            assert isinstance(cond.value, str)
            proto, low, high = cond.value, 0, 65535
        elif cond.kind == "dport":
            assert isinstance(cond.value, tuple)
            proto, low, high = cond.value
        else:
            continue
        if folded.protocol not in (None, proto):
            return None
        folded.protocol = proto
        if cond.kind == "dport":
            if folded.dports is not None:
                low, high = max(low, folded.dports[0]), min(high, folded.dports[1])
            if low > high:
                return None
            folded.dports = (low, high)
    return folded


def _normalise_ifname(conds: Sequence[Cond], other: list[str]) -> tuple[str | None, bool] | None:
    """Fold interface conditions into one (name, negated); None when they can never all hold."""
    positive = [c for c in conds if not c.negated]
    negative = [c for c in conds if c.negated]
    name: str | None = None
    for cond in positive:
        assert isinstance(cond.value, str)
        if name is None:
            name = cond.value
        elif cond.value != name:
            if not (is_wildcard(name) or is_wildcard(cond.value)):
                return None  # two different interfaces
            other.append(cond.text)
    if name is not None:
        for cond in negative:
            assert isinstance(cond.value, str)
            if not is_wildcard(name) and ifname_matches(cond.value, name):
                return None
            if is_wildcard(name) or is_wildcard(cond.value):
                other.append(cond.text)
        return name, False
    if negative:
        first = negative[0]
        assert isinstance(first.value, str)
        other.extend(cond.text for cond in negative[1:])
        return first.value, True
    return None, False


def build_rule(
    chain: str, target: str, text: str, conds: Sequence[Cond], nat_to: NatTo | None = None
) -> NatRule | None:
    """A NatRule from a conjunction of conditions (and, for DNAT, where it sends the packet);
    None when the conditions contradict each other."""
    normal = _Normal()
    if not _normalise_source([c for c in conds if c.kind == "saddr"], normal):
        return None
    iif = _normalise_ifname([c for c in conds if c.kind == "iif"], normal.other)
    oif = _normalise_ifname([c for c in conds if c.kind == "oif"], normal.other)
    if iif is None or oif is None:
        return None
    destination = _fold_networks([c for c in conds if c.kind == "daddr"])
    ports = _fold_ports(conds)
    if destination is None or ports is None:
        return None
    unread = [*normal.other, *destination[2]]
    unread.extend(c.text for c in conds if c.kind == "other")
    normal.other.extend(c.text for c in conds if c.kind not in _INTERFACE_KINDS)
    to_address, to_ports = nat_to if nat_to is not None else (None, None)
    return NatRule(
        chain=chain,
        target=target,
        source=normal.source,
        source_negated=normal.source_negated,
        out_interface=oif[0],
        out_negated=oif[1],
        text=text,
        in_interface=iif[0],
        in_negated=iif[1],
        other_matches=tuple(dict.fromkeys(normal.other)),
        destination=destination[0],
        destination_negated=destination[1],
        protocol=ports.protocol,
        dports=ports.dports,
        to_local=any(c.kind == "local" for c in conds),
        to_address=to_address,
        to_ports=to_ports,
        unread=tuple(dict.fromkeys(unread)),
    )


def expand(matches: Sequence[Alternatives]) -> Iterable[list[Cond]]:
    """Every conjunction the OR-of-ANDs matches of one rule stand for."""
    for combo in itertools.product(*matches):
        yield [cond for part in combo for cond in part]
