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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_COUNTER_RE = re.compile(r"^\[(\d+):(\d+)\]\s+(.*)$")
_POLICY_RE = re.compile(r"^:(\S+)\s+(\S+)\s+\[(\d+):(\d+)\]$")
_DROPPING = ("DROP", "REJECT")


@dataclass(frozen=True)
class Counted:
    """One rule or built-in chain policy with its packet counter."""

    table: str
    """``raw``, ``filter``, ``nat``...; for nft ``"<family> <table>"``."""
    chain: str
    text: str
    """As the tool prints it, counters removed (``:FORWARD DROP`` for a policy)."""
    verdict: str
    """``DROP``, ``REJECT``, ``ACCEPT``, ``RETURN``, a chain jumped to, or ``""``."""
    packets: int
    bytes: int
    policy: bool = False

    @property
    def drops(self) -> bool:
        return self.verdict in _DROPPING


def _verdict(tokens: Sequence[str]) -> str:
    for flag, value in itertools.pairwise(tokens):
        if flag in ("-j", "--jump", "-g", "--goto"):
            return value.upper() if value.upper() in (*_DROPPING, "ACCEPT", "RETURN") else value
    return ""


def parse_iptables_counters(text: str) -> tuple[Counted, ...]:
    """The rules and built-in chain policies of every table in ``iptables-save -c`` output."""
    found: list[Counted] = []
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            policy = _POLICY_RE.match(line)
            if policy is None:
                raise ValueError(f"chain line without a [packets:bytes] counter: {line!r}")
            chain, verdict, packets, size = policy.groups()
            if verdict != "-":  # "-" marks a user chain, which has no policy
                found.append(
                    Counted(
                        table, chain, f":{chain} {verdict}", verdict, int(packets), int(size), True
                    )
                )
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
            found.append(Counted(table, tokens[1], bare, _verdict(tokens), int(packets), int(size)))
    return tuple(found)


def _nft_verdict(exprs: Iterable[dict[str, Any]]) -> str:
    for expr in exprs:
        for key in ("drop", "reject", "accept", "return"):
            if key in expr:
                return key.upper()
        for key in ("jump", "goto"):
            if key in expr:
                return str(expr[key].get("target", ""))
    return ""


