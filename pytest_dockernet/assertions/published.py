"""Published ports: Docker's DNAT rule read by meaning, and connections that reach the
container's port from the host, each naming the path it took.

A port published on every address (0.0.0.0) is reached two ways. The host's own connection to
loopback is not rewritten by the kernel (the nat OUTPUT path excludes 127.0.0.0/8 while the
userland proxy is on), so docker-proxy accepts it and connects to the container from the
bridge's gateway. A connection from elsewhere to one of the host's addresses (here: from an
upstream to the host's address facing it) is rewritten by the DNAT rule in nat PREROUTING and
arrives with its own source address. A port published on 127.0.0.1 must be reachable through
loopback only: reaching it from an upstream is the exposure moby/moby#45610 describes.

Over IPv6 (``family=6``) the binding is Docker's IPv6 one (``::``), reached through ``::1`` and
from each upstream through the host's IPv6 address facing it. An engine that writes no IPv6
rules (the daemon's ``ip6tables`` off, the default before Docker 27) has no IPv6 DNAT: its
docker-proxy on ``::`` carries every connection, so no rule is expected there, nor for a
container without an IPv6 address, which docker-proxy reaches over IPv4.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from ..addressing import IPAddress
from ..model import Container, Upstream
from ..model.arguments import check_family, check_timeout, need
from ..observe import conntrack, firewall
from ..observe.ports import PortResult, check_port, check_proto, connect
from ..observe.proxy import UserlandProxy, serving
from ..probing.diagnosis import ipv6_rules
from ..record import observations as recording
from ..retry import until_holds

LOOPBACK: dict[int, IPAddress] = {
    4: ipaddress.IPv4Address("127.0.0.1"),
    6: ipaddress.IPv6Address("::1"),
}


@dataclass(frozen=True)
class Attempt:
    """One connection to the published port, what it met, and what it was expected to meet."""

    via: str
    """Where it came from: "loopback", "the host", or the upstream."""
    result: PortResult
    expect_open: bool
    route: str
    """Which path the connection takes: "docker-proxy (userland)", "kernel DNAT (nat
    PREROUTING)" or "(... OUTPUT)", or "neither"."""
    detail: str = ""
    """What showed it (the proxy process), or why the port is not expected here."""

    @property
    def ok(self) -> bool:
        return self.result.open == self.expect_open

    @property
    def path(self) -> str:
        return self.route + self.detail

    def __str__(self) -> str:
        expected = "expected open" if self.expect_open else "expected NOT reachable"
        mark = "ok" if self.ok else "WRONG"
        path = self.path
        if self.result.open and path.startswith("neither"):
            path += ": what answered is another service of the host, not the container"
        return f"[{mark}] {self.result}\n        path: {path}; {expected}"


