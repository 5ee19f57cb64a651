"""The guard of DNS queries from containers the plugin did not create: names Docker answers
itself are asked, anything that could be forwarded off this machine is refused before a query
is sent, and the plugin's own containers are unchanged.

The user's "app" keeps Docker's default DNS (the host's resolvers, off this machine): every
name asked from it here is either one Docker answers itself or refused before any query. Every
other user container forwards to loopback (``dns=["127.0.0.1"]``) or to a container of the
test. No test passes ``may_forward=True`` but with a resolver on this machine.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import pytest

from pytest_dockernet import (
    assert_not_resolvable,
    assert_reachable,
    assert_resolves,
    assert_unreachable,
)
from pytest_dockernet.engine.images import ensure_default_image
from pytest_dockernet.observe.forwarding import DOCKER_FALLBACK, forwarded_to, host_servers
from pytest_dockernet.observe.names import ResolvConf
from pytest_dockernet.topology.factory import DockerNetFactory

USER_LABEL = "pytest-dockernet-test.users-own"


@pytest.fixture
def image_name(client: docker.DockerClient) -> str:
    return ensure_default_image(client)


@pytest.fixture
def users(
    client: docker.DockerClient, image_name: str, dockernet_factory: DockerNetFactory
) -> Iterator[dict[str, object]]:
    """A user's network with "app" (Docker's default DNS), "db" and a container Docker named,
    made with plain docker-py. Tests ask for it before ``dockernet``, so that it is torn down
    after the plugin's; it waits for that background teardown (``settle``), as a user's own
    fixture must, before it removes the network the plugin's containers joined."""
    tag = uuid.uuid4().hex[:8]
    labels = {USER_LABEL: tag}
    made: list[object] = []
    try:
        net = client.networks.create(f"users-dns-{tag}", driver="bridge", labels=labels)
        made.append(net)
        found: dict[str, object] = {"net": net, "tag": tag}
        for key, name, dns in (
            ("app", f"users-app-{tag}", None),  # the host's resolvers: never asked here
            ("db", f"users-db-{tag}", ["127.0.0.1"]),
            ("unnamed", None, ["127.0.0.1"]),  # Docker generates its name
        ):
            found[key] = client.containers.run(
                image_name, name=name, network=net.name, dns=dns, labels=labels, detach=True
            )
            made.append(found[key])
        yield found
    finally:
        dockernet_factory.settle()
        for thing in reversed(made):
            if isinstance(thing, docker.models.containers.Container):
                thing.remove(force=True)
            else:
                thing.remove()  # type: ignore[attr-defined]


def outside_servers() -> tuple[str, ...]:
    """Where Docker's embedded DNS forwards for a container with no ``--dns`` on this host."""
    servers, path = host_servers()
    return forwarded_to(ResolvConf(("127.0.0.11",)), [], servers, path).addresses


def test_a_name_docker_answers_itself_is_asked(users, dockernet):
    net = dockernet.existing_network(users["net"].name)
    app = dockernet.existing_container(users["app"].name)
    db = dockernet.existing_container(users["db"].name)
    assert_resolves(app, db.name, to=db)
    assert_resolves(app, f"{db.name}.{net.name}", to=db)
    assert_resolves(app, users["db"].id[:12], to=db)  # the short id, an alias of its own
    assert_reachable(app, db.name)  # ping by name: the same guard, then Docker's answer

    # Fix 1 of the refusal: a plugin container on the user's network asks anything.
    probe = dockernet.container("probe", [net])
    assert_resolves(app, "probe", to=probe)  # its name in the test is an alias on `net`
    assert_resolves(probe, users["app"].name, to=app)
    assert_not_resolvable(probe, "nosuchname", timeout=0.3)


