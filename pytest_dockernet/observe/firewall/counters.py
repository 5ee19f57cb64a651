"""Which firewall rule dropped a probe, from the packet counters read before and after it.

Every iptables rule and built-in chain policy counts the packets it decided
(``iptables-save -c``), and so does every nft rule holding a ``counter`` statement (Docker 29's
native table). Reading them is read-only: no trace or LOG rule is added. A rule is matched
between two readings by table, chain, text and its occurrence among equal texts, never by
position, so rules inserted in between do not shift the comparison.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .bridged import bridged_frames_filtered
from .nftables import nft_statement  # one rendering of a rule, shared with the nat parser

_COUNTER_RE = re.compile(r"^\[(\d+):(\d+)\]\s+(.*)$")
_POLICY_RE = re.compile(r"^:(\S+)\s+(\S+)\s+\[(\d+):(\d+)\]$")
_DROPPING = ("DROP", "REJECT")
_BUILT_IN = (*_DROPPING, "ACCEPT", "RETURN")
_JUMP_FLAGS = ("-j", "--jump", "-g", "--goto")
_NFT_VERDICTS = ("drop", "reject", "accept", "return", "masquerade", "snat", "dnat", "redirect")
_NFT_IIF_NOT_RE = re.compile(r'iifname != "([^"]+)"')
_ELSEWHERE = "(no route, no ARP answer, a host outside the firewall, or rules without counters)"


@dataclass(frozen=True)
class Counted:
    """One rule or built-in chain policy with its packet counter."""

    table: str
    """``raw``, ``filter``, ``nat``...; for nft ``"<family> <table>"``."""
    chain: str
    text: str
    """As the tool prints it, counters removed (``:FORWARD DROP`` for a policy); for nft
    ``"<family> <table> <chain> handle <N>: <the rule as nft lists it>"``."""
    verdict: str
    """``DROP``, ``REJECT``, ``ACCEPT``, ``RETURN``, ``MASQUERADE``..., a chain, or ``""``."""
    packets: int
    bytes: int
    policy: bool = False

    @property
    def drops(self) -> bool:
        """Whether what this rule (or policy) counts is thrown away."""
        return self.verdict in _DROPPING


def parse_iptables_counters(text: str) -> tuple[Counted, ...]:
    """The rules and built-in chain policies of every table in ``iptables-save -c`` output
    (either variant). Raises ``ValueError`` naming a line whose counter is missing or malformed.
    """
    found: list[Counted] = []
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            chain_line = _POLICY_RE.match(line)
            if chain_line is None:
                raise ValueError(f"chain line without a [packets:bytes] counter: {line!r}")
            chain, policy, packets, size = chain_line.groups()
            if policy != "-":  # "-" marks a user chain, which has no policy
                shown = f":{chain} {policy}"
                found.append(Counted(table, chain, shown, policy, int(packets), int(size), True))
        else:
            rule = _COUNTER_RE.match(line)
            if rule is None:
                raise ValueError(f"rule line without a [packets:bytes] counter: {line!r}")
            packets, size, bare = rule.groups()
            try:
                tokens = shlex.split(bare)
            except ValueError as exc:
                raise ValueError(f"cannot split iptables rule {line!r}: {exc}") from None
            if len(tokens) < 2 or tokens[0] not in ("-A", "--append"):
                raise ValueError(f"rule line without -A CHAIN: {line!r}")
            jump = next((v for f, v in itertools.pairwise(tokens) if f in _JUMP_FLAGS), "")
            verdict = jump.upper() if jump.upper() in _BUILT_IN else jump  # else a chain's name
            found.append(Counted(table, tokens[1], bare, verdict, int(packets), int(size)))
    return tuple(found)


def _nft_rule(rule: Mapping[str, Any], exprs: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The rule's text (where it is, then as ``nft list`` prints it) and its verdict."""
    parts, verdicts = [], []
    for expr in exprs:
        try:
            parts.append(nft_statement(expr))
        except (KeyError, TypeError, ValueError, AttributeError):  # not a statement it knows
            parts.append(json.dumps(expr, separators=(",", ":")))
        for key, body in expr.items():
            if key in _NFT_VERDICTS:
                verdicts.append(key.upper())
            elif key in ("jump", "goto") and isinstance(body, Mapping):
                verdicts.append(str(body.get("target", "")))
    if rule.get("comment"):
        parts.append(f'comment "{rule["comment"]}"')
    where = f"{rule.get('family')} {rule.get('table')} {rule.get('chain')}"
    return f"{where} handle {rule.get('handle')}: {' '.join(parts)}", "".join(verdicts[:1])


