"""The factory against the real engine: what it creates, how it names and labels it, and that
it removes all of it."""

from __future__ import annotations

import ipaddress

import docker
import pytest

from pytest_dockernet import DockerNet, assert_reachable
from pytest_dockernet.engine import labels
from pytest_dockernet.errors import ContainerStartError
from pytest_dockernet.observe import links, names, routes
from tests.conftest import labelled


def test_network_gets_a_free_subnet_a_bridge_and_labels(dockernet, client):
    net = dockernet.network("sample")
    assert net.subnet.subnet_of(ipaddress.IPv4Network("10.199.0.0/16"))
    assert net.gateway == next(net.subnet.hosts())
    assert net.bridge == f"br-{net.id[:12]}"
    bridge = links.by_name(links.links(None), net.bridge)
    assert bridge is not None and bridge.kind == "bridge"
    assert ipaddress.IPv4Interface(f"{net.gateway}/{net.subnet.prefixlen}") in bridge.addresses
    attrs = client.api.inspect_network(net.id)
    assert attrs["Name"] == net.name and net.name.endswith("-sample")
    assert attrs["Labels"][labels.SESSION] == dockernet.identity.run_id
    assert attrs["Labels"][labels.NAME] == "sample"


def test_two_networks_never_share_a_subnet(dockernet):
    nets = [dockernet.network(f"n{i}") for i in range(4)]
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.subnet.overlaps(b.subnet)


def test_explicit_subnet_gateway_and_static_addresses(dockernet):
    net = dockernet.network("fixed", subnet="10.231.7.0/24", gateway="10.231.7.254")
    c = dockernet.container("c", networks={net: "10.231.7.9"})
    assert (net.subnet, net.gateway) == (
        ipaddress.IPv4Network("10.231.7.0/24"),
        ipaddress.IPv4Address("10.231.7.254"),
    )
    assert c.ip(net) == ipaddress.IPv4Address("10.231.7.9")
    assert routes.Route(routes.DEFAULT, net.gateway, "eth0") in routes.routes(c.pid)


def test_container_on_two_networks_and_aliases_resolve(dockernet):
    a, b = dockernet.network("a"), dockernet.network("b")
    c1 = dockernet.container("one", networks=[a, b])
    c2 = dockernet.container("two", networks=a)
    assert set(c1.networks) == {a, b}
    inside = links.links(c1.pid)
    assert {ip for link in inside for ip in (i.ip for i in link.addresses)} >= {c1.ip(a), c1.ip(b)}
    assert names.resolve(c2.pid, "one") == (c1.ip(a),)
    with pytest.raises(ValueError, match="not on network 'b'"):
        c2.ip(b)


def test_seed_ping_by_name_works_inside_the_default_image(dockernet):
    """The aliases are Docker's own: busybox's ping in the container resolves them too."""
    net = dockernet.network("sample")
    c1 = dockernet.container("container1", networks=[net])
    c2 = dockernet.container("container2", networks=[net])
    c2.wait_started()  # docker-py's exec does not wait for the background start
    result = dockernet.client.containers.get(c1.id).exec_run(["ping", "-c1", "-W2", "container2"])
    assert result.exit_code == 0, result.output


def test_internal_network_keeps_its_route_but_cannot_leave(dockernet):
    """Docker 20.10 still gives a default route; the firewall drops what leaves the subnet."""
    from pytest_dockernet import assert_reachable, assert_unreachable

    net = dockernet.network("inside", internal=True)
    c = dockernet.container("c", networks=[net])
    peer = dockernet.container("peer", networks=[net])
    far = dockernet.container("far", networks=[dockernet.network("elsewhere")])
    assert net.internal
    assert_reachable(c, peer)
    assert_unreachable(c, far, timeout=0.3)


