"""Masquerading by meaning in the nat table, and source NAT seen from an upstream."""

from __future__ import annotations

from typing import Literal

from ..addressing import IPAddress, IPNetwork
from ..model import Container, Network, Upstream
from ..model.arguments import check_family, need
from ..observe import firewall
from ..probing.diagnosis import ipv6_rules
from ..probing.ping import arrival
from ..record import observations as recording

# -- NAT ------------------------------------------------------------------------------------


def _subnet(net: Network, family: int) -> IPNetwork:
    """``net``'s subnet of ``family``; a ValueError for IPv6 on a network without it."""
    need(net, Network, "net")
    if check_family(family) == 4:
        if net.subnet is None:
            raise ValueError(f"{net} is IPv6-only: pass family=6 to check its NAT66")
        return net.subnet
    if net.subnet6 is None:
        raise ValueError(f"{net} has no IPv6: create it with ipv6=True to check NAT66")
    return net.subnet6


def _nat_report(net: Network, subnet: IPNetwork, table: firewall.NatTable) -> str:
    mentioning = table.rules_mentioning(subnet, net.bridge)
    rules = "\n".join(f"    {r.text}" for r in mentioning) or "    (none)"
    note = f"\n  note: {table.note}" if table.note else ""
    why = f"\n  {ipv6_rules(net.registry, [net])}" if subnet.version == 6 else ""
    return (
        f"  expected: MASQUERADE of {subnet} leaving by any interface but {net.bridge}\n"
        f"  firewall: {table.backend.value}, read with {table.source}{note}\n"
        f"  nat rules mentioning {subnet} or {net.bridge}:\n{rules}{why}"
    )


def _observe_nat(
    kind: str,
    net: Network,
    subnet: IPNetwork,
    table: firewall.NatTable,
    masqueraded: bool,
    *,
    passed: bool,
) -> None:
    rules = [r.text for r in table.rules_mentioning(subnet, net.bridge)]
    context = {"rules_found_in": table.backend.value, "rules": rules}
    subject = net.alias + (" over IPv6" if subnet.version == 6 else "")
    recording.observe(kind, net.registry, subject, passed, {"masqueraded": masqueraded}, context)


def assert_masquerade(net: Network, *, family: int = 4) -> None:
    """The nat table masquerades ``net``'s subnet when it leaves by another interface; with
    ``family=6``, its IPv6 subnet in the IPv6 nat table (NAT66, which an engine writes only
    where its ``ip6tables`` is on: by default from Docker 27).

    Example:
        ```python
        net = dockernet.network("lan")
        assert_masquerade(net)  # iptables -t nat: MASQUERADE for net.subnet, out of any other link
        ```
    """
    __tracebackhide__ = True
    subnet = _subnet(net, family)
    table = firewall.read_nat_table(net.registry.engine_info, subnet.version)
    found = bool(table.masquerade_rules(subnet, net.bridge))
    _observe_nat("assert_masquerade", net, subnet, table, found, passed=found)
    if not found:
        raise AssertionError(f"no masquerade rule for {net}\n{_nat_report(net, subnet, table)}")


def assert_no_masquerade(net: Network, *, family: int = 4) -> None:
    """No nat rule masquerades ``net``'s subnet (e.g. ``masquerade=False``); its IPv6 subnet
    with ``family=6``.

    Example:
        ```python
        quiet = dockernet.network("quiet", masquerade=False)
        assert_no_masquerade(quiet)
        ```
    """
    __tracebackhide__ = True
    subnet = _subnet(net, family)
    table = firewall.read_nat_table(net.registry.engine_info, subnet.version)
    found = table.masquerade_rules(subnet, net.bridge)
    _observe_nat("assert_no_masquerade", net, subnet, table, bool(found), passed=not found)
    if found:
        rules = "\n".join(f"    {r.text}" for r in found)
        raise AssertionError(f"{net} is masqueraded, expected it not to be:\n{rules}")


