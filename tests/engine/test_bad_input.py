"""Each misuse raises an error that names the value and the fix, and leaves nothing behind."""

from __future__ import annotations

import pytest

from pytest_dockernet import DockerNet
from pytest_dockernet.engine import labels
from pytest_dockernet.errors import DockernetError, ImageError
from tests.conftest import labelled
from tests.unprivileged import run_unprivileged


@pytest.fixture
def dn(client):
    """A DockerNet whose leftovers are checked after the misuse."""
    with DockerNet(client) as dn:
        yield dn
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"subnet": "10.231.300.0/24"}, ValueError, r"'10\.231\.300\.0/24' is not an IPv4 network"),
        ({"subnet": "10.231.5.1/24"}, ValueError, r"'10\.231\.5\.1/24'.*no host bits"),
        ({"subnet": 1024}, TypeError, "subnet must be a str"),
        (
            {"subnet": "10.231.5.0/24", "gateway": "10.231.6.1"},
            ValueError,
            r"gateway 10\.231\.6\.1 is outside the subnet 10\.231\.5\.0/24",
        ),
        (
            {"subnet": "10.231.5.0/24", "gateway": "10.231.5.255"},
            ValueError,
            "network or broadcast address",
        ),
        ({"gateway": "10.231.5.1"}, ValueError, "needs subnet= too"),
        (
            {
                "masquerade": True,
                "options": {"com.docker.network.bridge.enable_ip_masquerade": "false"},
            },
            ValueError,
            "pass masquerade=False",
        ),
    ],
)
def test_bad_network_arguments(dn, kwargs, error, message):
    with pytest.raises(error, match=message):
        dn.network("bad", **kwargs)


@pytest.mark.parametrize("name", ["", "has space", "-dash", "x" * 42])
def test_bad_names(dn, name):
    with pytest.raises(ValueError, match="name .* is not usable"):
        dn.network(name)


def test_subnet_overlapping_another_network_names_it(dn, client):
    first = dn.network("first", subnet="10.231.8.0/24")
    with pytest.raises(
        ValueError, match=rf"overlaps 10\.231\.8\.0/24 of Docker network '{first.name}'"
    ):
        dn.network("second", subnet="10.231.8.128/25")


def test_subnet_overlapping_a_host_route_names_it(dn):
    with pytest.raises(
        ValueError, match=r"overlaps 127\.0\.0\.0/8 of host route|overlaps .* host route"
    ):
        dn.network("loop", subnet=_a_host_route_subnet(dn.client))


def _a_host_route_subnet(client) -> str:
    from pytest_dockernet.observe.routes import DEFAULT, routes
    from pytest_dockernet.observe.subnets import docker_subnets

    # A route of the host's own (its LAN): not a Docker bridge's (br-, docker0, a routable
    # network's dnr-, or a network given bridge_name=: any Docker network's subnet) nor an
    # upstream's link (dnu), which other tests create and remove. Seen in CI: another test's
    # bridge_name= network was taken for the host's LAN, and named as a Docker network.
    host = routes(None)
    docker = [o.subnet for o in docker_subnets(client, 4)]  # after: a network made meanwhile
    route = next(
        r
        for r in host
        if r.dst != DEFAULT
        and not r.dev.startswith(("br-", "docker", "dnr-", "dnu"))
        and not any(r.dst.overlaps(s) for s in docker)
    )
    return str(route.dst)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (lambda net: "10.231.9.300", "is not an IPv4 address"),
        (lambda net: str(net.broadcast_address + 5), "is outside the subnet"),
        (lambda net: str(net.network_address + 1), "is the network's gateway"),
        (lambda net: str(net.network_address), "network or broadcast"),
    ],
    ids=["malformed", "outside", "gateway", "network-address"],
)
def test_bad_static_address(dn, address, message):
    net = dn.network("n")
    with pytest.raises(ValueError, match=message) as info:
        dn.container("c", networks={net: address(net.subnet)})
    assert address(net.subnet) in str(info.value)


def test_static_address_already_taken(dn):
    net = dn.network("n")
    taken = str(net.subnet.network_address + 5)
    dn.container("first", networks={net: taken})
    with pytest.raises(ValueError, match=rf"{taken} on 'n' is already taken by container 'first'"):
        dn.container("second", networks={net: taken})