def parse_nft_counters(json_text: str) -> tuple[Counted, ...]:
    """The rules holding a ``counter`` statement in ``nft -j list ruleset`` output (nft chain
    policies keep no counter)."""
    try:
        items = json.loads(json_text)["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not the JSON of `nft -j list ruleset`: {exc}") from None
    found: list[Counted] = []
    for item in items:
        rule = item.get("rule") if isinstance(item, dict) else None
        if not isinstance(rule, dict):
            continue
        exprs = [e for e in rule.get("expr", []) if isinstance(e, dict)]
        counter = next((e["counter"] for e in exprs if isinstance(e.get("counter"), dict)), None)
        if counter is None:
            continue
        table = f"{rule.get('family')} {rule.get('table')}"
        verdict = _nft_verdict(exprs)
        comment = f' comment "{rule["comment"]}"' if rule.get("comment") else ""
        text = (
            f"{table} {rule.get('chain')} handle {rule.get('handle')}: {verdict.lower()}{comment}"
        )
        found.append(
            Counted(
                table,
                str(rule.get("chain")),
                text,
                verdict,
                int(counter.get("packets", 0)),
                int(counter.get("bytes", 0)),
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class Drop:
    """A dropping rule whose counter grew while the probe ran."""

    rule: Counted
    packets: int
    meaning: str

    def __str__(self) -> str:
        what = f": {self.meaning}" if self.meaning else ""
        rule = self.rule
        return f"{rule.table} {rule.chain} `{rule.text}` (+{self.packets} packets){what}"


@dataclass(frozen=True)
class Attribution:
    """Which dropping rules grew during a probe that lost ``expected`` packets."""

    drops: tuple[Drop, ...]
    expected: int
    certain: bool

    def describe(self) -> str:
        if not self.drops:
            return (
                "no DROP/REJECT rule's counter grew: the packets were lost elsewhere (no route, "
                "no ARP answer, a peer that does not answer, or rules without counters)"
            )
        lines = [f"dropped by {drop}" for drop in self.drops]
        if not self.certain:
            grew = sum(drop.packets for drop in self.drops)
            lines.insert(
                0,
                f"attribution uncertain: the probe lost {self.expected} packets and these "
                f"counters grew by {grew}, so other traffic moved them too:",
            )
        return "\n".join(lines)


def _keyed(snapshot: Sequence[Counted]) -> dict[tuple[str, str, str, int], Counted]:
    seen: dict[tuple[str, str, str], int] = {}
    keyed = {}
    for item in snapshot:
        base = (item.table, item.chain, item.text)
        seen[base] = seen.get(base, 0) + 1
        keyed[(item.table, item.chain, item.text, seen[base])] = item
    return keyed


def attribute(before: Sequence[Counted], after: Sequence[Counted], lost: int) -> Attribution:
    """The dropping rules whose packet counters grew between `before` and `after`, for a probe
    that lost `lost` packets; certain when their growth is exactly `lost`."""
    if isinstance(lost, bool) or not isinstance(lost, int) or lost <= 0:
        raise ValueError(f"lost={lost!r}: a probe that lost no packets has nothing to attribute")
    earlier = _keyed(before)
    drops = []
    for key, now in _keyed(after).items():
        then = earlier.get(key)
        grew = now.packets - then.packets if then is not None else 0
        if now.drops and grew > 0:  # a counter that went down is a rule made again: ignored
            drops.append(Drop(now, grew, meaning(now)))
    total = sum(drop.packets for drop in drops)
    return Attribution(tuple(drops), lost, certain=bool(drops) and total == lost)


def _option(text: str, flag: str) -> str | None:
    tokens = text.split()
    for i, token in enumerate(tokens[:-1]):
        if token == flag and (i == 0 or tokens[i - 1] != "!"):
            return tokens[i + 1]
    return None


def _negated(text: str, flag: str) -> str | None:
    found = re.search(rf"! {re.escape(flag)} (\S+)", text)
    return found[1] if found else None


def meaning(rule: Counted) -> str:
    """What a Docker rule is, where known, with the option that changes it; else ""."""
    if not rule.drops:
        return ""
    chain, text = rule.chain, rule.text
    if (rule.table == "raw" and chain == "PREROUTING" and _negated(text, "-i")) or (
        "DROP DIRECT ACCESS" in text
    ):
        bridge = _negated(text, "-i")
        on = f" other than its bridge {bridge}" if bridge else " other than its bridge"
        return (
            f"Docker >= 28's protection against direct routing: a packet for a container "
            f"arrived on an interface{on}; allow it with the network option "
            "com.docker.network.bridge.trusted_host_interfaces (pytest-dockernet sets it unless "
            "routable=False) or gateway_mode_ipv4=nat-unprotected/routed"
        )
    if chain.startswith("DOCKER-ISOLATION"):
        return (
            "Docker's isolation between bridge networks: traffic the host forwards from one "
            "bridge network to another is dropped; connect a container to both networks, or "
            "route through a router container"
        )
    if rule.policy and chain == "FORWARD":
        return "the FORWARD chain's DROP policy (Docker sets it): no rule accepted this packet"
    inside = _option(text, "-o")
    if chain == "DOCKER" and inside and _negated(text, "-i") == inside:
        return (
            f"Docker >= 28 drops packets into bridge {inside} that no published port or rule "
            "accepted"
        )
    if chain == "DOCKER-INTERNAL" or "internal" in text.lower():
        return "an --internal network's isolation: its containers reach nothing outside it"
    return ""