@dataclass(frozen=True)
class PublishedCheck:
    """What :func:`assert_published` observed, when it held."""

    container: Container
    port: int
    proto: str
    host_ip: IPAddress
    """The address Docker bound: IPv4 (``0.0.0.0`` for every address), or IPv6 (``::``) for a
    check with ``family=6``."""
    host_port: int
    table: firewall.NatTable
    rules: tuple[firewall.NatRule, ...]
    """The DNAT rules that send the host port to the container's port."""
    proxies: tuple[UserlandProxy, ...]
    """The docker-proxy processes serving the host port for this container."""
    attempts: tuple[Attempt, ...]
    no_rule_expected: str = ""
    """Why no DNAT rule is expected (over IPv6: the engine writes no IPv6 rules, or the
    container has no IPv6 address), or "" where one must be found."""

    @property
    def family(self) -> int:
        """4 or 6: the binding's address family."""
        return self.host_ip.version

    @property
    def ok(self) -> bool:
        rule = bool(self.rules) or bool(self.no_rule_expected)
        return rule and all(a.ok for a in self.attempts)

    def report(self) -> str:
        """The observed state, as a failure message shows it."""
        note = f"\n  note: {self.table.note}" if self.table.note else ""
        rules = self.rules or self.table.rules_for_port(
            self.host_port, self.proto, _first_address(self.container, self.family)
        )
        if self.rules:
            title = "DNAT rules sending it to the container"
        elif self.no_rule_expected:
            title = f"no DNAT rule, none expected: {self.no_rule_expected}"
        else:
            title = "NO DNAT rule sends it to the container; DNAT rules for that port or address"
        proxies = "\n".join(f"    {p}" for p in self.proxies) or (
            "    none serves it (the userland proxy is off, or dockerd runs in another PID "
            "namespace)"
        )
        attempts = "\n".join(f"    {a}" for a in self.attempts) or "    (none)"
        upstreams = ""
        if not self.container.registry.upstreams:
            upstreams = (
                "\n  (this DockerNet has no upstream: nothing connected from outside the host)"
            )
        addresses = ", ".join(str(ip) for ip in _addresses(self.container, self.family))
        return (
            f"  binding: {_host(self)}:{self.host_port} -> {self.container.alias} "
            f"({addresses}) port {self.port}/{self.proto}\n"
            f"  firewall: {self.table.backend.value}, read with {self.table.source}{note}\n"
            f"  {title}:\n{firewall.format_rules(rules)}\n"
            f"  docker-proxy:\n{proxies}\n"
            f"  connections:\n{attempts}{upstreams}"
        )


def _host(check: PublishedCheck) -> str:
    """The bound address as a URL writes it: ``[::]`` over IPv6."""
    return f"[{check.host_ip}]" if check.family == 6 else str(check.host_ip)


def _addresses(container: Container, family: int) -> list[IPAddress]:
    """The container's addresses of ``family``, one per network."""
    found = container.addresses if family == 4 else container.addresses6
    return list(found.values())


def _first_address(container: Container, family: int) -> IPAddress | None:
    return next(iter(_addresses(container, family)), None)


def _path(
    from_host: bool,
    proxies: tuple[UserlandProxy, ...],
    rules: tuple[firewall.NatRule, ...],
    address: IPAddress,
    result: PortResult,
    port: int,
) -> tuple[str, str]:
    """Which path the connection ``result`` to ``address:port`` took, and what showed it.

    The host's connection tracking tells (``conntrack.tracked``): a connection DNAT sent on
    gets its replies from the container, one the host accepted itself (docker-proxy) from the
    address it was sent to. Where the kernel tracks none, the path is inferred from the rules
    that DNAT it and the proxies listening there: the host's own loopback connections are left
    to docker-proxy by Docker's nat OUTPUT path whenever one listens; the rest is DNAT's.
    """
    every = "0.0.0.0" if address.version == 4 else "::"
    listening = [p for p in proxies if p.host_ip in (every, str(address))]
    proxy = "docker-proxy (userland)"
    dnat = "kernel DNAT (nat " + ("OUTPUT" if from_host else "PREROUTING") + ")"
    gateway = "; it connects from the bridge's gateway" if listening else ""
    entry = None
    if result.local is not None:
        entry = conntrack.tracked(result.proto, result.local, (address, port))
    if entry is not None and entry.translated:
        return dnat, f": conntrack: {entry}"
    if entry is not None:
        found = f": {listening[0]}{gateway}" if listening else ": no docker-proxy listens there"
        detail = f"{found}; conntrack: {entry}"
        if rules and not (from_host and listening):
            detail += (
                "; a DNAT rule for the port was in place when read, yet the kernel did not "
                "translate this connection"
            )
        return proxy if listening else "neither", detail
    inferred = " (inferred from the rules: connection tracking holds no entry for it)"
    if from_host and listening:
        return proxy, f": {listening[0]}{gateway}{inferred}"
    if rules:
        return dnat, inferred
    if listening:
        return proxy, f": {listening[0]}{inferred}"
    return "neither", ": no DNAT rule and no docker-proxy for this address"