def test_what_docker_would_forward_is_refused_before_any_query(users, dockernet, client):
    net = dockernet.existing_network(users["net"].name)
    app = dockernet.existing_container(users["app"].name)
    probe = dockernet.container("probe", [net])
    elsewhere = dockernet.container("elsewhere", [dockernet.network("ours")])
    probe.wait_started(), elsewhere.wait_started()  # Docker's view, read next, includes them
    members = set(client.api.inspect_network(net.id)["Containers"])
    registered = set(dockernet.registry.containers)

    with pytest.raises(ValueError, match="could send a DNS query") as info:
        assert_not_resolvable(app, "nosuchname")
    text = str(info.value)
    assert f"container '{app.name}' could send a DNS query for 'nosuchname' off" in text
    assert f"to {', '.join(outside_servers())}, from " in text
    assert "nothing was asked" in text
    assert f'dockernet.existing_network("{net.name}")' in text
    assert "`dns: 127.0.0.1`" in text and "may_forward=True" in text

    started = time.monotonic()
    with pytest.raises(ValueError, match="may_forward=True"):
        assert_resolves(app, "nosuchname", within=5)  # refused at once, never tried again
    assert time.monotonic() - started < 2
    with pytest.raises(ValueError, match=r"'[a-z]+_[a-z]+\d*' is no container's name"):
        assert_resolves(app, users["unnamed"].name)  # Docker does not answer a name it made
    with pytest.raises(ValueError, match="pass the Container itself"):
        assert_unreachable(app, "elsewhere")  # no shared network: Docker would forward it
    assert_unreachable(app, elsewhere)  # the Container itself: no name is asked

    # The refusals left nothing: the same members, the same registry, the probe still answers.
    assert set(client.api.inspect_network(net.id)["Containers"]) == members
    assert set(dockernet.registry.containers) == registered
    assert_reachable(probe, app)


def test_a_resolver_of_the_test_is_on_this_machine(users, dockernet, client, image_name):
    net = dockernet.existing_network(users["net"].name)
    resolver = dockernet.container("resolver", [net])  # nothing listens on 53: a dead end here
    own = client.containers.run(
        image_name,
        name=f"users-own-dns-{users['tag']}",
        network=net.name,
        dns=[str(resolver.ip(net))],
        labels={USER_LABEL: users["tag"]},
        detach=True,
    )
    try:
        src = dockernet.existing_container(own.name)
        found = assert_not_resolvable(src, "nosuchname", timeout=0.5)
        assert [q.name for q in found.queries] == ["nosuchname"]
        assert_not_resolvable(src, "nosuchname", timeout=0.5, may_forward=True)
    finally:
        own.remove(force=True)


def test_without_embedded_dns_every_name_is_refused(users, dockernet, client, image_name):
    """On the default bridge network the container asks the servers its resolv.conf lists."""
    plain = client.containers.run(image_name, labels={USER_LABEL: users["tag"]}, detach=True)
    try:
        src = dockernet.existing_container(plain.name)
        with pytest.raises(ValueError, match="it has no embedded DNS") as info:
            assert_resolves(src, plain.name)
        assert "from the container's /etc/resolv.conf" in str(info.value)
    finally:
        plain.remove(force=True)


def _ipv4(server: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(server), ipaddress.IPv4Address)
    except ValueError:
        return False


@contextmanager
def dns_watch(servers: list[str]) -> Iterator[list[str]]:
    """Count (and drop) DNS packets to ``servers`` leaving the host; the listing at the end."""
    table = f"dockernet_fwd_watch_{uuid.uuid4().hex[:6]}"
    rules = (
        f"table inet {table} {{\n  chain out {{\n"
        "    type filter hook postrouting priority 0;\n"
        f"    ip daddr {{ {', '.join(servers)} }} meta l4proto {{ tcp, udp }} th dport 53 "
        "counter drop\n  }\n}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    listing: list[str] = []
    try:
        yield listing
        listing.append(
            subprocess.run(
                ["nft", "list", "table", "inet", table], capture_output=True, text=True, check=True
            ).stdout
        )
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=False)


@pytest.mark.serial  # a firewall table of its own, for the few seconds it asks
def test_nothing_is_asked_off_this_machine(users, dockernet):
    """The allowed names and the refusals above, counted on the way out: no packet."""
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed: cannot count packets to the host's resolvers")
    servers = sorted(s for s in {*outside_servers(), *DOCKER_FALLBACK} if _ipv4(s))
    app = dockernet.existing_container(users["app"].name)
    db = dockernet.existing_container(users["db"].name)
    with dns_watch(servers) as listing:
        assert_resolves(app, db.name, to=db)
        assert_reachable(app, db.name)
        for name in ("nosuchname", "no.such.example", users["unnamed"].name):
            with pytest.raises(ValueError, match="nothing was asked"):
                assert_not_resolvable(app, name, timeout=0.5)
    assert "counter packets 0 bytes 0" in listing[0], listing[0]
