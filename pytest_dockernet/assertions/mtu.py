"""MTU: the largest packet an interface sends, as netlink reports it in each namespace."""

from __future__ import annotations

from ..engine.client import MTU_OPTION
from ..model import Container, Network, Upstream
from ..model.arguments import Destination, check_mtu, need, probe_source
from ..observe.links import Link, by_name, links
from ..probing.path_mtu import path_mtu
from ..probing.veths import container_link, host_port
from ..record import observations as recording


def _line(place: str, link: Link | None, mtu: int) -> tuple[str, int | None]:
    if link is None:
        return f"  {place} not found", None
    mark = "ok" if link.mtu == mtu else "differs"
    return f"  {place} {link.name}: {link.mtu} ({mark})", link.mtu


def assert_mtu(container: Container, net: Network, mtu: int) -> None:
    """``container``'s interface on ``net`` and the host end of its veth have MTU ``mtu``, and
    so does ``net``'s bridge where the plugin created the network (a network read from Docker
    may have other ports that lower its bridge's MTU). Read over netlink from the host side:
    nothing is needed in the image.

    Example:
        ```python
        lan = dockernet.network("lan", mtu=1400)
        h1 = dockernet.container("h1", [lan])
        assert_mtu(h1, lan, 1400)  # eth0 in h1, its host veth and lan's bridge
        ```
    """
    __tracebackhide__ = True
    need(container, Container, "container")
    need(net, Network, "net")
    check_mtu(mtu)
    container.wait_started()
    if net not in container.networks:
        raise AssertionError(
            f"{container} is not on {net}: its networks are "
            f"{', '.join(n.alias for n in container.networks) or '(none)'}"
        )
    host_links = links(None)
    places = [
        _line(f"in {container.alias}:", container_link(container, net), mtu),
        _line("host end of its veth:", host_port(container, net, host_links), mtu),
    ]
    if not net.existing:
        places.append(_line("bridge of the network:", by_name(host_links, net.bridge), mtu))
    observed = [seen for _, seen in places]
    ok = all(seen == mtu for seen in observed)
    recording.observe(
        "assert_mtu",
        net.registry,
        f"{container.alias} on {net.alias}",
        ok,
        {"expected": mtu, "observed": observed},
    )
    if ok:
        return
    options = net.registry.client.api.inspect_network(net.id).get("Options") or {}
    set_as = options.get(MTU_OPTION)
    option = (
        f"the network's {MTU_OPTION} is {set_as}"
        if set_as
        else f"the network sets no {MTU_OPTION}: Docker's default (the daemon's mtu, else 1500)"
    )
    raise AssertionError(
        "\n".join(
            [
                f"{container} on {net}: MTU expected {mtu}, observed:",
                *(line for line, _ in places),
                f"  {option}; network(..., mtu={mtu}) (or the option in the user's own "
                "configuration) sets it",
            ]
        )
    )


def assert_path_mtu(
    src: Container | Upstream,
    dst: Destination,
    mtu: int,
    *,
    family: int = 4,
    timeout: float = 0.5,
) -> None:
    """The largest echo request from ``src`` that crosses to ``dst`` with don't-fragment set
    and is answered is ``mtu`` bytes (the whole IP packet, as an MTU counts it). Found from the
    host side with nothing in the image: sizes from ``src``'s outgoing interface's MTU down,
    following the "fragmentation needed" a router sends; a failure lists every size tried and
    what came back from where (an ICMP error and its sender, or silence). ``family=6`` searches
    over IPv6 ("packet too big"); ``timeout`` is each size's wait.

    The source's kernel learns a smaller path MTU from a router's answer, as after the user's
    own ``ping -M do``.

    Example:
        ```python
        a = dockernet.network("a", routable=True)
        b = dockernet.network("b", routable=True, mtu=1400)
        r = dockernet.router("r", [a, b])
        h = dockernet.container("h", [a], routes={str(b.subnet): r})
        far = dockernet.container("far", [b], routes={str(a.subnet): r})
        assert_path_mtu(h, far, 1400)  # r answers 1500 with "fragmentation needed"
        ```
    """
    __tracebackhide__ = True
    check_mtu(mtu)
    source = probe_source(src)
    found = path_mtu(source, dst, family=family, timeout=timeout)
    ok = found.largest == mtu
    recording.observe(
        "assert_path_mtu",
        source.registry,
        f"{found.source} to {found.label}",
        ok,
        {"expected": mtu, "observed": found.largest},
    )
    if ok:
        return
    raise AssertionError(
        f"path MTU from {source} to {found.label}: expected {mtu}, observed "
        f"{found.largest if found.largest is not None else 'nothing answered'}\n{found}\n"
        "  the smallest MTU on the path decides: each network's "
        f"{MTU_OPTION} (network(..., mtu=N), or driver_opts in the user's compose file) and "
        "the daemon's mtu setting"
    )
