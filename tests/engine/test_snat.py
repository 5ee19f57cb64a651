"""The upstream host of our own, and source NAT as the upstream sees it."""

from __future__ import annotations

import ipaddress
import re

import pytest

from pytest_dockernet import DockerNet, Upstream, assert_no_snat, assert_reachable, assert_snat
from pytest_dockernet.engine import labels
from pytest_dockernet.engine.netns import iproute
from pytest_dockernet.observe import links, routes
from pytest_dockernet.retry import wait_until
from tests.conftest import labelled


@pytest.fixture
def internet(dockernet) -> Upstream:
    return dockernet.upstream("internet")


def test_upstream_knows_only_its_own_link(dockernet, internet, client):
    assert internet.subnet.prefixlen == 30
    assert internet.subnet.subnet_of(dockernet.pool)
    assert (internet.host_address, internet.address) == tuple(internet.subnet.hosts())
    assert re.fullmatch(r"dnu[0-9a-f]{8}", internet.host_interface)
    assert routes.routes(internet.pid) == (routes.Route(internet.subnet, None, "eth0"),)
    assert routes.Route(internet.subnet, None, internet.host_interface) in routes.routes(None)
    assert {r.dst for r in routes.routes(internet.pid, family=6)} == {
        internet.subnet6,
        ipaddress.IPv6Network("fe80::/64"),
    }  # over IPv6 too, its link and nothing else
    inside = [link for link in links.links(internet.pid) if link.name != "lo"]
    assert [link.name for link in inside] == ["eth0"]
    global_addresses = [a for a in inside[0].addresses if not a.ip.is_link_local]
    assert global_addresses == [
        ipaddress.IPv4Interface(f"{internet.address}/30"),
        ipaddress.IPv6Interface(f"{internet.address6}/64"),
    ]
    attrs = client.api.inspect_container(internet.container.id)
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert attrs["Config"]["Labels"][labels.SESSION] == dockernet.identity.run_id
    assert attrs["Config"]["Labels"][labels.NAME] == "internet"
    assert dockernet.upstreams == {"internet": internet}


def test_upstream_is_a_probe_target_the_guard_accepts(dockernet, internet):
    net = dockernet.network("sample")
    c = dockernet.container("c", networks=[net])
    dockernet.check_local_target(internet.address)
    assert_reachable(c, internet.address)
    assert_reachable(c, str(internet.address))


def test_snat_seen_with_masquerade_on(dockernet, internet):
    net = dockernet.network("loud")
    c = dockernet.container("c", networks=[net])
    assert_snat(c, internet)
    with pytest.raises(AssertionError) as info:
        assert_no_snat(c, internet)
    text = str(info.value)
    assert text.splitlines()[0] == (
        "expected the request to arrive from the container's own address (no source NAT)"
    )
    assert f"the request was seen with host address {internet.host_address}" in text
    assert f"container addresses: {c.ip(net)}" in text


def test_no_snat_with_masquerade_off(dockernet, internet):
    net = dockernet.network("quiet", masquerade=False)
    c = dockernet.container("c", networks=[net])
    assert_no_snat(c, internet)
    with pytest.raises(AssertionError) as info:
        assert_snat(c, internet)
    text = str(info.value)
    assert text.splitlines()[0] == (
        f"expected the request to arrive from the host's address {internet.host_address} "
        "(source NAT)"
    )
    assert (
        f"container 'c' -> upstream 'internet' ({internet.address}, via host "
        f"{internet.host_interface}): the request was seen with container address {c.ip(net)}"
    ) in text
    assert "capture on the upstream's eth0 ended: the awaited frame arrived" in text


def test_request_not_seen_at_all(dockernet, internet):
    net = dockernet.network("sample")
    c = dockernet.container("c", networks=[net])
    with iproute(c.pid) as ipr:
        ipr.route("del", dst="0.0.0.0/0")
    for check in (assert_snat, assert_no_snat):
        with pytest.raises(
            AssertionError,
            match=r"the request was not seen at all \(send failed: Network is unreachable\)",
        ):
            check(c, internet, timeout=0.3)


def test_upstream_veth_goes_with_its_container(client):
    with DockerNet(client) as dn:
        upstream = dn.upstream()
        assert links.by_name(links.links(None), upstream.host_interface) is not None
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []
    wait_until(
        lambda: links.by_name(links.links(None), upstream.host_interface) is None,
        5,
        f"{upstream.host_interface} to leave the host with its container",
        interval=0.05,
    )
    assert dn.upstreams == {}


def test_upstream_misuse(dockernet, internet):
    net = dockernet.network("sample")
    c = dockernet.container("c", networks=[net])
    with pytest.raises(
        ValueError, match="upstream 'internet': an upstream of this test has that name"
    ):
        dockernet.upstream("internet")
    with pytest.raises(ValueError, match="upstream 'c': a container of this test has that name"):
        dockernet.upstream("c")
    with pytest.raises(ValueError, match="upstream name 'the internet' is not usable"):
        dockernet.upstream("the internet")
    with pytest.raises(TypeError, match="upstream must be a Upstream, got str"):
        assert_snat(c, "internet")
    with pytest.raises(TypeError, match="src must be a Container, got Upstream"):
        assert_no_snat(internet, internet)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        assert_snat(c, internet, timeout=-1)


def test_upstream_of_another_dockernet_is_refused(dockernet, internet, client):
    with DockerNet(client) as other:
        c = other.container("c", networks=[other.network("n")])
        with pytest.raises(
            ValueError,
            match="upstream 'internet' .* was not created by the DockerNet of container 'c'",
        ):
            assert_snat(c, internet)
        with pytest.raises(
            ValueError,
            match=r"dst upstream 'internet' .* was not created by the DockerNet of container 'c'",
        ):
            other.trace(c, internet)


def test_upstream_on_the_image_with_no_tools(dockernet, bare_image):
    internet = dockernet.upstream("internet", image=bare_image)
    net = dockernet.network("sample")
    c = dockernet.container("c", networks=[net], image=bare_image)
    assert_snat(c, internet)


def test_container_named_like_an_upstream_is_refused(dockernet):
    dockernet.upstream("internet")
    with pytest.raises(ValueError, match="upstream 'internet' already exists in this test"):
        dockernet.container("internet", networks=[dockernet.network("n")])


def test_failure_report_lists_the_upstream(pytester):
    pytester.makepyfile(
        """
        def test_it(dockernet):
            dockernet.upstream("internet")
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- dockernet topology -*", "<Upstream internet * via host *"])
