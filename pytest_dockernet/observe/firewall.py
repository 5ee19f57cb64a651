"""The host's nat rules as Docker wrote them, read by meaning rather than by string.

Docker asks for NAT on a bridge network with one rule, "masquerade what comes from the subnet and
leaves by any interface but the bridge". How that rule looks depends on the firewall backend:

* iptables (nf_tables or legacy variant): ``-A POSTROUTING -s SUBNET ! -o BRIDGE -j MASQUERADE``
  in ``iptables-save -t nat``. Both variants print the same text, so one parser serves both, as
  long as the *matching* ``*-save`` binary is run (each sees only its own kernel tables).
* Docker's native nftables backend (table ``ip docker-bridges``): base chain ``nat-POSTROUTING``
  holds ``iifname vmap @nat-postrouting-out-jumps``; the map sends each bridge to its own chain
  ``nat-postrouting-out__BRIDGE`` holding ``oifname != BRIDGE ip saddr SUBNET masquerade``. The
  rule's meaning depends on the path that reaches it, so :func:`parse_nft_json` walks the chains
  from the nat base chains and gives every rule the conditions of the rules that jumped to it.

Both parsers produce :class:`NatRule` values, and :meth:`NatRule.masquerades` answers the question
the same way for either. python-iptables (``iptc``) is deliberately not used: it reads only the
legacy tables and sees empty chains under nf_tables.
"""

from __future__ import annotations

import enum
import ipaddress
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from ..errors import DockernetError, PrivilegeError

__all__ = [
    "Backend",
    "FirewallReadError",
    "NatRule",
    "NatTable",
    "detect_backend",
    "format_rules",
    "parse_iptables_save",
    "parse_nft_json",
    "read_nat_table",
]

NFT_TABLE = ("ip", "docker-bridges")
"""Family and name of the table Docker's nftables backend writes IPv4 bridge rules to."""

_TIMEOUT = 30.0
_PRIVILEGE_FIX = "reading the firewall needs root or CAP_NET_ADMIN: run pytest as root / with sudo"
_PERMISSION_MARKERS = ("permission denied", "operation not permitted", "you must be root")


class FirewallReadError(DockernetError):
    """The host's nat rules could not be read (tool missing, failed, or printed nonsense)."""


class Backend(str, enum.Enum):
    """Which firewall Docker writes its bridge rules to; decides which tool reads them back."""

    IPTABLES_NFT = "iptables-nft"
    """iptables 1.8 nf_tables variant: iptables syntax, kernel nf_tables underneath."""
    IPTABLES_LEGACY = "iptables-legacy"
    """The x_tables kernel tables (iptables-legacy, or iptables before 1.8)."""
    NFTABLES = "nftables"
    """Docker's native nftables backend (``--firewall-backend=nftables``, experimental since
    Docker 29.0; rules in table ``ip docker-bridges``)."""


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
    """

    chain: str
    target: str
    source: IPv4Network | None
    source_negated: bool
    out_interface: str | None
    out_negated: bool
    text: str
    in_interface: str | None = None
    in_negated: bool = False
    other_matches: tuple[str, ...] = ()

    def masquerades(self, subnet: IPv4Network, bridge: str) -> bool:
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
          not overlap the subnet;
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
            _ifname_matches(self.in_interface, bridge) == self.in_negated
        ):
            return False
        return _source_covers(self.source, self.source_negated, subnet)

    def mentions(self, subnet: IPv4Network, bridge: str) -> bool:
        """True when the rule's source overlaps `subnet` or one of its interfaces is `bridge`."""
        if self.source is not None and self.source.overlaps(subnet):
            return True
        return any(
            name is not None and _ifname_matches(name, bridge)
            for name in (self.in_interface, self.out_interface)
        )