# -- source NAT seen from an upstream -------------------------------------------------------


def _arrival_report(
    src: Container, upstream: Upstream, timeout: float, family: int
) -> tuple[Literal["host", "container", "other", "none"], str]:
    """Ping the upstream from ``src``: whose address the request arrived with, and a report."""
    seen = arrival(src, upstream, timeout=timeout, family=family)
    own: set[IPAddress] = set(src.addresses.values() if family == 4 else src.addresses6.values())
    host_address = upstream.host_address if family == 4 else upstream.host_address6
    kind: Literal["host", "container", "other", "none"]
    if not seen.sources:
        kind, verdict = "none", "not seen at all"
        verdict += f" ({seen.send_error})" if seen.send_error else ""
        verdict += f"\n  {ipv6_rules(src.registry, src.addresses6)}" if family == 6 else ""
    elif seen.sources[0] == host_address:
        kind, verdict = "host", f"seen with host address {host_address}"
    elif seen.sources[0] in own:
        kind, verdict = "container", f"seen with container address {seen.sources[0]}"
    else:
        kind = "other"
        verdict = f"seen with address {seen.sources[0]}, neither the host's nor the container's"
    return kind, (
        f"{src} -> {upstream}: the request was {verdict}\n"
        f"  container addresses: {', '.join(str(ip) for ip in sorted(own))}\n"
        f"  host address facing the upstream: {host_address} ({upstream.host_interface})\n"
        f"  capture on the upstream's eth0 ended: {seen.ended}"
    )


def assert_snat(
    src: Container, upstream: Upstream, *, timeout: float = 1.0, family: int = 4
) -> None:
    """``src``'s echo request reaches ``upstream`` from the host's address (MASQUERADE acted).

    The request is captured inside the upstream: its source must be the host's address on the
    link facing the upstream, not the container's own. ``family=6`` checks NAT66: the request
    goes to the upstream's IPv6 address, and must arrive from the host's IPv6 address there.

    Example:
        ```python
        internet = dockernet.upstream("internet")
        c = dockernet.container("c", [dockernet.network("lan")])
        assert_snat(c, internet)  # the upstream saw the host's address, not c's
        ```
    """
    __tracebackhide__ = True
    kind, report = _arrival_report(src, upstream, timeout, check_family(family))
    subject = f"{src.alias} -> {upstream.name}" + (" over IPv6" if family == 6 else "")
    recording.observe("assert_snat", src.registry, subject, kind == "host", {"seen_from": kind})
    if kind != "host":
        host_address = upstream.host_address if family == 4 else upstream.host_address6
        raise AssertionError(
            f"expected the request to arrive from the host's address {host_address} "
            f"(source NAT)\n{report}"
        )


def assert_no_snat(
    src: Container, upstream: Upstream, *, timeout: float = 1.0, family: int = 4
) -> None:
    """``src``'s echo request reaches ``upstream`` with the container's own address (over IPv6
    with ``family=6``: on an engine that writes no IPv6 rules, nothing masquerades IPv6).

    For a network with ``masquerade=False``: nothing rewrites the source. No reply comes back
    (the upstream has no route to a container's address), so only the arrival is checked.

    Example:
        ```python
        internet = dockernet.upstream("internet")
        c = dockernet.container("c", [dockernet.network("quiet", masquerade=False)])
        assert_no_snat(c, internet)  # the upstream saw c's own address
        ```
    """
    __tracebackhide__ = True
    kind, report = _arrival_report(src, upstream, timeout, check_family(family))
    subject = f"{src.alias} -> {upstream.name}" + (" over IPv6" if family == 6 else "")
    ok = kind == "container"
    recording.observe("assert_no_snat", src.registry, subject, ok, {"seen_from": kind})
    if kind != "container":
        raise AssertionError(
            f"expected the request to arrive from the container's own address (no source NAT)"
            f"\n{report}"
        )