def parse_nft_counters(json_text: str) -> tuple[Counted, ...]:
    """The rules holding a ``counter`` statement in ``nft -j list ruleset`` output, every table
    (nft chain policies keep no counter). Raises ``ValueError`` for text that is not nft JSON."""
    try:
        items = json.loads(json_text)["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not `nft -j list ruleset` output ({exc}): {json_text[:200]!r}") from None
    found: list[Counted] = []
    for item in items:
        rule = item.get("rule") if isinstance(item, Mapping) else None
        if not isinstance(rule, Mapping):
            continue
        exprs = [e for e in rule.get("expr", []) if isinstance(e, Mapping) and e]
        counter = next((e["counter"] for e in exprs if isinstance(e.get("counter"), Mapping)), None)
        if counter is None:  # no counter, or a named one (shared by rules: says nothing of this)
            continue
        table, chain = f"{rule.get('family')} {rule.get('table')}", str(rule.get("chain"))
        packets, size = int(counter.get("packets", 0)), int(counter.get("bytes", 0))
        found.append(Counted(table, chain, *_nft_rule(rule, exprs), packets, size))
    return tuple(found)


@dataclass(frozen=True)
class Drop:
    """A dropping rule whose counter grew while the probe ran."""

    rule: Counted
    packets: int
    """How much its packet counter grew."""
    meaning: str
    """What the rule is (see :func:`meaning`), or ``""``."""

    def __str__(self) -> str:
        where = f"{self.rule.table} {self.rule.chain} `{self.rule.text}`"
        return f"{where} (+{self.packets} packets){': ' if self.meaning else ''}{self.meaning}"


@dataclass(frozen=True)
class Attribution:
    """Which dropping rules grew during a probe that lost ``expected`` packets."""

    drops: tuple[Drop, ...]
    expected: int
    certain: bool
    """The drops' growth is exactly the probe's loss: nothing else moved those counters."""

    def describe(self) -> str:
        """Lines for a failure message."""
        if not self.drops:
            return (
                f"no DROP/REJECT rule's counter grew: the packets were lost elsewhere {_ELSEWHERE}"
            )
        lines = [f"dropped by {drop}" for drop in self.drops]
        grew = sum(drop.packets for drop in self.drops)
        if grew > self.expected:
            lines.insert(
                0,
                "attribution uncertain: other traffic moved these counters too "
                f"(+{grew} packets for {self.expected} lost):",
            )
        elif grew < self.expected:
            lines.append(
                f"attribution uncertain: these counters account for {grew} of the "
                f"{self.expected} lost packets; the rest were lost elsewhere {_ELSEWHERE}"
            )
        return "\n".join(lines)


def _keyed(snapshot: Sequence[Counted]) -> dict[tuple[str, str, str, int], Counted]:
    seen: Counter[tuple[str, str, str]] = Counter()
    keyed = {}
    for item in snapshot:
        seen[item.table, item.chain, item.text] += 1
        keyed[item.table, item.chain, item.text, seen[item.table, item.chain, item.text]] = item
    return keyed


def attribute(before: Sequence[Counted], after: Sequence[Counted], lost: int) -> Attribution:
    """The dropping rules whose packet counters grew between `before` and `after`, for a probe
    that lost `lost` packets; certain when their growth is exactly `lost`. A rule found in only
    one reading, or whose counter went down (it was made again), is left out."""
    if isinstance(lost, bool) or not isinstance(lost, int) or lost <= 0:
        raise ValueError(f"lost={lost!r}: a probe that lost no packets has nothing to attribute")
    earlier = _keyed(before)
    drops = []
    for key, now in _keyed(after).items():
        then = earlier.get(key)
        grew = now.packets - then.packets if then is not None else 0
        if now.drops and grew > 0:
            drops.append(Drop(now, grew, meaning(now)))
    total = sum(drop.packets for drop in drops)
    return Attribution(tuple(drops), lost, certain=bool(drops) and total == lost)