@dataclass(frozen=True)
class NatTable:
    """All nat rules of the backend Docker uses, with where they were read from."""

    backend: Backend
    rules: tuple[NatRule, ...]
    source: str
    """How the rules were read, e.g. ``iptables-save -t nat (nf_tables)``."""
    note: str = ""
    """Anything a failure message should add, e.g. that the other iptables variant has rules."""

    def masquerade_rules(self, subnet: IPv4Network, bridge: str) -> tuple[NatRule, ...]:
        """The rules that masquerade `subnet` behind `bridge` (see :meth:`NatRule.masquerades`)."""
        return tuple(rule for rule in self.rules if rule.masquerades(subnet, bridge))

    def rules_mentioning(self, subnet: IPv4Network, bridge: str) -> tuple[NatRule, ...]:
        """Rules whose source overlaps `subnet` or whose interface is `bridge`: what a failure
        message should show next to "no masquerade rule found"."""
        return tuple(rule for rule in self.rules if rule.mentions(subnet, bridge))


def format_rules(rules: Iterable[NatRule]) -> str:
    """Rules one per line, indented, for failure messages."""
    return "\n".join(f"    [{rule.chain}] {rule.text}" for rule in rules) or "    (no rules)"


# ---------------------------------------------------------------------------------------------
# Conditions shared by both parsers


@dataclass(frozen=True)
class _Cond:
    """One condition of a rule: kind "saddr" / "iif" / "oif" with one value, or "other"."""

    kind: str
    negated: bool
    value: IPv4Network | str
    text: str


_Alternatives = list[list[_Cond]]
"""A parsed match: any one inner list (all of its conditions) satisfies it."""


def _source_covers(source: IPv4Network | None, negated: bool, subnet: IPv4Network) -> bool:
    if source is None:
        return True
    if negated:
        return not subnet.overlaps(source)
    return subnet.subnet_of(source)


def _is_wildcard(name: str) -> bool:
    # iptables writes a trailing "+", nft a trailing "*".
    return name.endswith(("+", "*"))


def _ifname_matches(pattern: str, name: str) -> bool:
    if _is_wildcard(pattern):
        return name.startswith(pattern[:-1])
    return pattern == name


@dataclass
class _Normal:
    source: IPv4Network | None = None
    source_negated: bool = False
    in_interface: str | None = None
    in_negated: bool = False
    out_interface: str | None = None
    out_negated: bool = False
    other: list[str] = field(default_factory=list)


def _normalise_source(conds: Sequence[_Cond], normal: _Normal) -> bool:
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


def _normalise_ifname(conds: Sequence[_Cond], other: list[str]) -> tuple[str | None, bool] | None:
    """Fold interface conditions into one (name, negated); None when they can never all hold."""
    positive = [c for c in conds if not c.negated]
    negative = [c for c in conds if c.negated]
    name: str | None = None
    for cond in positive:
        assert isinstance(cond.value, str)
        if name is None:
            name = cond.value
        elif cond.value != name:
            if not (_is_wildcard(name) or _is_wildcard(cond.value)):
                return None  # two different interfaces
            other.append(cond.text)
    if name is not None:
        for cond in negative:
            assert isinstance(cond.value, str)
            if not _is_wildcard(name) and _ifname_matches(cond.value, name):
                return None
            if _is_wildcard(name) or _is_wildcard(cond.value):
                other.append(cond.text)
        return name, False
    if negative:
        first = negative[0]
        assert isinstance(first.value, str)
        other.extend(cond.text for cond in negative[1:])
        return first.value, True
    return None, False


def _build_rule(chain: str, target: str, text: str, conds: Sequence[_Cond]) -> NatRule | None:
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


def _expand(matches: Sequence[_Alternatives]) -> Iterable[list[_Cond]]:
    """Every conjunction the OR-of-ANDs matches of one rule stand for."""
    for combo in itertools.product(*matches):
        yield [cond for part in combo for cond in part]


# ---------------------------------------------------------------------------------------------
# iptables-save