def test_router_forwards_with_namespaced_sysctl_and_net_admin(dockernet, client):
    a, b = dockernet.network("a"), dockernet.network("b")
    r = dockernet.router("r", networks=[a, b])
    attrs = client.api.inspect_container(r.id)["HostConfig"]
    assert attrs["CapAdd"] == ["NET_ADMIN"]
    assert attrs["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert attrs["Privileged"] is False
    plain = dockernet.container("plain", networks=[a])
    assert client.api.inspect_container(plain.id)["HostConfig"]["CapAdd"] is None
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == "1"  # the host's own value, set by Docker, untouched by us


def test_close_removes_containers_then_networks(client):
    dn = DockerNet(client)
    try:
        net = dn.network("gone")
        c1 = dn.container("c1", networks=[net])
        r = dn.router("r", networks=[net, dn.network("gone2")])
        c1.wait_started(), r.wait_started()
        assert len(labelled(client, labels.SESSION, dn.identity.run_id)) == 4
    finally:
        dn.close()
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []
    dn.close()  # idempotent


def test_container_that_exits_at_once_shows_exit_code_and_logs(client):
    """Seen exited at start, or on first use of its namespace: the same report either way."""
    with DockerNet(client) as dn:
        net = dn.network("n")
        report = r"container 'quitter' is not running: it exited with code 3.*\n.*boom"
        with pytest.raises(ContainerStartError, match=report) as info:  # noqa: PT012 (either step)
            quitter = dn.container("quitter", networks=[net], command="echo boom; exit 3")
            client.api.wait(quitter.id, timeout=10)
            routes.routes(quitter.pid)
        assert "command=" in str(info.value)
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []


def test_default_image_is_built_locally_and_reused(dockernet, client: docker.DockerClient):
    image = dockernet.image
    assert image.startswith("pytest-dockernet/busybox:")
    attrs = client.images.get(image).attrs
    assert attrs["Config"]["Cmd"] == ["/bin/sleep", "2147483647"]
    assert dockernet.image == image


def test_containers_start_in_the_background_with_their_addresses_known(dockernet):
    a, b = dockernet.network("a"), dockernet.network("b")
    r = dockernet.router("r", networks=[a, b])
    h1 = dockernet.container("h1", networks=[a], routes={str(b.subnet): r})
    h2 = dockernet.container("h2", networks={b: str(b.subnet.network_address + 9)})
    # Known at once, as Docker would pick them: the lowest free address but the gateway.
    assert (r.ip(a), r.ip(b)) == (a.subnet.network_address + 2, b.subnet.network_address + 2)
    assert h1.ip(a) == a.subnet.network_address + 3
    assert h2.ip(b) == b.subnet.network_address + 9
    with pytest.raises(ValueError, match="already taken by container 'h2'"):
        dockernet.container("h3", networks={b: str(b.subnet.network_address + 9)})
    # The route via r is in h1 once h1 runs, whether r runs yet or not.
    assert routes.Route(b.subnet, r.ip(a), "eth0") in routes.routes(h1.pid)
    for c in (r, h1, h2):  # what Docker reports is what the plugin announced
        attached = c.registry.client.api.inspect_container(c.id)["NetworkSettings"]["Networks"]
        assert {n: str(ip) for n, ip in c.addresses.items()} == {
            n: attached[n.name]["IPAddress"] for n in c.addresses
        }
    assert {c.alias for c in dockernet.containers.values()} == {"r", "h1", "h2"}


def test_parallel_block_still_waits_for_its_containers(dockernet):
    net = dockernet.network("n")
    with dockernet.parallel():
        c1 = dockernet.container("c1", networks=[net])
        c2 = dockernet.container("c2", networks=[net])
    assert c1.starting.done() and c2.starting.done()
    assert_reachable(c1, c2)


def test_a_failed_start_raises_where_it_is_used_and_leaks_nothing(client):
    with DockerNet(client) as dn:
        net = dn.network("n")
        with pytest.raises(ContainerStartError, match="'bad' .*did not start"), dn.parallel():  # noqa: PT012
            dn.container("good", networks=[net])
            dn.container("bad", networks=[net], command=["/no/such/binary"])
        assert dn.containers["good"].pid > 0
        bad = dn.containers["bad"]
        with pytest.raises(ContainerStartError, match="'bad' .*did not start"):
            bad.pid  # noqa: B018  (the error of the start, again, where it is used)
        assert dn.start_errors() == []  # the test was told
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []
