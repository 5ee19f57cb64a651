"""Conditions shared by both parsers: what a rule matches, as alternatives of conditions on
source, in-interface and out-interface, folded into one :class:`~.rules.NatRule` per
combination that can hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from .rules import NatRule, ifname_matches, is_wildcard


@dataclass(frozen=True)
class Cond:
    """One condition of a rule: kind "saddr" / "iif" / "oif" with one value, or "other"."""

    kind: str
    negated: bool
    value: IPv4Network | str
    text: str


Alternatives = list[list[Cond]]
"""A parsed match: any one inner list (all of its conditions) satisfies it."""


@dataclass
class _Normal:
    source: IPv4Network | None = None
    source_negated: bool = False
    in_interface: str | None = None
    in_negated: bool = False
    out_interface: str | None = None
    out_negated: bool = False
    other: list[str] = field(default_factory=list)


def _normalise_source(conds: Sequence[Cond], normal: _Normal) -> bool:
    """Fold the saddr conditions into one network; False when they can never all hold."""
    positive = [c for c in conds if not c.negated]
    negative = [c for c in conds if c.negated]
    net: IPv4Network | None = None
    for cond in positive:
        assert isinstance(cond.value, IPv4Network)
        if net is None or cond.value.subnet_of(net):
            net = cond.value
        elif not net.subnet_of(cond.value):
            return False  # disjoint sources
    if net is not None:
        for cond in negative:
            assert isinstance(cond.value, IPv4Network)
            if not cond.value.overlaps(net):
                continue  # excludes nothing of net
            if net.subnet_of(cond.value):
                return False  # excludes all of net
            normal.other.append(cond.text)  # excludes part of net: narrows the rule
        normal.source = net
        return True
    if negative:
        first = negative[0]
        assert isinstance(first.value, IPv4Network)
        normal.source, normal.source_negated = first.value, True
        normal.other.extend(cond.text for cond in negative[1:])
    return True


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


def build_rule(chain: str, target: str, text: str, conds: Sequence[Cond]) -> NatRule | None:
    """A NatRule from a conjunction of conditions; None when they contradict each other."""
    normal = _Normal()
    if not _normalise_source([c for c in conds if c.kind == "saddr"], normal):
        return None
    iif = _normalise_ifname([c for c in conds if c.kind == "iif"], normal.other)
    oif = _normalise_ifname([c for c in conds if c.kind == "oif"], normal.other)
    if iif is None or oif is None:
        return None
    normal.other.extend(c.text for c in conds if c.kind == "other")
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
    )


def expand(matches: Sequence[Alternatives]) -> Iterable[list[Cond]]:
    """Every conjunction the OR-of-ANDs matches of one rule stand for."""
    for combo in itertools.product(*matches):
        yield [cond for part in combo for cond in part]
