"""Networks and containers the plugin did not create: read, checked, joined, never changed.

The "user's" resources here are made with plain docker-py and a label of this test's own (not
the plugin's), as a user's stack would be, and removed by the test itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import docker
import pytest

from pytest_dockernet import (
    assert_bridge_members,
    assert_port_open,
    assert_reachability,
    assert_reachable,
    assert_route,
    assert_unreachable,
    host_veth,
)
from pytest_dockernet.engine import images

USER_LABEL = "pytest-dockernet-test.users-own"


@pytest.fixture
def users_stack(client: docker.DockerClient, image_name: str) -> Iterator[dict[str, object]]:
    """A network and two containers made the way a user's tooling makes them.

    Tests ask for it before ``dockernet``, so that it is torn down after the plugin's probes
    have left the network.
    """
    tag = uuid.uuid4().hex[:8]
    made: list[object] = []
    try:
        net = client.networks.create(f"users-{tag}", driver="bridge", labels={USER_LABEL: tag})
        made.append(net)
        apps = []
        for name in ("app", "cache"):
            c = client.containers.run(
                image_name,
                name=f"users-{name}-{tag}",
                network=net.name,
                labels={USER_LABEL: tag},
                detach=True,
            )
            made.append(c)
            apps.append(c)
        yield {"net": net, "app": apps[0], "cache": apps[1], "tag": tag}
    finally:
        for thing in reversed(made):
            if isinstance(thing, docker.models.containers.Container):
                thing.remove(force=True)
            else:
                thing.remove()  # type: ignore[attr-defined]


@pytest.fixture
def image_name(client: docker.DockerClient) -> str:
    return images.ensure_default_image(client)


def test_existing_resources_are_checked_and_left_as_they_were(users_stack, client, dockernet):
    net = dockernet.existing_network(users_stack["net"].name)
    app = dockernet.existing_container(users_stack["app"].name)
    cache = dockernet.existing_container(users_stack["cache"].id)  # by id works too
    assert net.existing and app.existing and cache.existing
    assert app.networks == (net,) and cache.networks == (net,)  # the same value, not a copy
    assert_bridge_members(net, [app, cache], exact=True)
    assert_reachable(app, cache)
    walk = dockernet.trace(app, cache)
    assert walk.request_arrived and walk.reply_arrived
    assert host_veth(app, net) in [h.interface for h in walk.request]

    # A probe dropped into the user's network, removed afterwards while the network stays.
    probe = dockernet.container("probe", [net])
    assert not probe.existing
    assert_reachable(probe, app)
    assert_bridge_members(net, [app, cache, probe], exact=True)
    assert_reachability([app, cache, probe])
    listener = dockernet.listen(probe, 7000)
    assert_port_open(app, probe, 7000)
    assert listener.peers == (app.ip(net),)

    dockernet.close()
    assert client.networks.get(users_stack["net"].id).name == users_stack["net"].name
    for key in ("app", "cache"):
        assert client.containers.get(users_stack[key].id).status == "running"
    left = client.networks.get(users_stack["net"].id).attrs["Containers"] or {}
    assert set(left) == {users_stack["app"].id, users_stack["cache"].id}  # the probe went


def test_changing_an_existing_container_needs_the_opt_in(users_stack, dockernet):
    app = dockernet.existing_container(users_stack["app"].name)
    with pytest.raises(ValueError, match=r"add_route\(\) would change container .*allow_existing"):
        dockernet.add_route(app, "10.250.0.0/24", via=app.networks[0].gateway)
    with pytest.raises(ValueError, match=r"listen\(\) would change .*allow_existing=True"):
        dockernet.listen(app, 7000)
    dockernet.add_route(app, "10.250.0.0/24", via=app.networks[0].gateway, allow_existing=True)
    assert_route(app, "10.250.0.0/24", via=app.networks[0].gateway)


def test_isolation_of_a_users_network_from_a_plugin_network(users_stack, dockernet):
    theirs = dockernet.existing_network(users_stack["net"].name)
    ours = dockernet.network("ours")
    app = dockernet.existing_container(users_stack["app"].name)
    mine = dockernet.container("mine", [ours])
    assert theirs.existing and not ours.existing
    assert_unreachable(mine, app)


def test_bad_names_say_what_exists(dockernet, client, image_name):
    with pytest.raises(ValueError, match=r"no network 'no-such-net-x' .*docker network ls"):
        dockernet.existing_network("no-such-net-x")
    with pytest.raises(ValueError, match=r"no container 'no-such-ctr-x' .*docker ps"):
        dockernet.existing_container("no-such-ctr-x")
    with pytest.raises(TypeError, match="existing_container"):
        dockernet.existing_container(None)
    assert dockernet.containers == {}


def test_a_container_on_the_hosts_network_is_read_and_refuses_namespace_checks(
    dockernet, client, image_name
):
    host_mode = client.containers.run(
        image_name, network_mode="host", labels={USER_LABEL: "host"}, detach=True
    )
    try:
        agent = dockernet.existing_container(host_mode.id)
        assert (agent.network_mode, agent.networks, agent.service) == ("host", (), "")
        with pytest.raises(
            ValueError,
            match=rf"container '{host_mode.name}' has network_mode 'host': no network namespace "
            "of its own to check; host networking uses the host's own namespace",
        ):
            assert_reachable(agent, "127.0.0.1")
    finally:
        host_mode.remove(force=True)
