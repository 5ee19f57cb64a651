"""Which firewall rules were deleted while a probe ran: the rewrite that can fake a verdict.

Docker 20.10 deletes and re-inserts FORWARD's jump to DOCKER-ISOLATION-STAGE-1 on every network
create; while the jump is missing, a packet from one bridge to another meets the bridge's own
``-i br-X ! -o br-X -j ACCEPT`` first, and leaks. The rules before and after look the same, but
nf_tables gives every rule a handle that is never reused, so a rule deleted during the probe is
a handle present before and gone after, and a rule re-inserted is a handle that is new. The
jump can also be missing for longer than a probe (16 ms median, 76 ms at most, measured on
20.10 with one network created per 200 ms): then the reading itself shows a Docker chain that
nothing jumps to. All of it is read over netlink (about 1 to 6 ms for a dump of the ``ip``
family), writing nothing.

Rules that name only other interfaces (the bridges of other tests' networks) cannot decide a
packet between the probe's own interfaces, so they do not count. The legacy x_tables have no
handles: there, nothing is seen.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.main import NFTables

from ...addressing import IPAddress
from ...engine import labels
from ...engine.netns import dumped
from ...errors import PrivilegeError

NFPROTO_IPV4 = 2
NFPROTO_IPV6 = 10
_NFPROTO = {4: NFPROTO_IPV4, 6: NFPROTO_IPV6}
IPTABLES_TABLES = ("filter", "nat", "raw", "mangle")
"""Tables iptables writes; Docker's own nftables table jumps through verdict maps instead."""
BRIDGE_NAME = re.compile(rb"(br-[0-9a-f]{12}|dnr-[0-9a-f]{6}-[0-9]+|docker0)\x00")
"""Docker's bridge names as a rule's compare data holds them (NUL-terminated)."""
DOCKER_CHAIN = re.compile(rb"(DOCKER[-A-Z0-9_]*)\x00")
PLUGIN_NAME = re.compile(r"^dn-([0-9a-f]{8})-")
"""A Docker name the plugin gave (``labels.RunIdentity.docker_name``), with its run id."""


@dataclass(frozen=True)
class RuleRef:
    """One nf_tables rule of the ``ip`` family, by its handle, with its netlink message.

    Decoding a rule's expressions with pyroute2 costs about 0.6 ms a rule; the names a rule
    holds are found in its message bytes instead.
    """

    table: str
    chain: str
    handle: int
    raw: bytes = field(repr=False, compare=False)

    def names(self, pattern: re.Pattern[bytes]) -> set[str]:
        return {m.group(1).decode() for m in pattern.finditer(self.raw)}

    @property
    def bridges(self) -> set[str]:
        """The Docker bridges the rule matches on."""
        return self.names(BRIDGE_NAME)

    @property
    def jumps(self) -> set[str]:
        """The Docker chains it jumps or goes to."""
        return self.names(DOCKER_CHAIN) - {self.chain}

    def __str__(self) -> str:
        jumps = ", ".join(sorted(self.jumps))
        what = f"jump {jumps}" if jumps else "rule"
        on = f" on {', '.join(sorted(self.bridges))}" if self.bridges else ""
        return f"{self.table} {self.chain} handle {self.handle}: {what}{on}"


def rule_ref(msg: Any) -> RuleRef:
    """A RuleRef from one rule message of pyroute2's nf_tables dump."""
    raw = bytes(msg.data[msg.offset : msg.offset + msg["header"]["length"]])
    return RuleRef(
        table=msg.get_attr("NFTA_RULE_TABLE"),
        chain=msg.get_attr("NFTA_RULE_CHAIN"),
        handle=msg.get_attr("NFTA_RULE_HANDLE"),
        raw=raw,
    )


def rules(family: int = 4) -> dict[tuple[str, str, int], RuleRef]:
    """Every nf_tables rule of the ``ip`` family (``family=6``: ``ip6``, where ip6tables-nft
    writes) now, by (table, chain, handle)."""
    try:
        with NFTables(nfgen_family=_NFPROTO[family]) as nft:
            found = [rule_ref(msg) for msg in dumped(nft.get_rules)]
    except PermissionError as exc:
        raise PrivilegeError("reading nf_tables rules needs CAP_NET_ADMIN: run as root") from exc
    except NetlinkError as exc:
        if exc.code == errno.EPERM:
            raise PrivilegeError("reading nf_tables rules needs CAP_NET_ADMIN") from exc
        raise
    return {(r.table, r.chain, r.handle): r for r in found}


def orphaned(found: dict[tuple[str, str, int], RuleRef]) -> list[str]:
    """Docker's chains that hold rules but that no rule jumps to: Docker is between deleting
    and re-inserting a jump (20.10 does so on every network create), and packets skip them."""
    chains = {(r.table, r.chain) for r in found.values() if r.table in IPTABLES_TABLES}
    targets = {(r.table, jump) for r in found.values() for jump in r.jumps}
    return sorted(
        f"{table} {chain}"
        for table, chain in chains
        if chain.startswith("DOCKER") and (table, chain) not in targets
    )


@dataclass(frozen=True)
class Change:
    """One change seen around a probe: a rule deleted or added, or a Docker chain that nothing
    jumps to (then ``rule`` is None)."""

    text: str
    rule: RuleRef | None = None

    def __str__(self) -> str:
        return self.text


