"""The plugin is a faithful witness: its verdict is what Docker does with the same configuration.

Each topology is built twice on the engine under test: once with plain docker-py on Docker's
defaults (or exactly the options the plugin's variant passed), probed from inside the
containers with busybox ``ping`` and ``nc`` (``tests/engine/plain.py``); once with the plugin,
probed by its assertions. The two are on different subnets. Each test asserts

    plain verdict == plugin verdict == PINS[topology] for this engine and bridge-nf setting

so that neither side can pass by being broken the same way as the other.

``PINS`` records what was measured (plain docker, ``ping -c 2``: "2/2" answered or "0/2") on
Docker 20.10 (host engine, bnf=1), 26.1 at bnf=1 and bnf=0, and 28.5 with the iptables backend
at ``net.bridge.bridge-nf-call-iptables`` ("bnf", per network namespace) 1 and 0, and with the
native nftables backend at bnf=1, which measured the same as iptables everywhere here. Why the
columns differ, from moby's rules as the engines wrote them:

- Docker >= 28 drops a packet for a container arriving on any interface but the container's
  own bridge: raw ``PREROUTING -d IP ! -i BRIDGE -j DROP``. With bnf=1 a router container's
  forward from bridge A to a host on bridge B is *bridged* on A and passes iptables there with
  ``-i br-A``, so it is dropped; with bnf=0 bridged frames skip iptables, and it passes (reply
  ttl 63). Before 28 there is no such rule, and bnf changes nothing measured here.
- ``trusted_host_interfaces`` (``routable=True``) lifts that drop for the bridges it names. A
  reply routed back through the host (no return route) is then still accepted on Docker >= 28
  with bnf=1: ``DOCKER-CT``'s ``RELATED,ESTABLISHED`` comes before the isolation rules, and the
  host's conntrack saw the request, bridged on A. At bnf=0 the host never saw the request, and
  the isolation between bridges drops the reply. Before 28 the isolation comes first.
- A cross-bridge packet routed by the host itself is dropped by ``DOCKER-ISOLATION`` on every
  version.
- Docker sets bnf=1 itself when it creates an ``enable_icc=false`` network (moby's
  ``setupIPv4BridgeNetFiltering``): measured on 26.1 and 28.5 starting from bnf=0. A network
  with ICC left on does not set it (26.1 and 28.5 measured, 20.10 runs at bnf=1 here anyway),
  so an icc=false network is never probed at bnf=0 (``NEVER``). The test that creates one is
  marked ``sets_bridge_nf``: on a bnf=0 host, run it last, and set bnf back afterwards.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pytest_dockernet import (
    assert_port_open,
    assert_published,
    assert_reachable,
    assert_resolves,
    assert_unreachable,
)
from pytest_dockernet.observe.firewall import reports_native_nftables
from pytest_dockernet.observe.firewall.bridged import bridge_nf
from pytest_dockernet.topology.networks import BRIDGE_NAME_OPTION, MASQUERADE_OPTION
from tests.engine.plain import Plain, PlainNetwork

R, U = True, False
"""Reachable (every probe answered), unreachable (none answered)."""
NEVER = None
"""A setting the engine never probes at (Docker sets bnf=1 itself first)."""

# topology: (Docker < 28 at bnf=1, < 28 at bnf=0, >= 28 at bnf=1, >= 28 at bnf=0)
PINS: dict[str, tuple[bool | None, ...]] = {
    "same network": (R, R, R, R),
    "through the host": (U, U, U, U),
    "router, return route": (R, R, U, R),
    "router, no return route": (U, U, U, U),
    "routable router, return route": (R, R, R, R),
    "routable router, no return route": (U, U, R, U),
    "icc=false": (U, NEVER, U, NEVER),
    "icc=false: the gateway": (R, NEVER, R, NEVER),
    "icc=false: published port from the host": (R, NEVER, R, NEVER),
    "internal: peers": (R, R, R, R),
    "internal: its gateway": (R, R, R, R),  # moby's TestInternalNwConnectivity (moby#47329)
    "internal: to the upstream": (U, U, U, U),
    "internal: from the upstream": (U, U, U, U),
    "internal: another internal network": (U, U, U, U),  # moby's TestBridgeINC, internal
    "published: loopback": (R, R, R, R),
    "published: upstream": (R, R, R, R),
    "masquerade on: to the upstream": (R, R, R, R),
    "masquerade off: to the upstream": (U, U, U, U),
}
NFTABLES_PINS: dict[str, tuple[bool | None, ...]] = {}
"""Where Docker's native nftables backend differs from its iptables one (nowhere, measured)."""

ICC_OPTION = "com.docker.network.bridge.enable_icc"