_COUNTERS_RE = re.compile(r"^\[\d+:\d+\]\s+")
_OPT_SOURCE = {"-s", "--source", "--src"}
_OPT_DEST = {"-d", "--destination", "--dst"}
_OPT_IN = {"-i", "--in-interface"}
_OPT_OUT = {"-o", "--out-interface"}
_OPT_PROTO = {"-p", "--protocol"}
_OPT_MATCH = {"-m", "--match"}
_OPT_TARGET = {"-j", "--jump", "-g", "--goto"}
_OPT_CORE = _OPT_SOURCE | _OPT_DEST | _OPT_IN | _OPT_OUT | _OPT_PROTO | _OPT_MATCH | _OPT_TARGET
_OPT_CORE |= {"-A", "--append", "-c", "--set-counters", "-f", "--fragment"}


_PLAIN_TOKEN_RE = re.compile(r"[\w@%+=:,./!-]+")


def _join(tokens: Sequence[str]) -> str:
    """Tokens back into iptables-save form: quoted only where the shell would need it."""
    return " ".join(t if _PLAIN_TOKEN_RE.fullmatch(t) else shlex.quote(t) for t in tokens)


def _ipt_network(value: str) -> IPv4Network:
    return IPv4Network(value, strict=False)  # "10.0.0.1" is /32; "/255.255.0.0" masks accepted


def _starts_option(tokens: Sequence[str], i: int) -> bool:
    """Whether tokens[i] begins a new core option (possibly negated)."""
    token = tokens[i]
    if token == "!":
        return i + 1 < len(tokens) and tokens[i + 1] in _OPT_CORE
    return token in _OPT_CORE


def _parse_ipt_rule(line: str, shown: str) -> list[NatRule]:
    """The rule `line` (counters removed) means; `shown` is the line as printed."""
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"cannot split iptables rule {line!r}: {exc}") from None
    chain = ""
    target = ""
    matches: list[_Alternatives] = []
    i, negated = 0, False
    while i < len(tokens):
        token = tokens[i]
        value = tokens[i + 1] if i + 1 < len(tokens) else ""
        bang = "! " if negated else ""
        if token == "!":
            negated = True
            i += 1
            continue
        if token in ("-A", "--append"):
            chain, i = value, i + 2
        elif token in ("-c", "--set-counters"):
            i += 3
        elif token in _OPT_TARGET:
            target = value
            break  # everything after the target is the target's own options
        elif token in _OPT_SOURCE:
            text = f"{bang}-s {value}"
            try:
                nets = [_ipt_network(part) for part in value.split(",")]
            except ValueError:
                matches.append([[_Cond("other", negated, text, text)]])
            else:
                conds = [_Cond("saddr", negated, net, text) for net in nets]
                # a list means "any of" (iptables-save prints one per rule, but accept it)
                matches.append([[c] for c in conds] if not negated else [conds])
            i += 2
        elif token in _OPT_IN or token in _OPT_OUT:
            kind = "iif" if token in _OPT_IN else "oif"
            flag = "-i" if kind == "iif" else "-o"
            matches.append([[_Cond(kind, negated, value, f"{bang}{flag} {value}")]])
            i += 2
        elif token in _OPT_PROTO:
            if negated or value.lower() not in ("all", "0"):
                matches.append([[_Cond("other", negated, value, f"{bang}-p {value}")]])
            i += 2
        elif token in _OPT_DEST:
            matches.append([[_Cond("other", negated, value, f"{bang}-d {value}")]])
            i += 2
        elif token in _OPT_MATCH:
            j = i + 2
            while j < len(tokens) and not _starts_option(tokens, j):
                j += 1
            if value != "comment":  # a comment never narrows a rule
                text = _join(tokens[i:j])
                matches.append([[_Cond("other", False, text, text)]])
            i = j
        else:
            # an option this parser does not know: keep it (and its values) as a narrowing match
            j = i + 1
            while j < len(tokens) and not _starts_option(tokens, j) and tokens[j] != "!":
                j += 1
            text = bang + _join(tokens[i:j])
            matches.append([[_Cond("other", negated, text, text)]])
            i = j
        negated = False
    if not chain:
        raise ValueError(f"iptables rule without -A CHAIN: {line!r}")
    rules = []
    for conds in _expand(matches):
        rule = _build_rule(chain, target, shown, conds)
        if rule is not None:
            rules.append(rule)
    return rules