def _upstream_attempt(
    upstream: Upstream,
    check: PublishedCheck,
    timeout: float,
) -> Attempt | None:
    """From the upstream to the host's address facing it (of the binding's family): open
    exactly when the port is published on every address, or on that address. None for an
    upstream without an address of that family."""
    host_ip = check.host_ip
    facing = upstream.host_address if check.family == 4 else upstream.host_address6
    if facing is None:
        return None
    expect_open = host_ip.is_unspecified or host_ip == facing
    result = connect(
        upstream.pid,
        facing,
        check.host_port,
        proto=check.proto,
        timeout=timeout,
        source=str(upstream),
    )
    target = _target(check)
    rules = check.table.dnat_rules(check.host_port, check.proto, *target, facing) if target else ()
    route, detail = _path(False, check.proxies, rules, facing, result, check.host_port)
    if not expect_open:
        detail += f" (the port is bound to {host_ip} only)"
    return Attempt(f"upstream {upstream.name!r}", result, expect_open, route, detail)


def _target(check: PublishedCheck) -> tuple[IPAddress, int] | None:
    """The container's address the DNAT rules send to (the first one found), and its port;
    None for a container without an address of the binding's family."""
    address = next(
        (r.to_address for r in check.rules if r.to_address is not None),
        _first_address(check.container, check.family),
    )
    return None if address is None else (address, check.port)


def _observe(check: PublishedCheck) -> None:
    """Report to the recorder, with the host port (chosen anew by each run) named."""
    host_port = re.compile(rf"(?<![\d.]){check.host_port}(?![\d.])")

    def stable(text: str) -> str:
        return host_port.sub("<host port>", text)

    binding = (
        "every address"
        if check.host_ip.is_unspecified
        else "loopback"
        if check.host_ip.is_loopback
        else "one host address"
    )
    facts: dict[str, object] = {"binding": binding, "dnat_rule": bool(check.rules)}
    facts.update({a.via: "open" if a.result.open else "not open" for a in check.attempts})
    context = {
        "rules_found_in": check.table.backend.value,
        "rules": [stable(r.text) for r in check.rules],
        "docker_proxy": bool(check.proxies),
        "paths": {a.via: a.route for a in check.attempts},
        "outcomes": {a.via: a.result.outcome for a in check.attempts},
    }
    subject = f"{check.container.alias} {check.port}/{check.proto}"
    subject += " over IPv6" if check.family == 6 else ""
    registry = check.container.registry
    recording.observe("assert_published", registry, subject, check.ok, facts, context)


def _no_rule_expected(container: Container, family: int) -> str:
    """Why no IPv6 DNAT rule can be expected for ``container``, or "" where one must be."""
    if family == 4:
        return ""
    if not container.addresses6:
        return (
            f"{container.alias} has no IPv6 address: docker-proxy on [::] forwards to its IPv4 "
            "address"
        )
    bridges = [net.bridge for net in container.addresses6]
    if not firewall.ip6tables_rules(container.registry.engine_info, bridges):
        return ipv6_rules(container.registry, container.addresses6)
    return ""


def _observed(
    container: Container, port: int, proto: str, timeout: float, family: int
) -> PublishedCheck:
    # the caller checked it is published
    host_ip, host_port = container.published(port, proto, family)
    table = firewall.read_nat_table(container.registry.engine_info, family)
    rules: tuple[firewall.NatRule, ...] = ()
    for address in _addresses(container, family):
        rules += table.dnat_rules(host_port, proto, address, port, host_ip)
    # docker-proxy on [::] forwards to the container's IPv4 address when it has no IPv6 one
    ours = {str(ip) for ip in [*container.addresses.values(), *container.addresses6.values()]}
    proxies = tuple(
        p
        for p in serving(host_port, proto)
        if p.container_ip in ours
        and p.container_port == port
        and ipaddress.ip_address(p.host_ip).version == family
    )
    check = PublishedCheck(
        container,
        port,
        proto,
        host_ip,
        host_port,
        table,
        rules,
        proxies,
        (),
        _no_rule_expected(container, family),
    )
    attempts: list[Attempt] = []
    if host_ip.is_unspecified or host_ip.is_loopback:
        target, via = (LOOPBACK[family] if host_ip.is_unspecified else host_ip), "loopback"
    else:
        target, via = host_ip, "the host"
    result = connect(None, target, host_port, proto=proto, timeout=timeout, source="the host")
    path = _path(True, proxies, rules, target, result, host_port)
    attempts.append(Attempt(via, result, True, *path))
    for upstream in container.registry.upstreams.values():
        attempt = _upstream_attempt(upstream, check, timeout)
        if attempt is not None:
            attempts.append(attempt)
    return replace(check, attempts=tuple(attempts))