@dataclass(frozen=True)
class Engine:
    version: tuple[int, int]
    server: str
    nftables: bool

    def pinned(self, topology: str, bnf: str) -> bool | None:
        pins = {**PINS, **(NFTABLES_PINS if self.nftables else {})}[topology]
        return pins[2 * (self.version >= (28, 0)) + (bnf != "1")]

    def __str__(self) -> str:
        return f"Docker {self.server} ({'nftables' if self.nftables else 'iptables'} backend)"


@pytest.fixture
def engine(client, engine_version, dockernet) -> Engine:
    return Engine(
        engine_version,
        client.version()["Version"],
        reports_native_nftables(dockernet.engine_info),
    )


@dataclass(frozen=True)
class Verdict:
    value: bool | str
    detail: str

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return f"{'reachable' if self.value else 'unreachable'} ({self.detail})"
        return f"{self.value} ({self.detail})"


def plain_ping(src, dst: ipaddress.IPv4Address, *, ttl: int | None = None) -> Verdict:
    """busybox ``ping -c 2`` inside ``src``; with ``ttl``, answered replies must carry it."""
    ping = Plain.ping(src, dst)
    if ping.verdict is True and ttl is not None and set(ping.ttls) != {ttl}:
        return Verdict(f"answered with ttl {sorted(set(ping.ttls))}, not {ttl}", str(ping))
    return Verdict(ping.verdict, str(ping))


def plugin_ping(src, dst, *, ttl: int | None = None, family: int = 4) -> Verdict:
    """``assert_reachable(count=2)`` passing is reachable; failing, ``assert_unreachable``
    passing is unreachable; neither passing is a verdict that matches no pin."""
    try:
        assert_reachable(src, dst, count=2, reply_ttl=ttl, family=family)
        return Verdict(True, "assert_reachable passed")
    except AssertionError as exc:
        failed = str(exc).splitlines()[0]
    try:
        assert_unreachable(src, dst, count=2, family=family)
    except AssertionError as exc:
        return Verdict("neither", f"assert_reachable: {failed}; assert_unreachable: {exc}")
    return Verdict(False, f"assert_reachable raised: {failed}; assert_unreachable passed")


def plugin_port(check: Callable[[], object]) -> Verdict:
    try:
        check()
    except AssertionError as exc:
        return Verdict(False, f"raised: {str(exc).splitlines()[0]}")
    return Verdict(True, "passed")


def said_hi(answer: str) -> Verdict:
    return Verdict(answer == "hi", f"the service said {answer!r}")


def agree(
    engine: Engine, topology: str, bnf: str, plain: Verdict, plugin: Verdict
) -> tuple[str, bool | None]:
    """Assert plain == plugin == pinned; print the measured line for the run's record."""
    now = bridge_nf()
    pinned = engine.pinned(topology, bnf)
    shown = {R: "reachable", U: "unreachable", NEVER: "never probed"}[pinned]
    report = (
        f"{topology}: plain {plain}; plugin {plugin}; pinned {shown}; {engine}; "
        f"bnf={bnf} at probe time (now {now})"
    )
    print(f"VERDICT {report}")
    assert now == bnf, f"bnf changed while probing (another test?): {report}"
    assert pinned is not NEVER, f"a setting pinned as never probed was probed: {report}"
    assert plain.value == plugin.value == pinned, report
    return report, pinned


def same_options(plugin_options: dict[str, str], plain_net: PlainNetwork, client) -> None:
    """The plain network was made with what the plugin passed Docker, and nothing else."""
    options = client.api.inspect_network(plain_net.id)["Options"]
    assert options == plugin_options, (plain_net.name, options, plugin_options)


# -- 1, 2: one bridge, and two bridges through the host ---------------------------------------


def test_two_containers_on_one_network_reach_each_other(dockernet, plain, engine, client):
    bnf = bridge_nf()
    net = plain.network("lan")
    h1, h2 = plain.container("h1", [net]), plain.container("h2", [net])
    plain_verdict = plain_ping(h1, plain.ip(h2, net), ttl=64)

    lan = dockernet.network("lan")
    c1, c2 = dockernet.container("h1", [lan]), dockernet.container("h2", [lan])
    plugin_verdict = plugin_ping(c1, c2, ttl=64)
    same_options(client.api.inspect_network(lan.id)["Options"], net, client)
    agree(engine, "same network", bnf, plain_verdict, plugin_verdict)


