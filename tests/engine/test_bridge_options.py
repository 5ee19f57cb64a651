"""network()'s bridge keywords on the running engine, each beside a plain docker reproduction (a
network made with docker-py and the driver option as a user types it): the keyword passes Docker
exactly that option, and the verdicts agree. Each test is named after the moby test it mirrors.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pytest_dockernet import (
    assert_masquerade,
    assert_mtu,
    assert_no_masquerade,
    assert_port_open,
    assert_published,
    assert_reachable,
    assert_unreachable,
)
from pytest_dockernet.observe import links
from pytest_dockernet.topology.bridge_options import GATEWAY_MODE_OPTIONS, GATEWAY_MODES_SINCE
from tests.engine.plain import Plain
from tests.engine.test_faithful import same_options

MTU_OPTION = "com.docker.network.driver.mtu"
BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4"
BRIDGE_MTU_AT_CREATION: dict[tuple[int, int], int] = {(20, 10): 1500, (26, 1): 1400, (28, 5): 1400}
"""The bridge's MTU right after ``docker network create -o com.docker.network.driver.mtu=1400``,
before any container is on it (moby's TestDefaultNetworkOpts checks 28's), measured per engine
with plain docker; every engine then gives the container's eth0 the network's MTU."""


def sysfs_mtu(bridge: str) -> int:
    return int(Path(f"/sys/class/net/{bridge}/mtu").read_text())


def inside_mtu(container, ifname: str = "eth0") -> int:
    code, out = container.exec_run(["cat", f"/sys/class/net/{ifname}/mtu"])
    assert code == 0, out
    return int(out)


def test_default_network_opts_mtu(dockernet, plain, client, engine_version):
    """moby TestDefaultNetworkOpts: the network's MTU reaches its bridge and the container's
    eth0."""
    mine = plain.network("mtu", options={MTU_OPTION: "1400"})
    plain_bridge = sysfs_mtu(f"br-{mine.id[:12]}")
    h1 = plain.container("h1", [mine])
    lan = dockernet.network("lan", mtu=1400)
    plugin_bridge = sysfs_mtu(lan.bridge)
    same_options(client.api.inspect_network(lan.id)["Options"], mine, client)
    c1 = dockernet.container("h1", [lan])
    pinned = BRIDGE_MTU_AT_CREATION.get(engine_version, 1400)
    assert plain_bridge == plugin_bridge == pinned, (plain_bridge, plugin_bridge, engine_version)
    assert inside_mtu(h1) == 1400
    assert_mtu(c1, lan, 1400)


def test_an_mtu_that_differs_is_shown_with_the_networks_option(dockernet):
    lan = dockernet.network("lan", mtu=1400)
    plain_lan = dockernet.network("plain")
    c1 = dockernet.container("h1", [lan, plain_lan])
    assert_mtu(c1, plain_lan, 1500)
    with pytest.raises(AssertionError) as info:
        assert_mtu(c1, lan, 1500)
    text = str(info.value)
    assert "MTU expected 1500, observed:" in text
    assert "in h1: eth" in text and ": 1400 (differs)" in text
    assert f"bridge of the network: {lan.bridge}: 1400 (differs)" in text
    assert f"the network's {MTU_OPTION} is 1400" in text
    with pytest.raises(AssertionError, match=f"sets no {MTU_OPTION}"):
        assert_mtu(c1, plain_lan, 9000)


def test_docker_network_create_host_bind(dockernet, plain, client):
    """moby TestDockerNetworkCreateHostBind: a published port without a host address binds to
    the network's ``host_binding_ipv4``; bound to 127.0.0.1 it answers on loopback and not from
    a neighbour."""
    dockernet.upstream("internet")
    mine = plain.network("bind", options={BINDING_OPTION: "127.0.0.1"})
    web = plain.container(
        "web", [mine], command="nc -ll -p 8080 -e /bin/busybox echo hi", ports={"8080/tcp": None}
    )
    web.reload()
    plain_bindings = {b["HostIp"] for b in web.attrs["NetworkSettings"]["Ports"]["8080/tcp"]}
    assert plain_bindings == {"127.0.0.1"}, plain_bindings
    assert Plain.connect_here("127.0.0.1", Plain.host_port(web, "8080/tcp")) == "hi"

    lan = dockernet.network("lan", host_binding="127.0.0.1")
    same_options(client.api.inspect_network(lan.id)["Options"], mine, client)
    served = dockernet.container("web", [lan], ports={8080: None})
    dockernet.listen(served, 8080)
    host_ip, host_port = served.published(8080)
    assert host_ip == ipaddress.IPv4Address("127.0.0.1")
    check = assert_published(served, 8080)  # loopback answers; the upstream must not
    loopback, upstream = check.attempts
    assert (loopback.via, loopback.expect_open, loopback.result.open) == ("loopback", True, True)
    assert (upstream.expect_open, upstream.result.open) == (False, False)
    assert_port_open("host", "127.0.0.1", host_port)


def test_bridge_name(dockernet):
    """moby's tests name their bridges (bridge.BridgeName): the network's bridge is the host
    interface of that name."""
    name = f"dnb-{dockernet.identity.run_id[:8]}"
    lan = dockernet.network("lan", bridge_name=name)
    c1 = dockernet.container("h1", [lan])
    assert lan.bridge == name
    assert sysfs_mtu(name) > 0  # the host has it
    assert_mtu(c1, lan, 1500)


TO_THE_UPSTREAM = {"nat": True, "nat-unprotected": True, "routed": False}
"""Whether a container's ping reaches the upstream (which has no route to the network): only
where Docker masquerades, measured on 28.5 with plain docker; moby's gates say 27.0 for nat and
routed, 28.0 for nat-unprotected."""


@pytest.mark.parametrize("mode", list(TO_THE_UPSTREAM))
def test_disable_nat(dockernet, plain, client, engine_version, mode):
    """moby TestDisableNAT: gateway mode routed writes no MASQUERADE, so the upstream cannot
    answer; nat and nat-unprotected masquerade. An engine before the mode is refused, with
    nothing made."""
    since = GATEWAY_MODES_SINCE[mode]
    if engine_version < since:
        with pytest.raises(ValueError, match=rf"needs Docker >= {since[0]}\.{since[1]}"):
            dockernet.network("gw", gateway_mode=mode)
        assert dockernet.networks == {}
        assert not client.networks.list(
            names=[f"dn-{dockernet.identity.run_id}-{dockernet.scope}-gw"]
        )
        return
    internet = dockernet.upstream("internet")
    mine = plain.network("gw", options=dict.fromkeys(GATEWAY_MODE_OPTIONS, mode))
    h1 = plain.container("h1", [mine])
    net = dockernet.network("gw", gateway_mode=mode)
    c1 = dockernet.container("h1", [net])
    same_options(client.api.inspect_network(net.id)["Options"], mine, client)
    plain_verdict = Plain.ping(h1, internet.address).verdict
    expected = TO_THE_UPSTREAM[mode]
    assert plain_verdict is expected, (mode, plain_verdict)
    if expected:
        assert_reachable(c1, internet)
        assert_masquerade(net)
    else:
        assert_unreachable(c1, internet)
        assert_no_masquerade(net)


def bridge_addresses(bridge: str) -> tuple[str, ...]:
    """The global addresses the host holds on ``bridge`` (link-local ones left out)."""
    link = links.by_name(links.links(), bridge)
    assert link is not None, f"no link {bridge} on the host"
    return tuple(str(a.ip) for a in link.addresses if not a.ip.is_link_local)


def test_isolated(dockernet, plain, client, engine_version):
    """moby TestIsolated: an internal dual-stack network with gateway mode isolated has a
    bridge with no address, and its containers reach each other by name over both families.
    The gateway Docker's IPAM still reports answers nothing, on the plain network too, and the
    plugin's failure says why. Refused before Docker 28, with nothing made."""
    if engine_version < GATEWAY_MODES_SINCE["isolated"]:
        with pytest.raises(ValueError, match=r"needs Docker >= 28\.0"):
            dockernet.network("iso", internal=True, gateway_mode="isolated", ipv6=True)
        assert not client.networks.list(
            names=[f"dn-{dockernet.identity.run_id}-{dockernet.scope}-iso"]
        )
        return
    mine = plain.network(
        "iso", internal=True, ipv6=True, options=dict.fromkeys(GATEWAY_MODE_OPTIONS, "isolated")
    )
    h1 = plain.container("h1", [mine])
    net = dockernet.network("iso", internal=True, gateway_mode="isolated", ipv6=True)
    same_options(client.api.inspect_network(net.id)["Options"], mine, client)
    assert bridge_addresses(mine.bridge) == bridge_addresses(net.bridge) == ()
    assert Plain.ping(h1, mine.gateway).verdict is False
    c1, c2 = dockernet.container("c1", [net]), dockernet.container("c2", [net])
    assert_reachable(c1, "c2")
    assert_reachable(c1, "c2", family=6)
    for gateway in (net.gateway, net.gateway6):
        with pytest.raises(AssertionError) as failure:
            assert_reachable(c1, gateway, timeout=0.5)
        assert (
            f"{gateway} is the gateway of network 'iso' in Docker's IPAM, but the host holds "
            f"it on no interface (bridge {net.bridge} has no address of it)"
        ) in str(failure.value)
    assert_unreachable(c2, net.gateway)
