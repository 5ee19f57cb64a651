"""Reading the live host: which firewall backend Docker uses, and the tool that reads it back.

python-iptables (``iptc``) is deliberately not used: it reads only the legacy tables and sees
empty chains under nf_tables.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Collection, Mapping, Sequence

from ...errors import DockernetError, PrivilegeError
from .counters import Counted, parse_iptables_counters, parse_nft_counters
from .iptables import parse_iptables_save
from .nftables import nft_table, parse_nft_json
from .rules import Backend, NatRule, NatTable

_TIMEOUT = 30.0
_PRIVILEGE_FIX = "reading the firewall needs root or CAP_NET_ADMIN: run pytest as root / with sudo"
_PERMISSION_MARKERS = ("permission denied", "operation not permitted", "you must be root")


_VARIANT_NAMES = {Backend.IPTABLES_NFT: "nf_tables", Backend.IPTABLES_LEGACY: "legacy"}
_FAMILIES = (4, 6)


class FirewallReadError(DockernetError):
    """The host's nat rules could not be read (tool missing, failed, or printed nonsense)."""


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


def reports_native_nftables(engine_info: Mapping[str, object]) -> bool:
    """Whether the engine says it writes its rules with nftables (``docker info``'s
    ``FirewallBackend.Driver``, Docker >= 28; an engine that reports none uses iptables)."""
    backend = engine_info.get("FirewallBackend")
    if isinstance(backend, Mapping):
        driver = backend.get("Driver")
        if isinstance(driver, str) and driver.split("+")[0].strip().lower() == "nftables":
            return True
    return False


def detect_backend(engine_info: Mapping[str, object]) -> Backend:
    """Which firewall holds Docker's rules, from `engine_info` (docker-py ``client.info()``).

    Docker 28+ reports ``{"FirewallBackend": {"Driver": "iptables" | "iptables+firewalld" |
    "nftables"}}`` (``nftables`` only from Docker 29, where the backend is experimental); a
    driver starting with ``nftables`` means the native backend. Otherwise (iptables, or Docker
    20.10, which reports no such key) Docker runs the ``iptables`` on its PATH, and
    ``iptables -V`` says which variant that is: ``(nf_tables)`` or ``(legacy)``; a version
    without either (iptables < 1.8) is legacy.
    """
    if reports_native_nftables(engine_info):
        return Backend.NFTABLES
    return _iptables_variant()


def _iptables_variant() -> Backend:
    """Which iptables variant ``iptables`` on PATH is (what Docker runs), by ``iptables -V``."""
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


def _iptables_tool(family: int) -> str:
    return "iptables" if family == 4 else "ip6tables"


def _save_command(backend: Backend, family: int = 4) -> tuple[str, ...]:
    """The ``*-save`` that reads `backend`'s nat table (``family=6``: ``ip6tables``'),
    preferring the variant-named binary."""
    variant = "nft" if backend is Backend.IPTABLES_NFT else "legacy"
    tool = _iptables_tool(family)
    named = f"{tool}-{variant}-save"
    binary = named if shutil.which(named) else f"{tool}-save"
    return (binary, "-t", "nat")


def _legacy_nat_exists(family: int = 4) -> bool:
    # Asking iptables-legacy-save for a table that does not exist makes the kernel create it
    # (empty), which in turn makes iptables-nft warn about legacy tables: look first.
    names = "/proc/net/ip_tables_names" if family == 4 else "/proc/net/ip6_tables_names"
    try:
        with open(names, encoding="ascii") as f:
            return "nat" in f.read().split()
    except OSError:
        return False


def _other_variant_note(backend: Backend, family: int = 4) -> str:
    """A note when the iptables variant Docker does not use also holds Docker nat rules."""
    tool = _iptables_tool(family)
    if backend is Backend.IPTABLES_NFT:
        other = f"{tool}-legacy"
        if not _legacy_nat_exists(family):
            return ""
    else:
        other = f"{tool}-nft"
    binary = f"{other}-save"
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
    docker = [r for r in rules if _is_docker_rule(r)]
    if not docker:
        return ""
    return (
        f"the {other} nat table also holds Docker rules ({len(docker)} rules in "
        f"`{shlex.join(command)}`); the kernel applies both variants, and the rules above are "
        f"only those of {_variant_name(backend, family)}, the variant `{tool}` runs"
    )