def test_docker_isolates_bridges_routed_through_the_host(dockernet, plain, engine):
    bnf = bridge_nf()
    a, b = plain.network("a"), plain.network("b")
    h1, h2 = plain.container("h1", [a]), plain.container("h2", [b])
    Plain.route(h1, str(b.subnet), a.gateway)
    plain_verdict = plain_ping(h1, plain.ip(h2, b))

    na, nb = dockernet.network("a"), dockernet.network("b")
    c1 = dockernet.container("h1", [na], routes={str(nb.subnet): str(na.gateway)})
    c2 = dockernet.container("h2", [nb])
    agree(engine, "through the host", bnf, plain_verdict, plugin_ping(c1, c2))


# -- 3, 4, 5: a router container between two bridges -----------------------------------------


def plain_options_like(plugin_options: dict[str, str], family: str, mine: str) -> dict[str, str]:
    """The plugin's options with its bridge family ``dnr-<family>-`` renamed to ours."""
    return {k: v.replace(f"dnr-{family}-", f"dnr-{mine}-") for k, v in plugin_options.items()}


@pytest.mark.parametrize("routable", [False, True], ids=["defaults", "routable"])
@pytest.mark.parametrize("return_route", [True, False], ids=["return-route", "no-return-route"])
def test_router_between_two_bridges(dockernet, plain, engine, client, routable, return_route):
    bnf = bridge_nf()
    topology = ("routable router" if routable else "router") + (
        ", return route" if return_route else ", no return route"
    )
    # the plugin's side first: the plain networks copy the options it passed Docker
    na = dockernet.network("a", routable=routable)
    nb = dockernet.network("b", routable=routable)
    plugin_options = [client.api.inspect_network(n.id)["Options"] for n in (na, nb)]
    if routable:
        family = re.fullmatch(r"dnr-([0-9a-f]{6})-\d+", na.bridge)
        assert family, f"a routable network's bridge is {na.bridge}, not dnr-<6 hex>-<n>"
        mine = format(int(family[1], 16) ^ 0xFFFFFF, "06x")  # another family, never the same
        wanted = [plain_options_like(o, family[1], mine) for o in plugin_options]
        assert all(BRIDGE_NAME_OPTION in o for o in wanted), plugin_options
    else:
        wanted = plugin_options
        assert plugin_options == [{}, {}], f"the plugin passed options unasked: {plugin_options}"
    r = dockernet.router("router", networks=[na, nb])
    c1 = dockernet.container("h1", [na], routes={str(nb.subnet): r})
    c2 = dockernet.container("h2", [nb], routes={str(na.subnet): r} if return_route else None)

    a = plain.network("a", options=wanted[0])
    b = plain.network("b", options=wanted[1])
    router = plain.container("router", [a, b], router=True)
    h1, h2 = plain.container("h1", [a]), plain.container("h2", [b])
    Plain.route(h1, str(b.subnet), plain.ip(router, a))
    if return_route:
        Plain.route(h2, str(a.subnet), plain.ip(router, b))
    for net, options in zip((a, b), wanted, strict=True):
        same_options(options, net, client)

    # one router hop on the way back (or the host's, without the return route): ttl 63
    plain_verdict = plain_ping(h1, plain.ip(h2, b), ttl=63)
    plugin_verdict = plugin_ping(c1, c2, ttl=63)
    agree(engine, topology, bnf, plain_verdict, plugin_verdict)


# -- 7: an internal network --------------------------------------------------------------------


def test_internal_network_reaches_its_peers_and_nothing_outside(dockernet, plain, engine, client):
    bnf = bridge_nf()
    internet = dockernet.upstream("internet")
    net = plain.network("inner", internal=True)
    h1, h2 = plain.container("h1", [net]), plain.container("h2", [net])
    inner = dockernet.network("inner", internal=True)
    c1, c2 = dockernet.container("h1", [inner]), dockernet.container("h2", [inner])
    same_options(client.api.inspect_network(inner.id)["Options"], net, client)
    assert client.api.inspect_network(inner.id)["Internal"] is True
    # the upstream is given a way in, so that only Docker can keep it out
    for subnet in (net.subnet, inner.subnet):
        dockernet.add_route(internet, str(subnet), via=internet.host_address)
    outside = client.containers.get(internet.container.id)

    agree(
        engine,
        "internal: peers",
        bnf,
        plain_ping(h1, plain.ip(h2, net)),
        plugin_ping(c1, c2),
    )
    agree(
        engine,
        "internal: its gateway",
        bnf,
        plain_ping(h1, net.gateway),
        plugin_ping(c1, inner.gateway),
    )
    agree(
        engine,
        "internal: to the upstream",
        bnf,
        plain_ping(h1, internet.address),
        plugin_ping(c1, internet),
    )
    agree(
        engine,
        "internal: from the upstream",
        bnf,
        plain_ping(outside, plain.ip(h1, net)),
        plugin_ping(internet.container, c1),
    )
    other = plain.network("other", internal=True)
    h3 = plain.container("h3", [other])
    c3 = dockernet.container("h3", [dockernet.network("other", internal=True)])
    agree(
        engine,
        "internal: another internal network",
        bnf,
        plain_ping(h1, plain.ip(h3, other)),
        plugin_ping(c1, c3),
    )