def parse_iptables_save(text: str) -> tuple[NatRule, ...]:
    """The rules (``-A`` lines, every chain) of the ``*nat`` table in `text`, the output of
    ``iptables-save``/``iptables-legacy-save``/``iptables-nft-save`` with or without ``-c``.

    Other tables, comments, chain declarations and ``COMMIT`` are skipped. Raises
    ``ValueError`` for a rule line it cannot split.
    """
    rules: list[NatRule] = []
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if line == "COMMIT":
            table = ""
            continue
        if table != "nat":
            continue
        bare = _COUNTERS_RE.sub("", line, count=1)  # "[8:480] -A ..." as printed by -c
        if bare.startswith(("-A ", "--append ")):
            rules.extend(_parse_ipt_rule(bare, shown=line))
    return tuple(rules)


# ---------------------------------------------------------------------------------------------
# nft -j

_NAT_STATEMENTS = {"masquerade", "snat", "dnat", "redirect"}
_VERDICTS = {"accept", "drop", "return", "continue", "queue", "reject"}
_JUMPS = {"jump", "goto"}
_SILENT_STATEMENTS = {"counter", "log", "mangle", "comment"}
"""Statements that neither narrow a rule nor decide its verdict."""
_IFNAME_KEYS = {"iifname": "iif", "iif": "iif", "oifname": "oif", "oif": "oif"}


def _nft_operand(expr: object) -> str:
    if isinstance(expr, Mapping):
        if "meta" in expr:
            return str(expr["meta"].get("key", "meta"))
        if "payload" in expr and "field" in expr["payload"]:
            return f"{expr['payload'].get('protocol', '')} {expr['payload']['field']}".strip()
        if "fib" in expr:
            flags = " ".join(expr["fib"].get("flags", []))
            return f"fib {flags} {expr['fib'].get('result', '')}".strip()
        if "ct" in expr:
            return f"ct {expr['ct'].get('key', '')}".strip()
    return _nft_value(expr)


def _nft_value(value: object, quote: bool = False) -> str:
    if isinstance(value, str):
        return f'"{value}"' if quote and not value.startswith("@") else value
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[1], Mapping) and _verdict_of(value[1]):
            return f"{_nft_value(value[0], quote)} : {_nft_statement(value[1])}"
        return ",".join(_nft_value(item, quote) for item in value)
    if isinstance(value, Mapping):
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            low, high = value["range"]
            return f"{_nft_value(low)}-{_nft_value(high)}"
        if "set" in value:
            items = value["set"] if isinstance(value["set"], list) else [value["set"]]
            return "{ " + ", ".join(_nft_value(item, quote) for item in items) + " }"
        if "elem" in value:
            return _nft_value(value["elem"].get("val"), quote)
        if any(key in value for key in ("meta", "payload", "fib", "ct")):
            return _nft_operand(value)
    return json.dumps(value, separators=(",", ":"))


def _verdict_of(stmt: Mapping[str, Any]) -> str:
    for key in stmt:
        if key in _VERDICTS or key in _JUMPS:
            return str(key)
    return ""


def _nft_statement(stmt: Mapping[str, Any]) -> str:
    """One expression of a rule as ``nft list`` would print it (near enough for messages)."""
    (key, body), *_ = stmt.items()
    if key == "match":
        left = body["left"]
        quote = isinstance(left, Mapping) and left.get("meta", {}).get("key") in _IFNAME_KEYS
        op = "" if body["op"] in ("==", "in") else f"{body['op']} "
        return f"{_nft_operand(left)} {op}{_nft_value(body['right'], quote)}"
    if key in _JUMPS:
        return f"{key} {body['target']}"
    if key == "vmap":
        quote = _IFNAME_KEYS.get(body["key"].get("meta", {}).get("key", "")) is not None
        return f"{_nft_operand(body['key'])} vmap {_nft_value(body['data'], quote)}"
    if key in ("snat", "dnat") and isinstance(body, Mapping) and "addr" in body:
        port = f":{_nft_value(body['port'])}" if "port" in body else ""
        return f"{key} to {_nft_value(body['addr'])}{port}"
    if key == "counter" or (body is None and (key in _VERDICTS or key in _NAT_STATEMENTS)):
        return str(key)
    return f"{key} {_nft_value(body)}"


