"""The warm pool: a pooled container is one the test cannot tell from a fresh one, also after it
served an earlier test; only exact requests take one; a test gives it back only as it started;
and every pooled container is removed at the end (handed out or not). Kept networks likewise:
a network an ended test gave back serves the next request of the same name and options as a
fresh one would, is refused where the host holds anything of its past, and goes at the end."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from pytest_dockernet import (
    DockerNet,
    assert_bridge_members,
    assert_reachable,
    assert_resolves,
    assert_route,
)
from pytest_dockernet.engine import labels
from pytest_dockernet.engine.client import api_at_least
from pytest_dockernet.errors import DockernetError
from pytest_dockernet.model import Container
from pytest_dockernet.observe.container_state import processes_of
from pytest_dockernet.observe.links import links
from pytest_dockernet.observe.network_state import leftovers
from pytest_dockernet.observe.routes import routes
from pytest_dockernet.retry import NotYet, wait_until
from pytest_dockernet.topology import WarmPool, warm_pool
from pytest_dockernet.topology.kept_networks import KeptNetworks
from pytest_dockernet.topology.warm import POOL_API
from tests.conftest import labelled


@pytest.fixture
def identity() -> labels.RunIdentity:
    return labels.RunIdentity.current()  # a run id of its own: the plugin's pool has another


def pools(client: docker.DockerClient) -> bool:
    return api_at_least(client, POOL_API)


@pytest.fixture
def pool(client: docker.DockerClient, identity: labels.RunIdentity) -> Iterator[WarmPool]:
    if not pools(client):
        pytest.skip("the warm pool runs on Docker 28 and later")
    made = warm_pool(client, identity, 2)
    made.fill(2)
    yield made
    assert [str(p) for p in made.close()] == []
    assert labelled(client, labels.SESSION, identity.run_id) == []


def ready(pool: WarmPool, count: int) -> WarmPool:
    def filled() -> bool | NotYet:
        assert pool.failure is None, pool.failure
        return pool.ready >= count or NotYet(f"{pool.ready} ready")

    wait_until(filled, 60, f"the warm pool to have {count} containers ready", interval=0.05)
    return pool


def inside(container: Container, command: str) -> str:
    result = docker.from_env().containers.get(container.id).exec_run(["/bin/sh", "-c", command])
    assert result.exit_code == 0, result.output
    return str(result.output.decode())


def seen_inside(container: Container) -> dict[str, object]:
    """Everything a process in the container, or the host looking in, could tell it by; its
    own addresses written as SELF and interfaces by the network they are on, so that two
    containers compare (Docker names a fresh container's interfaces in no fixed order: on
    20.10 it connects its networks in Go's map order)."""
    own = re.compile("|".join(rf"\b{re.escape(str(ip))}\b" for ip in container.addresses.values()))
    on = {
        link.name: next(n.alias for n in container.networks if link.addresses[0].ip in n.subnet)
        for link in links(container.pid)
        if link.kind == "veth"
    }

    def anonymous(text: str) -> str:
        text = own.sub("SELF", text)
        return re.sub(r"\bdev (\w+)", lambda m: f"dev {on.get(m[1], m[1])}", text)

    return {
        "uname -n": inside(container, "cat /proc/sys/kernel/hostname").strip(),
        "/etc/hostname": inside(container, "cat /etc/hostname").strip(),
        "/etc/hosts": anonymous(inside(container, "cat /etc/hosts")),
        "/etc/resolv.conf": inside(container, "cat /etc/resolv.conf"),
        "links": sorted(
            (on.get(link.name, link.name), link.kind, link.up) for link in links(container.pid)
        ),
        "routes": sorted(anonymous(str(route)) for route in routes(container.pid)),
    }


def compare_with_fresh(dn: DockerNet, pool: WarmPool, used: bool) -> str:
    """Take a pooled container and a fresh one on the same two networks and compare them in
    everything either one could tell; returns the pooled one's id."""
    served, reused = pool.served, pool.reused
    front, back = dn.network("front"), dn.network("back")
    route = {"10.254.0.0/24": front.subnet[200]}
    pooled = dn.container("pooled", networks=[front, back], routes=route)
    # env= is decided at create time: no pooled container can serve it
    fresh = dn.container("fresh", networks=[front, back], routes=route, env={"A": "1"})
    assert pooled.wait_started() and fresh.wait_started()
    assert (pool.served, pool.reused) == (served + 1, reused + used)
    assert pooled.name == dn.identity.docker_name("w-pooled")
    mine, theirs = seen_inside(pooled), seen_inside(fresh)
    assert mine["uname -n"] == mine["/etc/hostname"] == "pooled"
    assert theirs["uname -n"] == theirs["/etc/hostname"] == "fresh"
    assert mine["/etc/hosts"] == str(theirs["/etc/hosts"]).replace("fresh", "pooled")
    assert {
        k: v for k, v in mine.items() if k not in ("uname -n", "/etc/hostname", "/etc/hosts")
    } == {k: v for k, v in theirs.items() if k not in ("uname -n", "/etc/hostname", "/etc/hosts")}
    assert_bridge_members(front, [pooled, fresh])
    assert_route(pooled, "10.254.0.0/24", via=front.subnet[200])
    for src, dst in ((pooled, fresh), (fresh, pooled)):
        assert_reachable(src, dst)
        assert_resolves(src, dst.alias, to=dst)
        assert_resolves(src, dst.name, to=dst)
    return pooled.id


def test_a_pooled_container_is_what_a_fresh_one_would_be(client, pool, identity):
    with DockerNet(client, identity, warm=ready(pool, 2), scope="w") as dn:
        pooled_id = compare_with_fresh(dn, pool, used=False)
    # given back: on no network, under a pool name, waiting for the next test
    assert pool.refused == []
    state = client.api.inspect_container(pooled_id)
    assert state["NetworkSettings"]["Networks"] == {}
    assert state["Name"].lstrip("/").startswith(identity.docker_name("_warm"))


def test_a_container_given_back_serves_the_next_test_as_a_fresh_one(client, pool, identity):
    """What issue 14's comparison tells on a fresh container holds on one that served a test
    (which pinged, resolved names and had a route added, then left its networks)."""
    with DockerNet(client, identity, warm=ready(pool, 2), scope="w") as dn:
        first = compare_with_fresh(dn, pool, used=False)
    with DockerNet(client, identity, warm=pool, scope="w") as dn:
        assert compare_with_fresh(dn, pool, used=True) == first
    assert pool.refused == []


def test_a_container_left_changed_is_removed_not_given_back(client, pool, identity):
    with DockerNet(client, identity, warm=ready(pool, 2), scope="w") as dn:
        pooled = dn.container("pooled", networks=[dn.network("n")])
        pooled.wait_started()
        client.containers.get(pooled.id).exec_run(["sleep", "600"], detach=True)
        client.containers.get(pooled.id).exec_run(["/bin/sh", "-c", "echo x > /left-behind"])
        wait_until(lambda: processes_of(pooled.pid) == 2, 10, "sleep to run", interval=0.05)
        pooled_id = pooled.id
    assert len(pool.refused) == 1
    assert pool.refused[0].startswith("pooled: ")
    assert "processes: 1 -> 2" in pool.refused[0]
    assert "'/left-behind'" in pool.refused[0]
    with pytest.raises(docker.errors.NotFound):  # removed with the test that took it
        client.api.inspect_container(pooled_id)


def test_requests_a_pooled_container_cannot_answer_start_fresh(client, pool, identity):
    with DockerNet(client, identity, warm=ready(pool, 2), scope="w") as dn:
        a, b = dn.network("a"), dn.network("b")
        made = [
            dn.router("r", networks=[a, b]),
            dn.container("cmd", networks=[a], command=["sleep", "60"]),
            dn.container("env", networks=[a], env={"X": "1"}),
            dn.container("port", networks=[a], ports={8080: ("127.0.0.1", None)}),
            dn.container("caps", networks=[a], cap_add=["NET_ADMIN"]),
        ]
        for container in made:
            container.wait_started()
        assert pool.served == 0
        taken = dn.container("plain", networks=[a])
        taken.wait_started()
        assert pool.served == 1


@pytest.fixture
def kept(client: docker.DockerClient, pool: WarmPool) -> Iterator[KeptNetworks]:
    made = KeptNetworks(client)
    yield made
    assert [str(p) for p in made.close()] == []


def test_a_kept_network_serves_the_next_test_as_a_fresh_one(client, pool, kept, identity):
    """The second test's network is the first's, emptied; its containers get the addresses,
    names and paths the same test got on a fresh network, and the host holds nothing of the
    first test's containers (moby's local IPAM hands out the lowest free address)."""
    seen = []
    for i in range(3):  # each test's DockerNet has a scope of its own, as the fixtures' do
        with DockerNet(
            client, identity, warm=ready(pool, 2), kept_networks=kept, scope=f"k{i}"
        ) as dn:
            lan = dn.network("lan", icc=True)
            a, b = dn.container("a", networks=[lan]), dn.container("b", networks=[lan])
            assert_bridge_members(lan, [a, b])
            assert_reachable(a, b)
            assert_resolves(a, "b", to=b)
            both = {a.addresses[lan], b.addresses[lan]}  # started together: either order
            seen.append((lan.id, lan.subnet, lan.gateway, both))
    first, second, third = seen
    assert second == first and third == first  # the same network, the same addresses
    assert first[3] == {lan.subnet[2], lan.subnet[3]}  # as on a fresh network
    with DockerNet(client, identity, warm=pool, kept_networks=kept, scope="k3") as dn:
        assert dn.network("lan", mtu=1400).id != first[0]  # other options: another network
    assert (kept.kept, kept.served, kept.refused) == (4, 2, [])
    assert leftovers(lan.bridge, lan.subnet, lan.gateway) == []
    net = client.api.inspect_network(first[0])
    assert net["Containers"] == {}
    assert net["Labels"][labels.NAME] == "lan"


def test_a_network_the_host_remembers_is_removed_not_kept(client, pool, kept, identity):
    with DockerNet(client, identity, warm=ready(pool, 2), kept_networks=kept) as dn:
        lan = dn.network("lan")
        dn.container("a", networks=[lan]).wait_started()
        stranger = lan.subnet[200]  # a neighbour entry the containers' leaving does not take
        subprocess.run(
            [
                "ip",
                "neigh",
                "add",
                str(stranger),
                "lladdr",
                "02:00:00:00:00:c8",
                "dev",
                lan.bridge,
                "nud",
                "permanent",
            ],
            check=True,
        )
    assert kept.refused == [f"{lan.name}: neighbour {stranger} on {lan.bridge}"]
    with pytest.raises(docker.errors.NotFound):  # removed with its test
        client.api.inspect_network(lan.id)


PLUGIN_RUN = """
import pathlib

import pytest

from pytest_dockernet.retry import wait_until


def test_one(dockernet):
    dockernet.container("a", networks=[dockernet.network("n")]).wait_started()


@pytest.mark.parametrize("i", [2, 3])
def test_served(dockernet, dockernet_factory, i):
    pool = dockernet_factory.warm
    if pool is not None:  # so that this test's container is served from the pool: the third
        # test waits for the second's container to be given back (the pool started another
        # meanwhile, which it would take otherwise)
        wanted = i - 1
        wait_until(lambda: pool.ready >= wanted, 60, f"{wanted} ready", interval=0.05)
    dockernet.container("a", networks=[dockernet.network("n")]).wait_started()
    pathlib.Path("seen").write_text(
        f"{dockernet_factory.identity.run_id} {pool.size if pool else 0} "
        f"{pool.served if pool else 0} {pool.reused if pool else 0}"
    )
"""


@pytest.mark.parametrize("size", [0, 2])
def test_the_option_sizes_the_runs_pool_and_its_end_removes_it(pytester, client, size):
    pytester.makepyfile(test_pooled=PLUGIN_RUN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--dockernet-warm={size}")
    result.assert_outcomes(passed=3)
    run_id, pool_size, served, reused = (pytester.path / "seen").read_text().split()
    pooling = size > 0 and pools(client)  # off before Docker 28, whatever the option says
    assert int(pool_size) == (size if pooling else 0)
    # the first test starts fresh (nothing is ready yet); the second takes a pooled container,
    # which it gives back to serve the third
    assert (int(served) >= 2) == pooling
    assert int(reused) == pooling
    assert labelled(client, labels.SESSION, run_id) == []


def test_before_docker_28_the_pool_is_refused_naming_the_engine(client, identity):
    if pools(client):
        pytest.skip("Docker 28 and later run the pool")
    with pytest.raises(
        DockernetError, match=r"the warm pool needs Docker 28 or later \(API 1\.48\)"
    ):
        warm_pool(client, identity, 2)
