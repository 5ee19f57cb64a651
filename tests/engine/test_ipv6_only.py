"""IPv6-only networks (``network(ipv4=False)``): Docker >= 28 makes them; older engines would
make a dual-stack network of the same request, so the plugin refuses it there, naming the
engine's version. What Docker does on such a network is pinned against a plain
``docker network create --ipv4=false`` of the same topology.
"""

from __future__ import annotations

import pytest

from pytest_dockernet import (
    DockerNet,
    assert_bridge_members,
    assert_reachable,
    assert_resolves,
    assert_route,
)
from pytest_dockernet.engine import labels
from pytest_dockernet.observe import links
from tests.conftest import labelled
from tests.engine.plain import Plain
from tests.engine.test_faithful import plain_ping, plugin_ping

IPV6_ONLY = (28, 0)


@pytest.fixture
def since28(engine_version):
    if engine_version < IPV6_ONLY:
        pytest.skip(f"IPv6-only networks need Docker >= 28; this is {engine_version}")


def test_before_28_ipv4_false_is_refused_naming_the_engine(client, engine_version):
    if engine_version >= IPV6_ONLY:
        pytest.skip("Docker >= 28 makes IPv6-only networks")
    with DockerNet(client) as dn:
        version = dn.engine_info["ServerVersion"]
        with pytest.raises(ValueError, match="needs Docker 28.0") as info:
            dn.network("v6", ipv4=False)
        assert "v6" not in dn.networks
        assert labelled(client, labels.SESSION, dn.identity.run_id) == []
    text = str(info.value)
    assert "ipv4=False needs Docker 28.0 or later" in text
    assert f"this engine is Docker {version}" in text and "use ipv6=True" in text


def test_an_ipv6_only_network_has_no_ipv4_half(dockernet, client, since28):
    v6 = dockernet.network("v6", ipv4=False)
    assert v6.subnet is None and v6.gateway is None
    assert v6.subnet6 is not None and v6.subnet6.subnet_of(dockernet.pool6)
    assert v6.gateway6 == v6.subnet6.network_address + 1
    data = client.api.inspect_network(v6.id)
    assert (data["EnableIPv4"], data["EnableIPv6"]) == (False, True)
    assert [p["Subnet"] for p in data["IPAM"]["Config"]] == [str(v6.subnet6)]
    h1 = dockernet.container("h1", [v6])
    h2 = dockernet.container("h2", {v6: str(v6.subnet6.network_address + 9)})  # static, a str
    assert h1.addresses == {} and h1.networks == (v6,)
    assert h2.ip6(v6) == v6.subnet6.network_address + 9
    inside = {
        a.ip.version for link in links.links(h1.pid) if link.name == "eth0" for a in link.addresses
    }
    assert inside == {6}  # no IPv4 address on its interface
    with pytest.raises(ValueError, match=r"has no IPv4 address on .* which is IPv6-only: use ip6"):
        h1.ip(v6)
    assert_reachable(h1, h2, family=6, reply_ttl=64)
    assert_resolves(h1, "h2", to=h2, family=6)
    assert_route(h1, "default", via=v6.gateway6, family=6)
    assert_bridge_members(v6, [h1, h2], exact=True)
    with pytest.raises(
        ValueError, match=r"dst container 'h2' has no IPv4 address: .* pass family=6"
    ):
        assert_reachable(h1, h2)  # family=4 has nothing to mean here


def test_a_container_keeps_its_networks_order_across_families(dockernet, since28):
    v6 = dockernet.network("v6", ipv4=False)
    lan = dockernet.network("lan")
    c = dockernet.container("c", [v6, lan])
    assert c.networks == (v6, lan)  # eth0 is on the IPv6-only one
    assert list(c.addresses) == [lan] and list(c.addresses6) == [v6]
    assert_route(c, "default", via=v6.gateway6, family=6)


def test_an_existing_ipv6_only_network_is_read(dockernet, plain, since28):
    made = plain.network_ipv6_only("theirs")
    h = plain.container("h", [made])
    theirs = dockernet.existing_network(made.name)
    assert theirs.subnet is None and theirs.gateway is None
    assert theirs.subnet6 == made.subnet6
    seen = dockernet.existing_container(h.name)
    assert seen.networks == (theirs,) and seen.addresses == {}
    assert seen.ip6(theirs) == Plain.ip6(h, made)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subnet": "10.231.7.0/24"}, r"subnet='10.231.7.0/24' is IPv4, and ipv4=False"),
        ({"gateway": "10.231.7.1"}, r"gateway='10.231.7.1' is IPv4"),
        ({"ipv4": "no"}, r"ipv4 must be True or False, got 'no'"),
    ],
)
def test_bad_ipv6_only_input_is_refused_and_leaves_nothing(client, kwargs, message):
    with DockerNet(client) as dn:
        with pytest.raises((ValueError, TypeError), match=message):
            dn.network("v6", **{"ipv4": False, **kwargs})
        assert "v6" not in dn.networks
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []


def test_an_ipv4_address_on_an_ipv6_only_network_is_refused(dockernet, since28):
    v6 = dockernet.network("v6", ipv4=False)
    with pytest.raises(ValueError, match=r"10.231.7.5 is an IPv4 address, and .* is IPv6-only"):
        dockernet.container("c", {v6: "10.231.7.5"})
    assert "c" not in dockernet.containers


# What Docker does, plain docker beside the plugin: on Docker 28.5 (IPv6 rules on by default)
# two containers of one IPv6-only network reach each other; two IPv6-only networks are
# isolated from each other, as dual-stack ones are over IPv6 (test_faithful_ipv6.py).


def test_one_ipv6_only_network_answers_like_plain_docker(dockernet, plain, since28):
    made = plain.network_ipv6_only("v6")
    h1, h2 = plain.container("h1", [made]), plain.container("h2", [made])
    v6 = dockernet.network("v6", ipv4=False)
    c1, c2 = dockernet.container("h1", [v6]), dockernet.container("h2", [v6])
    plain_verdict = plain_ping(h1, Plain.ip6(h2, made), ttl=64)
    plugin_verdict = plugin_ping(c1, c2, ttl=64, family=6)
    assert plain_verdict.value is plugin_verdict.value is True, (plain_verdict, plugin_verdict)


def test_two_ipv6_only_networks_are_isolated_like_plain_docker(dockernet, plain, since28):
    a, b = plain.network_ipv6_only("a"), plain.network_ipv6_only("b")
    h1, h2 = plain.container("h1", [a]), plain.container("h2", [b])
    na, nb = dockernet.network("a", ipv4=False), dockernet.network("b", ipv4=False)
    c1, c2 = dockernet.container("h1", [na]), dockernet.container("h2", [nb])
    plain_verdict = plain_ping(h1, Plain.ip6(h2, b), ttl=63)
    plugin_verdict = plugin_ping(c1, c2, ttl=63, family=6)
    assert plain_verdict.value is plugin_verdict.value is False, (plain_verdict, plugin_verdict)