def _nft_elements(value: object, sets: Mapping[str, Sequence[object]]) -> list[object] | None:
    """The elements a match's right side stands for; None when it is a single value."""
    if isinstance(value, str) and value.startswith("@"):
        return list(sets.get(value[1:], []))
    if isinstance(value, Mapping) and "set" in value:
        items = value["set"]
        return list(items) if isinstance(items, list) else [items]
    return None


def _nft_networks(value: object) -> list[IPv4Network]:
    if isinstance(value, Mapping) and "elem" in value:
        value = value["elem"].get("val")
    if isinstance(value, str):
        return [IPv4Network(value, strict=False)]
    if isinstance(value, Mapping) and "prefix" in value:
        prefix = value["prefix"]
        return [IPv4Network(f"{prefix['addr']}/{prefix['len']}", strict=False)]
    if isinstance(value, Mapping) and "range" in value:
        low, high = (ipaddress.IPv4Address(str(end)) for end in value["range"])
        return list(ipaddress.summarize_address_range(low, high))
    raise ValueError(f"not an IPv4 address, prefix or range: {value!r}")


def _nft_match(
    left: object, op: str, right: object, text: str, sets: Mapping[str, Sequence[object]]
) -> _Alternatives:
    """A match expression as alternatives of conditions on saddr, iif, oif or "other"."""
    kind = "other"
    if isinstance(left, Mapping):
        if "meta" in left:
            kind = _IFNAME_KEYS.get(left["meta"].get("key", ""), "other")
        elif left.get("payload", {}).get("protocol") == "ip" and (
            left["payload"].get("field") == "saddr"
        ):
            kind = "saddr"
    if kind == "other" or op not in ("==", "!=", "in"):
        return [[_Cond("other", op == "!=", text, text)]]
    negated = op == "!="
    elements = _nft_elements(right, sets)
    values: list[IPv4Network | str] = []
    try:
        for item in [right] if elements is None else elements:
            if kind == "saddr":
                values.extend(_nft_networks(item))
            else:
                if isinstance(item, Mapping) and "elem" in item:
                    item = item["elem"].get("val")
                if not isinstance(item, str):
                    raise ValueError(f"not an interface name: {item!r}")
                values.append(item)
    except ValueError:
        return [[_Cond("other", negated, text, text)]]
    if not values:  # an empty set matches nothing (==) or everything (!=)
        return [] if not negated else [[]]
    if kind == "saddr":
        shown = [f"ip saddr {'!= ' if negated else ''}{v}" for v in values]
    else:
        shown = [f'{kind}name {"!= " if negated else ""}"{v}"' for v in values]
    conds = [_Cond(kind, negated, v, s) for v, s in zip(values, shown, strict=True)]
    # x in {a, b} is "a or b"; x not in {a, b} is "not a and not b"
    return [conds] if negated else [[c] for c in conds]


@dataclass(frozen=True)
class _Branch:
    """One way a rule ends: its verdict, the chain it jumps to, and the conditions that pick it."""

    target: str
    jump_to: str | None
    conds: _Alternatives
    shown: str


@dataclass(frozen=True)
class _NftRule:
    text: str
    matches: tuple[_Alternatives, ...]
    branches: tuple[_Branch, ...]