# -- 8: a published port -----------------------------------------------------------------------


def test_published_port_answers_on_loopback_and_from_the_upstream(dockernet, plain, engine, client):
    bnf = bridge_nf()
    internet = dockernet.upstream("internet")
    net = plain.network("lan")
    web = plain.container(
        "web",
        [net],
        command="nc -ll -p 8080 -e /bin/busybox echo hi",
        ports={"8080/tcp": None},
    )
    lan = dockernet.network("lan")
    served = dockernet.container("web", [lan], ports={8080: None})
    dockernet.listen(served, 8080)
    plain_port = Plain.host_port(web, "8080/tcp")
    _, plugin_port_number = served.published(8080)
    outside = client.containers.get(internet.container.id)

    loopback = agree(
        engine,
        "published: loopback",
        bnf,
        said_hi(Plain.connect_here("127.0.0.1", plain_port)),
        plugin_port(lambda: assert_port_open("host", "127.0.0.1", plugin_port_number)),
    )
    upstream = agree(
        engine,
        "published: upstream",
        bnf,
        said_hi(Plain.connect(outside, internet.host_address, plain_port)),
        plugin_port(lambda: assert_port_open(internet, internet.host_address, plugin_port_number)),
    )
    # the plugin's own check of both paths agrees with them
    whole = plugin_port(lambda: assert_published(served, 8080))
    assert whole.value == (loopback[1] and upstream[1]), whole


# -- 9: masquerade off -------------------------------------------------------------------------


@pytest.mark.parametrize("masquerade", [True, False], ids=["masquerade", "no-masquerade"])
def test_masquerade_decides_whether_the_upstream_answers(
    dockernet, plain, engine, client, masquerade
):
    bnf = bridge_nf()
    internet = dockernet.upstream("internet")
    net = plain.network("lan", options={} if masquerade else {MASQUERADE_OPTION: "false"})
    h1 = plain.container("h1", [net])
    lan = dockernet.network("lan", masquerade=masquerade)
    c1 = dockernet.container("h1", [lan])
    same_options(client.api.inspect_network(lan.id)["Options"], net, client)
    agree(
        engine,
        f"masquerade {'on' if masquerade else 'off'}: to the upstream",
        bnf,
        plain_ping(h1, internet.address),
        plugin_ping(c1, internet),
    )


# -- 6: enable_icc=false (last: it sets bnf=1 on a bnf=0 host) ---------------------------------


@pytest.mark.sets_bridge_nf
def test_icc_false_keeps_containers_on_one_network_apart(dockernet, plain, engine, client):
    before = bridge_nf()
    net = plain.network("quiet", options={ICC_OPTION: "false"})
    bnf = bridge_nf()
    # Docker's own doing: without bnf=1 its `-i br -o br -j DROP` would never see the frames
    assert bnf == "1", f"{engine} left bnf={bnf} (was {before}) after an icc=false network"
    h1 = plain.container("h1", [net])
    h2 = plain.container(
        "h2", [net], command="nc -ll -p 8080 -e /bin/busybox echo hi", ports={"8080/tcp": None}
    )
    quiet = dockernet.network("quiet", icc=False)
    c1 = dockernet.container("h1", [quiet])
    c2 = dockernet.container("h2", [quiet], ports={8080: None})
    dockernet.listen(c2, 8080)
    same_options(client.api.inspect_network(quiet.id)["Options"], net, client)
    print(f"VERDICT icc=false: bnf was {before} before the first icc=false network")
    agree(engine, "icc=false", bnf, plain_ping(h1, plain.ip(h2, net)), plugin_ping(c1, c2))
    # what icc=false leaves working: the gateway, published ports, Docker's DNS
    agree(
        engine,
        "icc=false: the gateway",
        bnf,
        plain_ping(h1, net.gateway),
        plugin_ping(c1, quiet.gateway),
    )
    agree(
        engine,
        "icc=false: published port from the host",
        bnf,
        said_hi(Plain.connect_here("127.0.0.1", Plain.host_port(h2, "8080/tcp"))),
        plugin_port(lambda: assert_port_open("host", "127.0.0.1", c2.published(8080)[1])),
    )
    code, out = h1.exec_run(["/bin/busybox", "nslookup", h2.name])
    assert code == 0 and str(plain.ip(h2, net)) in out.decode(), out
    assert_resolves(c1, "h2", to=c2.ip(quiet))
