"""The plugin is a faithful witness over IPv6 too: its verdict is what Docker does with the same
dual-stack configuration, built once with plain docker-py (busybox ``ping``/``nc`` inside the
containers, ``tests/engine/plain.py``) and once with the plugin, on different subnets:

    plain verdict == plugin verdict == PINS6[topology] for this engine

``PINS6`` records what was measured with plain docker (``ping -c 2``) on this kind of machine
(every engine sets ``net.ipv6.conf.all.forwarding=1`` when it creates a network with IPv6):

- Docker 20.10 and 26.1 as installed write no IPv6 firewall rules (the daemon's ``ip6tables``
  is off): IPv6 between two networks is forwarded by the host with nothing in the way (a ping
  through the host answers, ttl 63), a router's reply needs no return route, and nothing
  masquerades IPv6, so the upstream never answers a container's ULA address.
- With ``ip6tables`` on (26.1 started with ``--experimental --ip6tables``; Docker >= 27 by
  default) IPv6 behaves as IPv4: isolation between networks, NAT66 to the upstream, and on
  Docker >= 28 the direct-routing drop of a router's forward when bridged frames pass
  ip6tables (``net.bridge.bridge-nf-call-ip6tables=1``).

A published port answers over IPv6 on every engine (docker-proxy listens on ``[::]``), on the
host's ``::1`` and from the upstream through the host's IPv6 address facing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from pytest_dockernet import (
    assert_masquerade,
    assert_no_masquerade,
    assert_no_snat,
    assert_port_open,
    assert_published,
    assert_snat,
)
from pytest_dockernet.observe.firewall import ip6tables_rules
from pytest_dockernet.observe.firewall.bridged import bridge_nf
from tests.engine.plain import Plain, daemon_ip6tables
from tests.engine.test_faithful import (
    Verdict,
    plain_options_like,
    plain_ping,
    plugin_ping,
    plugin_port,
    said_hi,
)

R, U = True, False

# topology: (no IPv6 rules, IPv6 rules before Docker 28, >= 28 at bnf6=1, >= 28 at bnf6=0)
PINS6: dict[str, tuple[bool, bool, bool, bool]] = {
    "same network": (R, R, R, R),
    "through the host": (R, U, U, U),
    "router, return route": (R, R, U, R),
    "router, no return route": (R, U, U, U),
    "routable router, return route": (R, R, R, R),
    "internal: peers": (R, R, R, R),
    "internal: its gateway": (R, R, R, R),  # moby's TestInternalNwConnectivity (moby#47329)
    "masquerade: to the upstream": (U, R, R, R),
    "published: loopback": (R, R, R, R),
    "published: upstream": (R, R, R, R),
}
BNF6 = "bridge-nf-call-ip6tables"


@dataclass(frozen=True)
class Engine6:
    version: tuple[int, int]
    ip6tables: bool

    def column(self, bnf6: str) -> int:
        if not self.ip6tables:
            return 0
        return 1 if self.version < (28, 0) else 2 + (bnf6 != "1")

    def __str__(self) -> str:
        return f"Docker {self.version} with IPv6 rules {'on' if self.ip6tables else 'off'}"


@pytest.fixture
def engine6(engine_version, dockernet) -> Engine6:
    return Engine6(engine_version, daemon_ip6tables(engine_version))


def agree6(engine: Engine6, topology: str, plain: Verdict, plugin: Verdict) -> bool:
    """Assert plain == plugin == pinned, read at probe time; print the measured line."""
    bnf6 = bridge_nf(BNF6)
    pinned = PINS6[topology][engine.column(bnf6)]
    report = (
        f"{topology} over IPv6: plain {plain}; plugin {plugin}; pinned "
        f"{'reachable' if pinned else 'unreachable'}; {engine}; {BNF6}={bnf6}"
    )
    print(f"VERDICT {report}")
    assert plain.value == plugin.value == pinned, report
    return pinned


def test_two_containers_on_one_dual_stack_network(dockernet, plain, engine6):
    net = plain.network("lan", ipv6=True)
    h1, h2 = plain.container("h1", [net]), plain.container("h2", [net])
    lan = dockernet.network("lan", ipv6=True)
    c1, c2 = dockernet.container("h1", [lan]), dockernet.container("h2", [lan])
    agree6(
        engine6,
        "same network",
        plain_ping(h1, Plain.ip6(h2, net), ttl=64),
        plugin_ping(c1, c2, ttl=64, family=6),
    )


def test_the_plugin_reads_ip6tables_as_the_daemon_is_configured(dockernet, plain, engine6):
    """Whether the engine writes IPv6 rules, as the plugin reads it (rules naming the bridges),
    is what the daemon's configuration says; chains an engine that ran before left behind do
    not count (stop 32's CI ran 20.10 after 28.5 without a reboot)."""
    lan = dockernet.network("lan", ipv6=True)
    mine = plain.network("lan", ipv6=True)
    bridge = "br-" + mine.id[:12]
    assert ip6tables_rules(dockernet.engine_info, [lan.bridge]) is engine6.ip6tables, engine6
    assert ip6tables_rules(dockernet.engine_info, [bridge]) is engine6.ip6tables, engine6


def test_two_dual_stack_networks_through_the_host(dockernet, plain, engine6):
    a, b = plain.network("a", ipv6=True), plain.network("b", ipv6=True)
    h1, h2 = plain.container("h1", [a]), plain.container("h2", [b])
    na, nb = dockernet.network("a", ipv6=True), dockernet.network("b", ipv6=True)
    c1, c2 = dockernet.container("h1", [na]), dockernet.container("h2", [nb])
    agree6(
        engine6,
        "through the host",
        plain_ping(h1, Plain.ip6(h2, b), ttl=63),
        plugin_ping(c1, c2, ttl=63, family=6),
    )


@pytest.mark.parametrize(
    ("routable", "return_route"),
    [(False, True), (False, False), (True, True)],
    ids=["return-route", "no-return-route", "routable-return-route"],
)
def test_router_between_two_dual_stack_networks(
    dockernet, plain, engine6, client, routable, return_route
):
    # the plugin's side first: the plain networks copy the options it passed Docker
    na = dockernet.network("a", ipv6=True, routable=routable)
    nb = dockernet.network("b", ipv6=True, routable=routable)
    wanted = [client.api.inspect_network(n.id)["Options"] for n in (na, nb)]
    if routable:
        family = re.fullmatch(r"dnr-([0-9a-f]{6})-\d+", na.bridge)
        assert family, f"a routable network's bridge is {na.bridge}, not dnr-<6 hex>-<n>"
        mine = format(int(family[1], 16) ^ 0xFFFFFF, "06x")  # another family, never the same
        wanted = [plain_options_like(o, family[1], mine) for o in wanted]
    else:
        assert wanted == [{}, {}], f"the plugin passed options unasked: {wanted}"
    r = dockernet.router("router", [na, nb])
    c1 = dockernet.container("h1", [na], routes={str(nb.subnet6): r})
    c2 = dockernet.container("h2", [nb], routes={str(na.subnet6): r} if return_route else None)

    a = plain.network("a", ipv6=True, options=wanted[0])
    b = plain.network("b", ipv6=True, options=wanted[1])
    router = plain.container("router", [a, b], router=True)
    h1, h2 = plain.container("h1", [a]), plain.container("h2", [b])
    Plain.route(h1, str(b.subnet6), Plain.ip6(router, a))
    if return_route:
        Plain.route(h2, str(a.subnet6), Plain.ip6(router, b))
    topology = ("routable router" if routable else "router") + (
        ", return route" if return_route else ", no return route"
    )
    agree6(
        engine6,
        topology,
        plain_ping(h1, Plain.ip6(h2, b), ttl=63),
        plugin_ping(c1, c2, ttl=63, family=6),
    )


def test_internal_dual_stack_network_reaches_its_peers(dockernet, plain, engine6):
    net = plain.network("inner", internal=True, ipv6=True)
    h1, h2 = plain.container("h1", [net]), plain.container("h2", [net])
    inner = dockernet.network("inner", internal=True, ipv6=True)
    c1, c2 = dockernet.container("h1", [inner]), dockernet.container("h2", [inner])
    agree6(
        engine6,
        "internal: peers",
        plain_ping(h1, Plain.ip6(h2, net)),
        plugin_ping(c1, c2, family=6),
    )
    assert net.subnet6 is not None  # Docker's default IPv6 gateway: the subnet's ::1
    agree6(
        engine6,
        "internal: its gateway",
        plain_ping(h1, net.subnet6.network_address + 1),
        plugin_ping(c1, inner.gateway6, family=6),
    )


def test_nat66_decides_whether_the_upstream_answers(dockernet, plain, engine6):
    internet = dockernet.upstream("internet")
    net = plain.network("lan", ipv6=True)
    h1 = plain.container("h1", [net])
    lan = dockernet.network("lan", ipv6=True)
    c1 = dockernet.container("h1", [lan])
    assert internet.address6 is not None
    pinned = agree6(
        engine6,
        "masquerade: to the upstream",
        plain_ping(h1, internet.address6),
        plugin_ping(c1, internet, family=6),
    )
    # the rule read by meaning agrees with what the upstream saw
    rule = plugin_port(lambda: assert_masquerade(lan, family=6))
    no_rule = plugin_port(lambda: assert_no_masquerade(lan, family=6))
    assert (rule.value, no_rule.value) == (pinned, not pinned), (rule, no_rule)
    # and so does the source the upstream captured: the host's address, or c1's own
    host = plugin_port(lambda: assert_snat(c1, internet, family=6))
    own = plugin_port(lambda: assert_no_snat(c1, internet, family=6))
    assert (host.value, own.value) == (pinned, not pinned), (host, own)


def test_published_port_answers_over_ipv6(dockernet, plain, engine6, client):
    internet = dockernet.upstream("internet")
    net = plain.network("lan", ipv6=True)
    web = plain.container(
        "web", [net], command="nc -ll -p 8080 -e /bin/busybox echo hi", ports={"8080/tcp": None}
    )
    lan = dockernet.network("lan", ipv6=True)
    served = dockernet.container("web", [lan], ports={8080: None})
    dockernet.listen(served, 8080)
    plain_port = Plain.host_port6(web, "8080/tcp")
    _, plugin_port_number = served.published(8080, family=6)
    assert plain_port is not None, "Docker made no IPv6 binding for the plain container"
    outside = client.containers.get(internet.container.id)
    agree6(
        engine6,
        "published: loopback",
        said_hi(Plain.connect_here("::1", plain_port, wait=3.0)),  # nc has just started
        plugin_port(lambda: assert_port_open("host", "::1", plugin_port_number)),
    )
    pinned = agree6(
        engine6,
        "published: upstream",
        said_hi(Plain.connect(outside, internet.host_address6, plain_port)),
        plugin_port(lambda: assert_port_open(internet, internet.host_address6, plugin_port_number)),
    )
    # the assertion of the binding as a whole (loopback and the upstream) agrees with both
    published = plugin_port(lambda: assert_published(served, 8080, family=6))
    assert published.value == pinned, published