def _nft_rule(rule: Mapping[str, Any], maps: Mapping[str, Sequence[object]]) -> _NftRule:
    exprs: list[Mapping[str, Any]] = list(rule.get("expr", []))
    parts = [_nft_statement(expr) for expr in exprs]
    if rule.get("comment"):
        parts.append(f'comment "{rule["comment"]}"')
    text = " ".join(parts)
    matches: list[_Alternatives] = []
    branches: list[_Branch] = []
    for expr, shown in zip(exprs, parts, strict=False):
        (key, body), *_ = expr.items()
        if key == "match":
            matches.append(_nft_match(body["left"], body["op"], body["right"], shown, maps))
        elif key in _NAT_STATEMENTS or key in _VERDICTS:
            branches.append(_Branch(str(key).upper(), None, [[]], text))
        elif key in _JUMPS:
            branches.append(_Branch(body["target"], body["target"], [[]], text))
        elif key == "vmap":
            elements = _nft_elements(body["data"], maps) or []
            key_name = _nft_operand(body["key"])
            for element in elements:
                if not (isinstance(element, list) and len(element) == 2):
                    continue
                value, verdict = element
                verdict_name = _verdict_of(verdict)
                if not verdict_name:
                    continue
                quote = body["key"].get("meta", {}).get("key") in _IFNAME_KEYS
                key_text = f"{key_name} {_nft_value(value, quote)}"
                conds = _nft_match(body["key"], "==", value, key_text, maps)
                if verdict_name in _JUMPS:
                    chain = verdict[verdict_name]["target"]
                    branch = _Branch(
                        chain, chain, conds, f"{text} ({key_text} : {verdict_name} {chain})"
                    )
                else:
                    branch = _Branch(
                        verdict_name.upper(), None, conds, f"{text} ({key_text} : {verdict_name})"
                    )
                branches.append(branch)
        elif key not in _SILENT_STATEMENTS:
            matches.append([[_Cond("other", False, shown, shown)]])  # limit, quota, ...
    if not branches:
        branches.append(_Branch("", None, [[]], text))
    return _NftRule(text, tuple(matches), tuple(branches))


def parse_nft_json(text: str) -> tuple[NatRule, ...]:
    """The nat rules in `text`, the output of ``nft -j list table ip docker-bridges``.

    Only rules that take effect are returned: the chains are walked from every base chain of
    type ``nat``, through ``jump``/``goto`` and verdict maps (named or anonymous), and each rule
    gets the conditions of the path that reaches it. So Docker's
    ``iifname vmap @nat-postrouting-out-jumps`` -> ``nat-postrouting-out__br0`` ->
    ``oifname != "br0" ip saddr 172.18.0.0/16 masquerade`` becomes a MASQUERADE rule with source
    172.18.0.0/16, ``! -o br0`` and in-interface ``br0``. A rule reached by several paths
    appears once per path; a chain no nat base chain reaches is left out. A match on a set of
    prefixes or names yields one rule per element. Raises ``ValueError`` for text that is not
    nft JSON.
    """
    try:
        document = json.loads(text)
        objects = document["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not `nft -j` output ({exc}): {text[:200]!r}") from None
    sets: dict[tuple[str, str], dict[str, list[object]]] = {}
    chains: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}
    rules: dict[tuple[str, str], dict[str, list[Mapping[str, Any]]]] = {}
    for obj in objects:
        if not isinstance(obj, Mapping):
            continue
        for kind in ("set", "map"):
            if kind in obj:
                body = obj[kind]
                table = (body["family"], body["table"])
                sets.setdefault(table, {})[body["name"]] = list(body.get("elem", []))
        if "chain" in obj:
            body = obj["chain"]
            chains.setdefault((body["family"], body["table"]), {})[body["name"]] = body
        if "rule" in obj:
            body = obj["rule"]
            table = (body["family"], body["table"])
            rules.setdefault(table, {}).setdefault(body["chain"], []).append(body)

    found: list[NatRule] = []
    for table, table_chains in chains.items():
        table_sets = sets.get(table, {})
        parsed = {
            name: [_nft_rule(rule, table_sets) for rule in chain_rules]
            for name, chain_rules in rules.get(table, {}).items()
        }
        for name, chain in table_chains.items():
            if chain.get("type") == "nat" and "hook" in chain:
                _walk(parsed, name, [], "", frozenset({name}), found)
    return tuple(found)


