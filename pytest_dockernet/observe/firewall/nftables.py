"""Docker's nat rules as ``nft -j list table ip docker-bridges`` prints them.

Docker's native nftables backend (table ``ip docker-bridges``): base chain ``nat-POSTROUTING``
holds ``iifname vmap @nat-postrouting-out-jumps``; the map sends each bridge to its own chain
``nat-postrouting-out__BRIDGE`` holding ``oifname != BRIDGE ip saddr SUBNET masquerade``.
A published port is ``iifname != BRIDGE tcp dport HOSTPORT dnat to ADDRESS:PORT`` in chain
``nat-prerouting-and-output``, reached from ``nat-PREROUTING`` (``fib daddr type local``) and
``nat-OUTPUT`` (the same, and ``ip daddr != 127.0.0.0/8`` while docker-proxy serves loopback).
The rule's meaning depends on the path that reaches it, so :func:`parse_nft_json` walks the
chains from the nat base chains and gives every rule the conditions of the rules that jumped to
it.

Docker writes its IPv6 rules to table ``ip6 docker-bridges`` in the same layout: ``ip6 saddr``
and ``ip6 daddr`` for the addresses, ``ip6 daddr != ::1`` on the nat-OUTPUT path, ``ip6 saddr
!= fe80::/10`` in each DNAT rule, and ``dnat to [ADDRESS]:PORT``. The same parser reads it (and
an ``inet`` table's ``dnat ip6 to``).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...addressing import IPAddress, IPNetwork
from .conditions import Alternatives, Cond, NatTo, PortRange, build_rule, expand
from .rules import NatRule

NFT_TABLE = ("ip", "docker-bridges")
"""Family and name of the table Docker's nftables backend writes IPv4 bridge rules to."""
NFT_TABLE6 = ("ip6", "docker-bridges")
"""Family and name of the table Docker's nftables backend writes IPv6 bridge rules to."""


def nft_table(family: int) -> tuple[str, str]:
    """The nft family and name of Docker's table for IP `family` (4 or 6).

    Example::

        nft_table(6)  # ("ip6", "docker-bridges"): `nft -j list table ip6 docker-bridges`
    """
    return NFT_TABLE6 if family == 6 else NFT_TABLE


_NAT_STATEMENTS = {"masquerade", "snat", "dnat", "redirect"}
_VERDICTS = {"accept", "drop", "return", "continue", "queue", "reject"}
_JUMPS = {"jump", "goto"}
_SILENT_STATEMENTS = {"counter", "log", "mangle", "comment"}
"""Statements that neither narrow a rule nor decide its verdict."""
_IFNAME_KEYS = {"iifname": "iif", "iif": "iif", "oifname": "oif", "oif": "oif"}
_ADDRESS_PROTOCOLS = ("ip", "ip6")
"""Payload protocols whose ``saddr``/``daddr`` are read as networks."""
_L4PROTO_FIELDS = {("ip", "protocol"), ("ip6", "nexthdr")}
_IPV6_TEXT = set("0123456789abcdefABCDEF:.-")
"""The characters of an IPv6 address or address range as nft prints it."""


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
            return f"{_nft_value(value[0], quote)} : {nft_statement(value[1])}"
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


def nft_statement(stmt: Mapping[str, Any]) -> str:
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
        address = _nft_value(body["addr"])
        port = ""
        if "port" in body:
            # as nft prints it: an IPv6 address (or range) before a port is bracketed
            ipv6 = ":" in address and set(address) <= _IPV6_TEXT
            address = f"[{address}]" if ipv6 else address
            port = f":{_nft_value(body['port'])}"
        family = f" {body['family']}" if "family" in body else ""  # an inet table's dnat ip6
        return f"{key}{family} to {address}{port}"
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


