"""Whether a name asked from a container's namespace could be forwarded off this machine.

Docker's embedded DNS (127.0.0.11, on user-defined networks) answers the names of the
containers on its container's networks itself, and forwards every other name: to the
container's ``--dns`` servers (HostConfig.Dns), else to the host's resolv.conf nameservers
without the loopback ones, else to 8.8.8.8 and 8.8.4.4. A container without it (on the default
``bridge`` network) asks the servers its own resolv.conf lists. The plugin's containers forward
to loopback (``DNS_SINK``), so their queries stay here; a container the plugin did not create
usually forwards to the host's resolvers, off this machine.

:func:`refusal` decides from facts alone; :func:`guard` reads the facts (``docker inspect``,
the container's and the host's resolv.conf) and runs before any query is sent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from .names import EMBEDDED_DNS, ResolvConf, parse_resolv_conf, read_resolv_conf, search_order

DOCKER_FALLBACK = ("8.8.8.8", "8.8.4.4")
"""Where Docker's embedded DNS forwards when neither ``--dns`` nor the host names a server."""
HOST_RESOLV_CONF = "/etc/resolv.conf"
SYSTEMD_RESOLV_CONF = "/run/systemd/resolve/resolv.conf"
"""What Docker reads instead when the host's file names only systemd-resolved's stub."""
SYSTEMD_STUB = "127.0.0.53"
NO_DISCOVERY = frozenset({"bridge", "host", "none"})
"""Networks on which Docker's embedded DNS names no container."""
GENERATED_NAME = re.compile(r"[a-z]+_[a-z]+[0-9]*")
"""The shape of the name Docker gives a container created without one (``nervous_ritchie``).
Such a container's endpoint is anonymous: its embedded DNS does not answer that name (measured
on 20.10; the API does not say which containers are anonymous), so the name is not trusted."""
MAY_FORWARD = (
    "if you really mean your real DNS to be asked, pass may_forward=True to "
    "assert_resolves/assert_not_resolvable"
)
"""The third fix, as the DNS assertions offer it."""
PASS_THE_CONTAINER = (
    "or pass the Container itself instead of its name: the probe then takes its address from "
    "the test and asks no DNS"
)
"""The third fix, as a probe by name offers it."""


@dataclass(frozen=True)
class Servers:
    """The servers a container's queries may reach, and where that list comes from."""

    addresses: tuple[str, ...]
    origin: str
    """How a message says where they come from."""
    embedded: bool
    """Asked through Docker's embedded DNS, which answers its networks' names itself."""


def forwarded_to(
    conf: ResolvConf,
    dns: Sequence[str],
    host: Sequence[str],
    host_file: str = HOST_RESOLV_CONF,
) -> Servers:
    """The servers a query may reach from a container with resolv.conf ``conf``, ``--dns``
    ``dns`` (HostConfig.Dns) on a host whose resolv.conf (``host_file``) lists ``host``."""
    if conf.nameservers[0] != EMBEDDED_DNS:
        return Servers(conf.nameservers, "the container's /etc/resolv.conf", embedded=False)
    if dns:
        return Servers(tuple(dns), "the container's HostConfig.Dns (--dns)", embedded=True)
    kept = tuple(s for s in host if not _loopback(s))
    if kept:
        return Servers(kept, f"the host's {host_file} (HostConfig.Dns is empty)", embedded=True)
    return Servers(
        DOCKER_FALLBACK,
        f"Docker's fallback (HostConfig.Dns is empty and the host's {host_file} lists no "
        "nameserver but loopback ones)",
        embedded=True,
    )