def _walk(
    parsed: Mapping[str, Sequence[_NftRule]],
    chain: str,
    inherited: list[_Cond],
    via: str,
    stack: frozenset[str],
    found: list[NatRule],
) -> None:
    """Append the rules of `chain`, reached under `inherited` conditions, and of the chains it
    jumps to; `stack` holds the chains on the path (nft forbids loops; this guards anyway)."""
    for rule in parsed.get(chain, []):
        for branch in rule.branches:
            for conds in _expand([[inherited], *rule.matches, branch.conds]):
                shown = branch.shown + (f"  [reached {via}]" if via else "")
                built = _build_rule(chain, branch.target, shown, conds)
                if built is None:
                    continue  # contradictory path: never taken
                found.append(built)
                target = branch.jump_to
                if target is not None and target in parsed and target not in stack:
                    step = f"from {chain} by {branch.shown}"
                    path = f"{via} -> {step}" if via else step
                    _walk(parsed, target, conds, path, stack | {target}, found)


# ---------------------------------------------------------------------------------------------
# Reading the live host


def _fix_for(command: Sequence[str]) -> str:
    if command[0] == "nft":
        return "install Debian's nftables package (apt-get install nftables)"
    return "install Debian's iptables package (apt-get install iptables)"


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a reader; stdout is the data, stderr only ever goes into error messages."""
    shown = shlex.join(command)
    env = {**os.environ, "LC_ALL": "C"}
    try:
        return subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
            env=env,
        )
    except FileNotFoundError as exc:
        raise FirewallReadError(
            f"cannot read the firewall: `{shown}` failed, {command[0]} is not installed or not "
            f"on PATH ({exc.strerror}); {_fix_for(command)}"
        ) from exc
    except PermissionError as exc:
        raise PrivilegeError(
            f"cannot read the firewall: `{shown}` could not be executed ({exc.strerror}); "
            f"{_PRIVILEGE_FIX}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise FirewallReadError(
            f"cannot read the firewall: `{shown}` did not finish within {_TIMEOUT:.0f}s "
            "(another process may hold the xtables lock)"
        ) from exc


def _failure(command: Sequence[str], proc: subprocess.CompletedProcess[str]) -> DockernetError:
    shown = shlex.join(command)
    stderr = proc.stderr.strip() or "(nothing)"
    message = f"cannot read the firewall: `{shown}` exited with {proc.returncode}; stderr: {stderr}"
    if any(marker in stderr.lower() for marker in _PERMISSION_MARKERS):
        return PrivilegeError(f"{message}\n{_PRIVILEGE_FIX}")
    return FirewallReadError(message)


def _checked(command: Sequence[str]) -> str:
    proc = _run(command)
    if proc.returncode != 0:
        raise _failure(command, proc)
    return proc.stdout


def detect_backend(engine_info: Mapping[str, object]) -> Backend:
    """Which firewall holds Docker's rules, from `engine_info` (docker-py ``client.info()``).

    Docker 28+ reports ``{"FirewallBackend": {"Driver": "iptables" | "iptables+firewalld" |
    "nftables"}}`` (``nftables`` only from Docker 29, where the backend is experimental); a
    driver starting with ``nftables`` means the native backend. Otherwise (iptables, or Docker
    20.10, which reports no such key) Docker runs the ``iptables`` on its PATH, and
    ``iptables -V`` says which variant that is: ``(nf_tables)`` or ``(legacy)``; a version
    without either (iptables < 1.8) is legacy.
    """
    backend = engine_info.get("FirewallBackend")
    if isinstance(backend, Mapping):
        driver = backend.get("Driver")
        if isinstance(driver, str) and driver.split("+")[0].strip().lower() == "nftables":
            return Backend.NFTABLES
    command = ("iptables", "-V")
    version = _checked(command).strip()
    if "(nf_tables)" in version:
        return Backend.IPTABLES_NFT
    if "(legacy)" in version or re.fullmatch(r"iptables v1\.[0-7]\.\S*", version):
        return Backend.IPTABLES_LEGACY
    raise FirewallReadError(
        f"cannot tell the iptables variant: `iptables -V` printed {version!r}, expected "
        "'iptables v1.8.x (nf_tables)' or '(legacy)'; install Debian's iptables package"
    )


def _save_command(backend: Backend) -> tuple[str, ...]:
    """The ``*-save`` that reads `backend`'s tables, preferring the variant-named binary."""
    variant = "nft" if backend is Backend.IPTABLES_NFT else "legacy"
    named = f"iptables-{variant}-save"
    binary = named if shutil.which(named) else "iptables-save"
    return (binary, "-t", "nat")