def test_duplicate_names(dn):
    net = dn.network("n")
    dn.container("c", networks=[net])
    with pytest.raises(ValueError, match="container 'c' already exists"):
        dn.container("c", networks=[net])
    with pytest.raises(ValueError, match="network 'n' already exists"):
        dn.network("n")


def test_route_via_a_container_sharing_no_network(dn):
    a, b = dn.network("a"), dn.network("b")
    far = dn.container("far", networks=[b])
    with pytest.raises(
        ValueError, match="via=container 'far' shares no network with container 'near'"
    ):
        dn.container("near", networks=[a], routes={"10.231.50.0/24": far})
    near = dn.container("near", networks=[a])
    with pytest.raises(ValueError, match="shares no network"):
        dn.add_route(near, "10.231.50.0/24", via=far)
    with pytest.raises(ValueError, match="the gateway is on none of its networks"):
        dn.add_route(near, "10.231.50.0/24", via="192.0.2.1")
    with pytest.raises(ValueError, match="'10.231.50.1/24'.*no host bits"):
        dn.add_route(near, "10.231.50.1/24", via=far)


def test_router_needs_two_networks(dn):
    net = dn.network("only")
    with pytest.raises(ValueError, match="router 'r' is on 1 network: a router needs two"):
        dn.router("r", networks=[net])


def test_networks_argument_types(dn):
    with pytest.raises(TypeError, match="networks= takes a Network"):
        dn.container("c", networks="sample")
    with pytest.raises(ValueError, match="networks= is empty"):
        dn.container("c", networks=[])
    other = DockerNet(dn.client)
    try:
        foreign = other.network("foreign")
        with pytest.raises(
            ValueError, match=r"belongs to another DockerNet .*existing_network\('dn-.*-foreign'\)"
        ):
            dn.container("c", networks=[foreign])
    finally:
        other.close()


def test_missing_image_is_never_pulled(dn, client):
    net = dn.network("n")
    with pytest.raises(
        ImageError, match="'no-such/image:0' is not on this Docker engine.*never pulls"
    ):
        dn.container("c", networks=[net], image="no-such/image:0")


def test_command_that_cannot_start(dn):
    net = dn.network("n")
    c = dn.container("c", networks=[net], command=["/no/such/binary"])  # returns at once
    with pytest.raises(DockernetError, match="did not start.*no/such/binary"):
        c.pid  # noqa: B018  (the start's error, where the container is first needed)


def test_probe_of_an_outside_address_is_refused(dn):
    from pytest_dockernet import assert_reachable, assert_unreachable

    net = dn.network("n")
    c = dn.container("c", networks=[net])
    for probe in (assert_reachable, assert_unreachable):
        with pytest.raises(ValueError, match=r"192\.0\.2\.7 lies outside every Docker network"):
            probe(c, "192.0.2.7")


def test_no_permission_to_enter_namespaces(dn):
    """A docker-group member without root gets told what is missing, not an OSError."""
    net = dn.network("n")
    c = dn.container("c", networks=[net])
    for code in (
        f"from pytest_dockernet.observe.routes import routes; routes({c.pid})",
        f"from pytest_dockernet.observe.ping import ping; import ipaddress; "
        f"ping({c.pid}, ipaddress.IPv4Address('{net.gateway}'))",
    ):
        uid, caps, name, message = run_unprivileged(code)
        assert (uid, caps) == (65534, 0)
        assert name == "PrivilegeError", message
        assert "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN" in message
        assert "docker group alone is not enough" in message


def test_destinations_and_ports_that_cannot_mean_anything(dn):
    from pytest_dockernet import assert_port_open, assert_published, assert_reachable

    net = dn.network("n")
    c = dn.container("c", networks=[net], ports={8080: None})
    internet = dn.upstream()
    with pytest.raises(ValueError, match=r"dst '10\.0\.0\.300' is not an IPv4 address"):
        assert_reachable(c, "10.0.0.300")
    with pytest.raises(
        ValueError, match=r"dst must be a host name \(a non-empty str\), got '\.\.'"
    ):
        assert_reachable(c, "..")
    with pytest.raises(
        ValueError, match=r"'web' is a name, and upstream 'internet' .* has no resolver"
    ):
        assert_port_open(internet, "web", 80)  # an upstream has no resolver: only the test's
    with pytest.raises(ValueError, match="port must be an int from 1 to 65535, got 70000"):
        assert_published(c, 70000)
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp', got 'icmp'"):
        assert_published(c, 8080, proto="icmp")