def _option(text: str, flag: str, negated: bool = False) -> str:
    """The value of `flag` in an iptables rule, with ``!`` before it or not; else ""."""
    tokens = text.split()
    for i, token in enumerate(tokens[:-1]):
        if token == flag and (i > 0 and tokens[i - 1] == "!") == negated:
            return tokens[i + 1]
    return ""


def direct_routing_meaning(bridge: str, filtered: bool, family: int = 4) -> str:
    """What Docker >= 28's drop of a packet that reached a container from a foreign interface
    means on this host, and what a user writes in their own configuration to allow it.

    E.g. ``direct_routing_meaning("br-1a2b3c4d5e6f", True)`` names the bridge, says that bridged
    frames pass the firewall here, and gives the network options and compose keys that help;
    ``family=6`` names the IPv6 sysctl and gateway mode.
    """
    sysctl = (
        "net.bridge.bridge-nf-call-iptables"
        if family == 4
        else ("net.bridge.bridge-nf-call-ip6tables")
    )
    host = (
        f"on this host bridged frames pass the firewall ({sysctl}=1), "
        "so a router container's packets, bridged to it from another bridge, meet this rule "
        "even with a return route"
        if filtered
        else f"on this host bridged frames skip the firewall ({sysctl} "
        "is not 1), so the packet was routed by the host itself: a route through the host, "
        "not through a router container"
    )
    return (
        "Docker >= 28's protection against direct routing: a packet for a container arrived on "
        f"an interface other than its bridge{f' {bridge}' if bridge else ''}; {host}. To let "
        "it through, name the interfaces it comes from in the destination network's option "
        "com.docker.network.bridge.trusted_host_interfaces (compose: networks: NAME: "
        "driver_opts:; pytest-dockernet: network(routable=True) between a DockerNet's own "
        f"networks), or set com.docker.network.bridge.gateway_mode_ipv{family}=nat-unprotected "
        "(or routed); on a host where bridged frames need not be filtered, "
        f"sysctl {sysctl}=0 with a return route via the router"
    )


def meaning(rule: Counted) -> str:
    """What Docker rule this is, where known, with the option that changes it; else ""."""
    if not rule.drops:
        return ""
    chain, text = rule.chain, rule.text
    to = _option(text, "-d")
    family = 6 if ":" in to or "ip6 daddr" in text else 4
    direct = rule.table == "raw" and chain == "PREROUTING" and to.endswith(("/32", "/128"))
    if (direct and _option(text, "-i", negated=True)) or "DROP DIRECT ACCESS" in text:
        nft_bridge = _NFT_IIF_NOT_RE.search(text)
        bridge = _option(text, "-i", negated=True) or (nft_bridge[1] if nft_bridge else "")
        return direct_routing_meaning(bridge, bridged_frames_filtered(family), family)
    subnet = _option(text, "-s", negated=True) or _option(text, "-d", negated=True)
    bridge = _option(text, "-o") or _option(text, "-i")
    if chain == "DOCKER-INTERNAL" or (chain == "DOCKER-ISOLATION-STAGE-1" and subnet and bridge):
        where = f" (bridge {bridge}, subnet {subnet})" if subnet and bridge else ""
        return (
            f"an --internal network's isolation{where}: no packet passes between its subnet and "
            "other addresses; create the network without internal=True to route it"
        )
    if chain.startswith("DOCKER-ISOLATION-STAGE"):
        return (
            "Docker's isolation between bridge networks: traffic the host forwards from one "
            "bridge network to another is dropped; connect a container to both networks, or "
            "route through a router container"
        )
    if rule.policy and chain == "FORWARD":
        return (
            "the FORWARD chain's DROP policy (Docker sets it): no rule accepted this forwarded "
            "packet"
        )
    into = ""
    if chain == "DOCKER" and _option(text, "-i", negated=True) == _option(text, "-o"):
        into = _option(text, "-o")  # Docker >= 28: `! -i BRIDGE -o BRIDGE -j DROP`
    elif "UNPUBLISHED PORT DROP" in text:  # its nft form, in chain filter-forward-in__BRIDGE
        into = chain.removeprefix("filter-forward-in__")
    if into:
        return (
            f"Docker >= 28 drops packets into bridge {into} that no published port or rule accepted"
        )
    return ""