def _docker_bridges_exists(family: int = 4) -> bool:
    """Whether Docker's native nftables table for `family` is in the kernel (``nft list
    tables``): ``ip docker-bridges``, or ``ip6 docker-bridges`` for 6."""
    listed = _checked(("nft", "list", "tables"))
    return f"table {' '.join(nft_table(family))}" in listed.splitlines()


def _iptables_nat(backend: Backend, family: int = 4) -> tuple[str, tuple[NatRule, ...]]:
    command = _save_command(backend, family)
    text = _checked(command)
    try:
        return shlex.join(command), parse_iptables_save(text)
    except ValueError as exc:
        raise FirewallReadError(f"cannot parse `{shlex.join(command)}`: {exc}") from exc


def _is_docker_rule(rule: NatRule) -> bool:
    return "DOCKER" in rule.chain.upper() or "DOCKER" in rule.target.upper()


def reported_backend(engine_info: Mapping[str, object]) -> str:
    """The firewall backend as ``docker info`` names it, or "(not reported)" (Docker < 28)."""
    backend = engine_info.get("FirewallBackend")
    driver = backend.get("Driver") if isinstance(backend, Mapping) else None
    return driver if isinstance(driver, str) and driver else "(not reported)"


def read_nat_table(engine_info: Mapping[str, object], family: int = 4) -> NatTable:
    """Read the host's nat rules of IP `family` (4 or 6) where Docker wrote them.

    Over IPv6 (``family=6``) the same backend holds them in its IPv6 tables:
    ``ip6tables-nft-save -t nat`` / ``ip6tables-legacy-save -t nat``, or table ``ip6
    docker-bridges`` of the native nftables backend. Example::

        table = read_nat_table(client.info(), family=6)
        table.masquerade_rules(net.subnet6, net.bridge)  # Docker's NAT66 rule, if any

    The engine's report decides where to look first. When it says nftables but there is no
    ``ip docker-bridges`` table and iptables holds Docker's nat rules (Debian's Docker 28.5 with
    ``DOCKER_FIREWALL_BACKEND=nftables`` reports nftables and writes through iptables-nft), the
    rules are read from iptables, and the table's note says so.

    Raises :class:`~pytest_dockernet.errors.PrivilegeError` when not allowed to read the
    firewall, and :class:`FirewallReadError` when the tool is missing, fails or prints
    something unparsable. A missing ``ip docker-bridges`` table with no Docker rules in
    iptables either (no bridge rules written yet) gives an empty table with a note. Raises
    ``ValueError`` for a `family` other than 4 or 6.
    """
    if family not in _FAMILIES:
        raise ValueError(f"family must be 4 or 6, got {family!r}")
    backend = detect_backend(engine_info)
    if backend is Backend.NFTABLES:
        if _docker_bridges_exists(family):
            return _read_nft(family)
        table = " ".join(nft_table(family))
        variant = _iptables_variant()
        source, rules = _iptables_nat(variant, family)
        if any(_is_docker_rule(rule) for rule in rules):
            return NatTable(
                variant,
                rules,
                f"{source} ({_VARIANT_NAMES[variant]})",
                note=f"the engine reports the {reported_backend(engine_info)} firewall backend, "
                f"but table {table} does not exist: Docker's rules were found in "
                f"{_variant_name(variant, family)}'s nat table, and read there",
                family=family,
            )
        option = "iptables" if family == 4 else "ip6tables"
        return NatTable(
            backend,
            (),
            f"nft list tables; {source}",
            note=f"table {table} does not exist and {_variant_name(variant, family)} holds no "
            "Docker nat rule: the engine reports the nftables firewall backend but has written "
            f"no bridge rules (is the daemon running with {option}=false?)",
            family=family,
        )
    source, rules = _iptables_nat(backend, family)
    return NatTable(
        backend,
        rules,
        f"{source} ({_VARIANT_NAMES[backend]})",
        note=_other_variant_note(backend, family),
        family=family,
    )