def _nft_networks(value: object) -> list[IPNetwork]:
    if isinstance(value, Mapping) and "elem" in value:
        value = value["elem"].get("val")
    if isinstance(value, str):
        return [ipaddress.ip_network(value, strict=False)]
    if isinstance(value, Mapping) and "prefix" in value:
        prefix = value["prefix"]
        return [ipaddress.ip_network(f"{prefix['addr']}/{prefix['len']}", strict=False)]
    if isinstance(value, Mapping) and "range" in value:
        low, high = (ipaddress.ip_address(str(end)) for end in value["range"])
        if isinstance(low, ipaddress.IPv4Address) and isinstance(high, ipaddress.IPv4Address):
            return list(ipaddress.summarize_address_range(low, high))
        if isinstance(low, ipaddress.IPv6Address) and isinstance(high, ipaddress.IPv6Address):
            return list(ipaddress.summarize_address_range(low, high))
    raise ValueError(f"not an IP address, prefix or range: {value!r}")


def _nft_ports(value: object) -> PortRange | None:
    if isinstance(value, Mapping) and "elem" in value:
        value = value["elem"].get("val")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value, value
    if isinstance(value, Mapping) and "range" in value:
        low, high = value["range"]
        if isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 65535:
            return low, high
    return None


def _nft_port_match(
    left: Mapping[str, Any], op: str, right: object, text: str, sets: Mapping[str, Sequence[object]]
) -> Alternatives | None:
    """``tcp dport 8080`` (or a range, or a set of them), ``meta l4proto tcp`` and ``fib daddr
    type local`` as conditions; None for any other expression (or a negated one)."""
    if op not in ("==", "in"):
        return None
    payload = left.get("payload", {})
    if payload.get("protocol") in ("tcp", "udp") and payload.get("field") == "dport":
        elements = _nft_elements(right, sets)
        ranges = [_nft_ports(item) for item in ([right] if elements is None else elements)]
        if not ranges or any(r is None for r in ranges):
            return None
        proto = str(payload["protocol"])
        return [[Cond("dport", False, (proto, *r), text)] for r in ranges if r is not None]
    is_l4proto = left.get("meta", {}).get("key") == "l4proto" or (
        (payload.get("protocol"), payload.get("field")) in _L4PROTO_FIELDS
    )
    if is_l4proto and right in ("tcp", "udp"):
        return [[Cond("proto", False, str(right), text)]]
    fib = left.get("fib", {})
    if fib.get("flags") == ["daddr"] and fib.get("result") == "type" and right == "local":
        return [[Cond("local", False, "local", text)]]
    return None


def _nft_match(
    left: object, op: str, right: object, text: str, sets: Mapping[str, Sequence[object]]
) -> Alternatives:
    """A match expression as alternatives of conditions on saddr, daddr, iif, oif, protocol,
    destination port, "addressed to the host", or "other"."""
    kind, family = "other", "ip"
    if isinstance(left, Mapping):
        ports = _nft_port_match(left, op, right, text, sets)
        if ports is not None:
            return ports
        if "meta" in left:
            kind = _IFNAME_KEYS.get(left["meta"].get("key", ""), "other")
        elif left.get("payload", {}).get("protocol") in _ADDRESS_PROTOCOLS and (
            left["payload"].get("field") in ("saddr", "daddr")
        ):
            kind, family = str(left["payload"]["field"]), str(left["payload"]["protocol"])
    if kind == "other" or op not in ("==", "!=", "in"):
        return [[Cond("other", op == "!=", text, text)]]
    negated = op == "!="
    elements = _nft_elements(right, sets)
    values: list[IPNetwork | str] = []
    try:
        for item in [right] if elements is None else elements:
            if kind in ("saddr", "daddr"):
                values.extend(_nft_networks(item))
            else:
                if isinstance(item, Mapping) and "elem" in item:
                    item = item["elem"].get("val")
                if not isinstance(item, str):
                    raise ValueError(f"not an interface name: {item!r}")
                values.append(item)
    except ValueError:
        return [[Cond("other", negated, text, text)]]
    if not values:  # an empty set matches nothing (==) or everything (!=)
        return [] if not negated else [[]]
    if kind == "daddr" and elements is None and len(values) == 1:
        shown = [text]  # as nft prints it: "ip daddr 127.0.0.1", not ".../32"
    elif kind in ("saddr", "daddr"):
        shown = [f"{family} {kind} {'!= ' if negated else ''}{v}" for v in values]
    else:
        shown = [f'{kind}name {"!= " if negated else ""}"{v}"' for v in values]
    conds = [Cond(kind, negated, v, s) for v, s in zip(values, shown, strict=True)]
    # x in {a, b} is "a or b"; x not in {a, b} is "not a and not b"
    return [conds] if negated else [[c] for c in conds]