def assert_published(
    container: Container,
    port: int,
    *,
    proto: str = "tcp",
    timeout: float = 1.0,
    within: float | None = None,
    family: int = 4,
) -> PublishedCheck:
    """``container``'s ``port``/``proto`` is published as ``ports=`` asked, and works.

    Two things hold: a DNAT rule sends the host port to the container's port (read by meaning
    on any firewall backend), and a connection reaches the container's port from the host:
    through loopback (a binding on 0.0.0.0 or 127.0.0.1), and from each upstream of the
    container's DockerNet through the host's address facing it. A port bound to 127.0.0.1 must
    NOT be reached from an upstream. TCP counts as reached when the handshake completes and the
    peer does not close at once (docker-proxy accepts and closes when nothing listens behind
    it); UDP when an answer comes back. Returns what was observed, including the path each
    connection took (docker-proxy or kernel DNAT). A port Docker does not publish fails the
    assertion, naming what it publishes.

    With ``family=6``, Docker's IPv6 binding (``::``): reached through ``::1`` and from each
    upstream's IPv6 side. A DNAT rule is required only where the engine writes IPv6 rules
    (``ip6tables``, on by default from Docker 27) and the container has an IPv6 address;
    elsewhere docker-proxy carries the connections, and the report says so.

    Example:
        ```python
        web = dockernet.container("web", [net], ports={8080: None})  # docker run -p 8080
        dockernet.listen(web, 8080)
        dockernet.upstream("internet")  # also tried from outside, through the host's address
        check = assert_published(web, 8080)
        print(check.host_ip, check.host_port)  # 0.0.0.0 32769: Docker chose the port
        assert_published(web, 8080, family=6)  # [::]:32769, on a network with ipv6=True
        ```
    """
    __tracebackhide__ = True
    need(container, Container, "container")
    container.wait_started()
    check_port(port)
    check_proto(proto)
    timeout = check_timeout(timeout)
    family = check_family(family)

    def check() -> PublishedCheck:
        __tracebackhide__ = True
        bound = container.ports if family == 4 else container.wait_started().ports6
        if (port, proto) not in bound:
            subject = f"{container.alias} {port}/{proto}" + (" over IPv6" if family == 6 else "")
            facts = {"published": False}
            recording.observe("assert_published", container.registry, subject, False, facts)
            over = "" if family == 4 else " over IPv6: Docker made no IPv6 binding for it"
            raise AssertionError(container.not_published(port, proto) + over)
        observed = _observed(container, port, proto, timeout, family)
        _observe(observed)
        if not observed.ok:
            problems = []
            if not observed.rules and not observed.no_rule_expected:
                problems.append("no DNAT rule sends the host port to it")
            wrong = [a for a in observed.attempts if not a.ok]
            problems += [
                f"{a.via} {'cannot reach' if a.expect_open else 'CAN reach'} it" for a in wrong
            ]
            raise AssertionError(
                f"{container} port {port}/{proto}, published on "
                f"{_host(observed)}:{observed.host_port}: {'; '.join(problems)}\n"
                f"{observed.report()}"
            )
        return observed

    return until_holds(check, within)