def _address(server: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(server.split("%", 1)[0])  # fe80::1%eth0: the zone aside
    except ValueError:
        return None


def _loopback(server: str) -> bool:
    address = _address(server)
    return address is not None and address.is_loopback


def on_this_machine(server: str, holder_of: Callable[[ipaddress.IPv4Address], object]) -> bool:
    """Loopback, or the address of a container or upstream ``holder_of`` knows (the source's
    registry); anything else, an unreadable address included, is off this machine."""
    address = _address(server)
    if address is None:
        return False
    if address.is_loopback:
        return True
    return isinstance(address, ipaddress.IPv4Address) and holder_of(address) is not None


def endpoint_names(container: Mapping[str, Any], network_id: str) -> frozenset[str]:
    """The names Docker's embedded DNS answers for ``container`` (its ``inspect_container``)
    on the network ``network_id``: its name unless Docker generated it, its aliases, and its
    DNSNames (Docker >= 25) but for its hostname, which is not trusted (the short id, its
    default hostname, stays)."""
    attached = (container.get("NetworkSettings") or {}).get("Networks") or {}
    settings = next((s for s in attached.values() if s.get("NetworkID") == network_id), None)
    if settings is None:
        return frozenset()
    hostname = (container.get("Config") or {}).get("Hostname") or ""
    dns_names = set(settings.get("DNSNames") or ())
    if hostname != container["Id"][:12]:
        dns_names.discard(hostname)
    name = container["Name"].lstrip("/")
    found = {*(settings.get("Aliases") or ()), *dns_names} - {name, ""}
    if not GENERATED_NAME.fullmatch(name):
        found.add(name)
    return frozenset(found)


def answered_names(
    network: Mapping[str, Any], members: Mapping[str, Mapping[str, Any]]
) -> frozenset[str]:
    """The names Docker's embedded DNS answers itself, with an IPv4 address, on ``network``
    (its ``inspect_network``): each member's names and ``name.<network>``. ``members`` holds
    the ``inspect_container`` of the members by id; one missing there is left out."""
    net_name = network["Name"]
    if net_name in NO_DISCOVERY:
        return frozenset()
    found: set[str] = set()
    for member_id, entry in (network.get("Containers") or {}).items():
        member = members.get(member_id)
        if member is None or not entry.get("IPv4Address"):
            continue  # an IPv6-only member gets an empty answer, and the next name is asked
        own = endpoint_names(member, network["Id"])
        found |= own | {f"{n}.{net_name}" for n in own}
    return frozenset(found)


def refusal(
    name: str,
    conf: ResolvConf,
    servers: Servers,
    holder_of: Callable[[ipaddress.IPv4Address], object],
    answered: Callable[[], Collection[str]],
    *,
    who: str,
    networks: Sequence[str] = (),
    fix: str = MAY_FORWARD,
) -> str | None:
    """None when asking ``name`` from ``who`` sends nothing off this machine; else why it
    could, and the fixes.

    Allowed: every server is on this machine; or the first name the resolver asks is one
    Docker's embedded DNS answers itself (``answered()``, called only then), where the query
    stops. ``networks`` are the source's Docker networks, for the first fix.
    """
    outside = [s for s in servers.addresses if not on_this_machine(s, holder_of)]
    if not outside:
        return None
    first = search_order(name, conf)[0]
    if servers.embedded and first in answered():
        return None
    if not servers.embedded:
        why = f"it has no embedded DNS, and would send {first!r} straight"
    elif first != name.rstrip("."):
        why = (
            f"its resolver asks {first!r} first (search {' '.join(conf.search)}, "
            f"ndots:{conf.ndots}), which Docker's embedded DNS does not answer itself but would "
            "forward"
        )
    else:
        why = (
            f"{first!r} is no container's name or alias on its networks, so Docker's embedded "
            "DNS would forward it"
        )
    listed = ", ".join(servers.addresses)
    if len(outside) < len(servers.addresses):
        listed += f" (of which {', '.join(outside)} off this machine)"
    network = next((n for n in networks if n not in NO_DISCOVERY), "<a network of the service>")
    return (
        f"{who} could send a DNS query for {name!r} off this machine: {why} to {listed}, "
        f"from {servers.origin}. pytest-dockernet sends no packet off this machine: nothing "
        "was asked. Fixes:\n"
        "  1. check names from a plugin container on the same network: "
        f'probe = dockernet.container("probe", [dockernet.existing_network("{network}")]), '
        "then assert_resolves(probe, ...);\n"
        "  2. give the service `dns: 127.0.0.1` (compose; `--dns 127.0.0.1` with docker run), "
        "or a resolver of the test on a test network;\n"
        f"  3. {fix}."
    )


# -- reading --------------------------------------------------------------------------------


def host_servers(
    path: str = HOST_RESOLV_CONF, systemd: str = SYSTEMD_RESOLV_CONF
) -> tuple[tuple[str, ...], str]:
    """The host's nameservers as Docker reads them, and the file they come from: systemd-
    resolved's own file when /etc/resolv.conf names only its stub, as Docker does."""
    found = _nameservers(path)
    if found == (SYSTEMD_STUB,) and _nameservers(systemd):
        return _nameservers(systemd), systemd
    return found, path


def _nameservers(path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8") as conf:
            text = conf.read()
    except FileNotFoundError:
        return ()
    # parse_resolv_conf gives 127.0.0.11 for a file naming none: loopback, dropped like it.
    return parse_resolv_conf(text).nameservers


def _answered(client: docker.DockerClient, attached: Mapping[str, Any]) -> frozenset[str]:
    """The names Docker's embedded DNS answers on each network in ``attached`` (the source's
    NetworkSettings.Networks), each member inspected once."""
    inspected: dict[str, Mapping[str, Any]] = {}
    found: set[str] = set()
    for settings in attached.values():
        try:
            network = client.api.inspect_network(settings["NetworkID"])
        except docker.errors.NotFound:
            continue  # left while we read: it answers nothing now
        for member_id in network.get("Containers") or {}:
            if member_id not in inspected:
                try:
                    inspected[member_id] = client.api.inspect_container(member_id)
                except docker.errors.NotFound:
                    continue
        found |= answered_names(network, inspected)
    return frozenset(found)


def guard(
    client: docker.DockerClient,
    container_id: str,
    pid: int,
    name: str,
    holder_of: Callable[[ipaddress.IPv4Address], object],
    *,
    who: str,
    fix: str = MAY_FORWARD,
) -> ResolvConf:
    """The resolv.conf to resolve ``name`` with inside the container (``pid``), once asking it
    can send nothing off this machine; a ValueError naming the servers and the fixes when it
    could. Call it before any query, and resolve with the conf it returns."""
    conf = read_resolv_conf(pid)
    data = client.api.inspect_container(container_id)
    dns = tuple((data.get("HostConfig") or {}).get("Dns") or ())
    host: tuple[str, ...] = ()
    host_file = HOST_RESOLV_CONF
    if conf.nameservers[0] == EMBEDDED_DNS and not dns:
        host, host_file = host_servers()
    attached = (data.get("NetworkSettings") or {}).get("Networks") or {}
    message = refusal(
        name,
        conf,
        forwarded_to(conf, dns, host, host_file),
        holder_of,
        lambda: _answered(client, attached),
        who=who,
        networks=tuple(attached),
        fix=fix,
    )
    if message is not None:
        raise ValueError(message)
    return conf
