"""Docker's nat rules as ``iptables-save -t nat`` prints them.

iptables (nf_tables or legacy variant): ``-A POSTROUTING -s SUBNET ! -o BRIDGE -j MASQUERADE``
in ``iptables-save -t nat``, and for a published port ``-A DOCKER ! -i BRIDGE -p tcp -m tcp
--dport HOSTPORT -j DNAT --to-destination ADDRESS:PORT`` (with ``-d 127.0.0.1/32`` for a port
published on loopback). Both variants print the same text, so one parser serves both, as long
as the *matching* ``*-save`` binary is run (each sees only its own kernel tables).

``ip6tables-save`` prints the same layout with IPv6 networks (``-s fd00:1::/64``), Docker's DNAT
excluding link-local sources (``! -s fe80::/10``) and its target in brackets when it names a
port (``--to-destination [fd00:1::2]:80``, plain ``fd00:1::2`` when it does not), so the same
parser reads it too.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Sequence

from ...addressing import IPAddress, IPNetwork
from .conditions import Alternatives, Cond, NatTo, PortRange, build_rule, expand
from .rules import NatRule

_COUNTERS_RE = re.compile(r"^\[\d+:\d+\]\s+")
_OPT_SOURCE = {"-s", "--source", "--src"}
_OPT_DEST = {"-d", "--destination", "--dst"}
_OPT_IN = {"-i", "--in-interface"}
_OPT_OUT = {"-o", "--out-interface"}
_OPT_PROTO = {"-p", "--protocol"}
_OPT_MATCH = {"-m", "--match"}
_OPT_TARGET = {"-j", "--jump", "-g", "--goto"}
_OPT_DPORT = {"--dport", "--destination-port"}
_OPT_CORE = _OPT_SOURCE | _OPT_DEST | _OPT_IN | _OPT_OUT | _OPT_PROTO | _OPT_MATCH | _OPT_TARGET
_OPT_CORE |= {"-A", "--append", "-c", "--set-counters", "-f", "--fragment"}


_PLAIN_TOKEN_RE = re.compile(r"[\w@%+=:,./!-]+")


def _join(tokens: Sequence[str]) -> str:
    """Tokens back into iptables-save form: quoted only where the shell would need it."""
    return " ".join(t if _PLAIN_TOKEN_RE.fullmatch(t) else shlex.quote(t) for t in tokens)


def _ipt_network(value: str) -> IPNetwork:
    # "10.0.0.1" is /32, "fd00::1" /128; "/255.255.0.0" masks accepted
    return ipaddress.ip_network(value, strict=False)


def port_range(text: str, separator: str) -> PortRange | None:
    """``"8080"`` or ``"8000<separator>8010"`` as (first, last); None for anything else."""
    first, _, last = text.partition(separator)
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    low, high = int(first), int(last or first)
    return (low, high) if 0 <= low <= high <= 65535 else None


def split_destination(value: str) -> tuple[str, str]:
    """A ``--to-destination`` value as (address part, port part); the port part is ``""``
    when there is none.

    Example::

        split_destination("10.0.0.2:80")  # ("10.0.0.2", "80")
        split_destination("[fd00::2]:80")  # ("fd00::2", "80")
        split_destination("fd00::2")  # ("fd00::2", ""): IPv6 without a port has no brackets
    """
    if value.startswith("["):
        address, _, rest = value[1:].partition("]")
        return address, rest.removeprefix(":")
    if value.count(":") > 1:
        return value, ""
    address, _, ports = value.partition(":")
    return address, ports


def _dnat_to(target: str, options: Sequence[str]) -> NatTo | None:
    """Where ``-j DNAT --to-destination ADDRESS[:PORT[-PORT]]`` (IPv6: ``[ADDRESS]:PORT``)
    sends a packet."""
    if target != "DNAT":
        return None
    for i, token in enumerate(options[:-1]):
        if token == "--to-destination":
            address, ports = split_destination(options[i + 1])
            try:
                to_address: IPAddress | None = ipaddress.ip_address(address)
            except ValueError:
                to_address = None  # an address range: not modelled
            return to_address, port_range(ports, "-") if ports else None
    return None


def _match_cond(tokens: Sequence[str], text: str) -> Cond:
    """A ``-m`` match: destination ports and ``addrtype --dst-type LOCAL`` are read, the rest
    kept as printed."""
    if len(tokens) == 4 and tokens[1] in ("tcp", "udp") and tokens[2] in _OPT_DPORT:
        ports = port_range(tokens[3], ":")
        if ports is not None:
            return Cond("dport", False, (tokens[1], *ports), text)
    if list(tokens[1:]) == ["addrtype", "--dst-type", "LOCAL"]:
        return Cond("local", False, "LOCAL", text)
    return Cond("other", False, text, text)


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
    nat_to: NatTo | None = None
    matches: list[Alternatives] = []
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
            nat_to = _dnat_to(target, tokens[i + 2 :])
            break  # everything after the target is the target's own options
        elif token in _OPT_SOURCE:
            text = f"{bang}-s {value}"
            try:
                nets = [_ipt_network(part) for part in value.split(",")]
            except ValueError:
                matches.append([[Cond("other", negated, text, text)]])
            else:
                conds = [Cond("saddr", negated, net, text) for net in nets]
                # a list means "any of" (iptables-save prints one per rule, but accept it)
                matches.append([[c] for c in conds] if not negated else [conds])
            i += 2
        elif token in _OPT_IN or token in _OPT_OUT:
            kind = "iif" if token in _OPT_IN else "oif"
            flag = "-i" if kind == "iif" else "-o"
            matches.append([[Cond(kind, negated, value, f"{bang}{flag} {value}")]])
            i += 2
        elif token in _OPT_PROTO:
            text = f"{bang}-p {value}"
            if not negated and value.lower() in ("tcp", "udp"):
                matches.append([[Cond("proto", False, value.lower(), text)]])
            elif negated or value.lower() not in ("all", "0"):
                matches.append([[Cond("other", negated, value, text)]])
            i += 2
        elif token in _OPT_DEST:
            text = f"{bang}-d {value}"
            try:
                nets = [_ipt_network(part) for part in value.split(",")]
            except ValueError:
                matches.append([[Cond("other", negated, value, text)]])
            else:
                conds = [Cond("daddr", negated, net, text) for net in nets]
                matches.append([[c] for c in conds] if not negated else [conds])
            i += 2
        elif token in _OPT_MATCH:
            j = i + 2
            while j < len(tokens) and not _starts_option(tokens, j):
                j += 1
            if value != "comment":  # a comment never narrows a rule
                text = _join(tokens[i:j])
                matches.append([[_match_cond(tokens[i:j], text)]])
            i = j
        else:
            # an option this parser does not know: keep it (and its values) as a narrowing match
            j = i + 1
            while j < len(tokens) and not _starts_option(tokens, j) and tokens[j] != "!":
                j += 1
            text = bang + _join(tokens[i:j])
            matches.append([[Cond("other", negated, text, text)]])
            i = j
        negated = False
    if not chain:
        raise ValueError(f"iptables rule without -A CHAIN: {line!r}")
    rules = []
    for conds in expand(matches):
        rule = build_rule(chain, target, shown, conds, nat_to)
        if rule is not None:
            rules.append(rule)
    return rules


def parse_iptables_save(text: str) -> tuple[NatRule, ...]:
    """The rules (``-A`` lines, every chain) of the ``*nat`` table in `text`, the output of
    ``iptables-save``/``iptables-legacy-save``/``iptables-nft-save`` with or without ``-c``,
    or of their ``ip6tables`` counterparts.

    Example::

        text = run(["ip6tables-nft-save", "-t", "nat"])  # ... -A POSTROUTING -s fd00:1::/64 ...
        masquerade = parse_iptables_save(text)[0]
        masquerade.source  # IPv6Network('fd00:1::/64')

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