@dataclass(frozen=True)
class _Branch:
    """One way a rule ends: its verdict, the chain it jumps to, and the conditions that pick it."""

    target: str
    jump_to: str | None
    conds: Alternatives
    shown: str
    nat_to: NatTo | None = None


@dataclass(frozen=True)
class _NftRule:
    text: str
    matches: tuple[Alternatives, ...]
    branches: tuple[_Branch, ...]


def _dnat_to(body: object) -> NatTo:
    """Where ``dnat to ADDRESS[:PORT]`` (``dnat to [ADDRESS]:PORT`` over IPv6) sends a packet
    (an address range is not modelled)."""
    if not isinstance(body, Mapping):
        return None, None
    try:
        address: IPAddress | None = ipaddress.ip_address(str(body.get("addr")))
    except ValueError:
        address = None
    return address, _nft_ports(body["port"]) if "port" in body else None


def _nft_rule(rule: Mapping[str, Any], maps: Mapping[str, Sequence[object]]) -> _NftRule:
    exprs: list[Mapping[str, Any]] = list(rule.get("expr", []))
    parts = [nft_statement(expr) for expr in exprs]
    if rule.get("comment"):
        parts.append(f'comment "{rule["comment"]}"')
    text = " ".join(parts)
    matches: list[Alternatives] = []
    branches: list[_Branch] = []
    for expr, shown in zip(exprs, parts, strict=False):
        (key, body), *_ = expr.items()
        if key == "match":
            matches.append(_nft_match(body["left"], body["op"], body["right"], shown, maps))
        elif key in _NAT_STATEMENTS or key in _VERDICTS:
            nat_to = _dnat_to(body) if key == "dnat" else None
            branches.append(_Branch(str(key).upper(), None, [[]], text, nat_to))
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
            matches.append([[Cond("other", False, shown, shown)]])  # limit, quota, ...
    if not branches:
        branches.append(_Branch("", None, [[]], text))
    return _NftRule(text, tuple(matches), tuple(branches))


def parse_nft_json(text: str) -> tuple[NatRule, ...]:
    """The nat rules in `text`, the output of ``nft -j list table ip docker-bridges`` (or of
    ``... ip6 docker-bridges``: ``ip6 saddr``/``ip6 daddr`` are read as ``ip saddr``/``ip
    daddr`` are).

    Example::

        text = run(["nft", "-j", "list", "table", *nft_table(6)])
        masquerade = [r for r in parse_nft_json(text) if r.target == "MASQUERADE"][0]
        masquerade.source  # IPv6Network('fd49:efd7:54aa::/64')

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
    inherited: list[Cond],
    via: str,
    stack: frozenset[str],
    found: list[NatRule],
) -> None:
    """Append the rules of `chain`, reached under `inherited` conditions, and of the chains it
    jumps to; `stack` holds the chains on the path (nft forbids loops; this guards anyway)."""
    for rule in parsed.get(chain, []):
        for branch in rule.branches:
            for conds in expand([[inherited], *rule.matches, branch.conds]):
                shown = branch.shown + (f"  [reached {via}]" if via else "")
                built = build_rule(chain, branch.target, shown, conds, branch.nat_to)
                if built is None:
                    continue  # contradictory path: never taken
                found.append(built)
                target = branch.jump_to
                if target is not None and target in parsed and target not in stack:
                    step = f"from {chain} by {branch.shown}"
                    path = f"{via} -> {step}" if via else step
                    _walk(parsed, target, conds, path, stack | {target}, found)