def changes_between(
    before: dict[tuple[str, str, int], RuleRef],
    after: dict[tuple[str, str, int], RuleRef],
    interfaces: Iterable[str],
    addresses: Iterable[IPAddress] = (),
) -> list[Change]:
    """What changed between two readings that could decide a packet on ``interfaces`` between
    ``addresses``.

    Rules deleted or added (a rule naming only other Docker bridges cannot decide such a
    packet), and Docker chains left without a jump at either reading, which the reading alone
    shows even when the gap spans the whole probe. Docker >= 28's raw table holds one rule per
    container address (``-d IP ... -j DROP``, and ``-d IP -i dnr-3fa9c1-+ -j ACCEPT`` for a
    trusted prefix, which names no whole bridge): a raw rule that holds none of the probe's
    addresses is another container's, written whenever another test starts one, and does not
    count.
    """
    ours = set(interfaces)
    packed = [address.packed for address in addresses]

    def relevant(rule: RuleRef) -> bool:
        named = rule.bridges
        if named:
            return bool(named & ours)
        if rule.table == "raw" and packed:
            return any(address in rule.raw for address in packed)
        return True

    found = [Change(f"deleted {r}", r) for k, r in before.items() if k not in after and relevant(r)]
    found += [Change(f"added {r}", r) for k, r in after.items() if k not in before and relevant(r)]
    for when, reading in (("before", before), ("after", after)):
        found += [
            Change(f"nothing jumps to {chain} ({when} the probe)") for chain in orphaned(reading)
        ]
    return found


def is_dockers(rule: RuleRef) -> bool:
    """The rule is recognisably Docker's: in a table iptables writes, in or jumping to a Docker
    chain, or naming a Docker bridge."""
    return rule.table in IPTABLES_TABLES and bool(
        rule.chain.startswith("DOCKER") or rule.jumps or rule.bridges
    )


@dataclass(frozen=True)
class NetworkEvent:
    """A network created or removed on the engine, from Docker's event log."""

    action: str
    """Docker's word: "create" or "destroy"."""
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Its labels, where it still existed when they were read."""

    def owner(self) -> str:
        """Who made the network, as far as its labels and name tell."""
        run = self.labels.get(labels.SESSION)
        if run is None:
            named = PLUGIN_NAME.match(self.name)
            run = named.group(1) if named else None
        if run is None:
            return "not made by pytest-dockernet: another program uses this engine"
        creator = ""
        if labels.PID in self.labels:
            creator = f" (pid {self.labels[labels.PID]} on {self.labels.get(labels.HOST, '?')})"
        return (
            f"made by pytest-dockernet run {run}{creator}, which does not take this machine's "
            "firewall lock: an older version of the plugin, or a run on another machine that "
            "shares this engine"
        )

    def __str__(self) -> str:
        done = "created" if self.action == "create" else "removed"
        return f"network {self.name} {done}: {self.owner()}"


def _timestamp(seconds: float) -> str:
    """Docker's ``since``/``until`` form, to the nanosecond."""
    whole = int(seconds)
    return f"{whole}.{int((seconds - whole) * 1e9):09d}"


def network_events(
    client: docker.DockerClient, since: float, until: float
) -> list[NetworkEvent] | None:
    """The networks created or removed on the engine between two times (``time.time()``),
    with the labels of those that still exist; None when Docker's event log cannot be read."""
    try:
        # types-docker allows whole seconds only; docker-py passes a string on, and Docker
        # reads its nanoseconds: a whole-second window would take in earlier creates.
        stream = client.api.events(  # type: ignore[call-overload]
            since=_timestamp(since),
            until=_timestamp(until),
            decode=True,
            filters={"type": "network", "event": ["create", "destroy"]},
        )
        events = list(stream)
    except docker.errors.DockerException:
        return None
    found = []
    for event in events:
        actor = event.get("Actor") or {}
        found.append(
            NetworkEvent(
                event.get("Action", ""),
                (actor.get("Attributes") or {}).get("name", str(actor.get("ID", ""))[:12]),
                _labels_of(client, str(actor.get("ID", ""))),
            )
        )
    return found


def _labels_of(client: docker.DockerClient, network_id: str) -> dict[str, str]:
    try:
        return dict(client.api.inspect_network(network_id).get("Labels") or {})
    except docker.errors.DockerException:
        return {}  # removed since


def sources(changes: Sequence[Change], events: Sequence[NetworkEvent] | None) -> list[str]:
    """Where the ``changes`` came from, one line each: the networks created or removed
    meanwhile (``events``, by whose they are), and rules that are not Docker's."""
    found = (
        ["Docker's event log could not be read, so the networks changed meanwhile are unknown"]
        if events is None
        else [str(event) for event in events]
    )
    found += [
        f"{change.rule} names no Docker chain or bridge: a program other than Docker changed "
        "the firewall (firewalld, iptables or nft run by a script), or it is Docker's rule for "
        "a published port"
        for change in changes
        if change.rule is not None and not is_dockers(change.rule)
    ]
    if not found:
        found.append(
            "no network was created or removed: Docker rewrote its rules for a container "
            "that publishes ports (on Docker >= 28: any container) started or removed by a "
            "process that does not take this machine's firewall lock"
        )
    return found