def _variant_name(variant: Backend, family: int) -> str:
    """``iptables-nft``, or ``ip6tables-nft`` for the IPv6 tables of that variant."""
    return variant.value.replace("iptables", _iptables_tool(family), 1)


def _read_nft(family: int = 4) -> NatTable:
    command: tuple[str, ...] = ("nft", "-j", "list", "table", *nft_table(family))
    text = _checked(command)
    try:
        rules = parse_nft_json(text)
    except ValueError as exc:
        raise FirewallReadError(f"cannot parse `{shlex.join(command)}`: {exc}") from exc
    return NatTable(Backend.NFTABLES, rules, shlex.join(command), family=family)


def ip6tables_rules(engine_info: Mapping[str, object], bridges: Collection[str]) -> bool:
    """Whether the engine writes IPv6 firewall rules for `bridges`, the host interfaces of
    networks with IPv6 (the daemon's ``ip6tables``: off by default before Docker 27, on from
    27): a rule in Docker's IPv6 filter rules, where its IPv4 rules are, names one of them.
    Docker's chains alone prove nothing: an engine that ran on this host before (Docker 28 has
    ``ip6tables`` on) leaves them behind when it stops, and the next engine writes no rule in
    them. Read, never set; False without a bridge to look for.

    Example:
        ```python
        lan = dockernet.network("lan", ipv6=True)
        ip6tables_rules(dockernet.engine_info, [lan.bridge])  # False on Debian's 20.10
        ```
    """
    if not bridges:
        return False
    backend = rules_location(engine_info)
    if backend is Backend.NFTABLES:
        if not _docker_bridges_exists(6):
            return False
        listed = _checked(("nft", "list", "table", *nft_table(6)))
        return bool(bridges_named(listed, nft=True) & set(bridges))
    binary = _save_command(backend, 6)[0]
    filtered = _checked((binary, "-t", "filter"))
    return bool(bridges_named(filtered, nft=False) & set(bridges))


def bridges_named(saved: str, *, nft: bool) -> set[str]:
    """The interfaces that rules in ``saved`` match on: ``iptables-save`` output (``-i``/``-o``,
    negated or not, ``+`` wildcards as written), or with ``nft=True`` the quoted names of
    ``nft list`` output (``iifname "br-…"``, a verdict map's keys).

    Example:
        ```python
        bridges_named("-A DOCKER-FORWARD -i br-1a2b3c4d5e6f -j ACCEPT", nft=False)
        # {"br-1a2b3c4d5e6f"}
        ```
    """
    if nft:
        return set(re.findall(r'"([^"\s]+)"', saved))
    named: set[str] = set()
    for line in saved.splitlines():
        tokens = line.split()
        if "-A" not in tokens:
            continue
        for flag, name in itertools.pairwise(tokens):
            if flag in ("-i", "-o", "--in-interface", "--out-interface"):
                named.add(name)
    return named


def rules_location(engine_info: Mapping[str, object]) -> Backend:
    """Where Docker's rules are (as :func:`read_nat_table` finds them, without reading them),
    which is where to read counters: an engine that reports nftables with no ``ip
    docker-bridges`` table writes through the iptables variant."""
    backend = detect_backend(engine_info)
    if backend is not Backend.NFTABLES or _docker_bridges_exists():
        return backend
    return _iptables_variant()


def _counters_argv(backend: Backend, family: int = 4) -> tuple[str, ...]:
    if backend is Backend.NFTABLES:
        return ("nft", "-j", "list", "ruleset")
    # every table, each rule with [packets:bytes]
    return (_save_command(backend, family)[0], "-c")


def counters_command(backend: Backend, family: int = 4) -> str:
    """The command :func:`read_counters` runs, as a failure message names it."""
    return shlex.join(_counters_argv(backend, family))


def read_counters(backend: Backend, family: int = 4) -> tuple[Counted, ...]:
    """Every rule's packet counter in `backend`'s tables (``family=6``: the IPv6 tables),
    read-only."""
    command = _counters_argv(backend, family)
    text = _checked(command)
    parse = parse_nft_counters if backend is Backend.NFTABLES else parse_iptables_counters
    try:
        return parse(text)
    except ValueError as exc:
        raise FirewallReadError(f"cannot parse `{shlex.join(command)}`: {exc}") from exc