def _legacy_nat_exists() -> bool:
    # Asking iptables-legacy-save for a table that does not exist makes the kernel create it
    # (empty), which in turn makes iptables-nft warn about legacy tables: look first.
    try:
        with open("/proc/net/ip_tables_names", encoding="ascii") as f:
            return "nat" in f.read().split()
    except OSError:
        return False


def _other_variant_note(backend: Backend) -> str:
    """A note when the iptables variant Docker does not use also holds Docker nat rules."""
    if backend is Backend.IPTABLES_NFT:
        other, binary = "iptables-legacy", "iptables-legacy-save"
        if not _legacy_nat_exists():
            return ""
    else:
        other, binary = "iptables-nft", "iptables-nft-save"
    if shutil.which(binary) is None:
        return ""
    command = (binary, "-t", "nat")
    try:
        proc = _run(command)
        if proc.returncode != 0:
            return ""
        rules = parse_iptables_save(proc.stdout)
    except (DockernetError, ValueError):
        return ""  # the note is a hint; failing to give it must not fail the read
    docker = [r for r in rules if "DOCKER" in r.chain.upper() or "DOCKER" in r.target.upper()]
    if not docker:
        return ""
    return (
        f"the {other} nat table also holds Docker rules ({len(docker)} rules in "
        f"`{shlex.join(command)}`); the kernel applies both variants, and the rules above are "
        f"only those of {backend.value}, the variant `iptables` runs"
    )


def read_nat_table(engine_info: Mapping[str, object]) -> NatTable:
    """Read the host's nat rules with the tool for the backend Docker uses.

    Raises :class:`~pytest_dockernet.errors.PrivilegeError` when not allowed to read the
    firewall, and :class:`FirewallReadError` when the tool is missing, fails or prints
    something unparsable. A missing ``ip docker-bridges`` table (nftables backend, no bridge
    rules written yet) gives an empty table with a note, not an error.
    """
    backend = detect_backend(engine_info)
    if backend is Backend.NFTABLES:
        command: tuple[str, ...] = ("nft", "-j", "list", "table", *NFT_TABLE)
        proc = _run(command)
        if proc.returncode != 0:
            error = _failure(command, proc)
            if isinstance(error, PrivilegeError) or "no such file" not in proc.stderr.lower():
                raise error
            return NatTable(
                backend,
                (),
                shlex.join(command),
                note=f"table {' '.join(NFT_TABLE)} does not exist: the engine reports the "
                "nftables firewall backend but has written no bridge rules (is the daemon "
                "running with iptables=false?)",
            )
        try:
            rules = parse_nft_json(proc.stdout)
        except ValueError as exc:
            raise FirewallReadError(f"cannot parse `{shlex.join(command)}`: {exc}") from exc
        return NatTable(backend, rules, shlex.join(command))

    command = _save_command(backend)
    text = _checked(command)
    try:
        rules = parse_iptables_save(text)
    except ValueError as exc:
        raise FirewallReadError(f"cannot parse `{shlex.join(command)}`: {exc}") from exc
    variant = "nf_tables" if backend is Backend.IPTABLES_NFT else "legacy"
    return NatTable(
        backend,
        rules,
        f"{shlex.join(command)} ({variant})",
        note=_other_variant_note(backend),
    )
