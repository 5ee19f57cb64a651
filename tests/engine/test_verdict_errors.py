"""A state other than the expected one is a verdict: every assertion fails with AssertionError
showing what it observed beside what it expected, whatever that state is (a port Docker does
not publish, a name that does not resolve, a router on no shared network). ValueError and
TypeError stay for arguments that cannot mean anything (tests/engine/test_bad_input.py).

Names are resolved as the source container resolves them: a compose service, a network alias,
a container's name; one that resolves off this machine is refused before any packet is sent.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.rrset
import pytest

from pytest_dockernet import (
    assert_path,
    assert_port_closed,
    assert_port_open,
    assert_published,
    assert_reachable,
    assert_route,
    assert_unreachable,
)
from pytest_dockernet.engine.netns import udp_socket
from pytest_dockernet.model import Container

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "compose" / "compose.yaml"
OUTSIDE = ipaddress.IPv4Address("192.0.2.7")
"""TEST-NET-1: on no Docker network of this engine, and never sent a packet."""


@pytest.fixture
def pair(dockernet):
    net = dockernet.network("lan")
    a = dockernet.container("a", [net])
    b = dockernet.container("b", [net])
    return net, a, b


@contextmanager
def resolver_in(container: Container, address: ipaddress.IPv4Address) -> Iterator[list[str]]:
    """A DNS server on 127.0.0.1:53 in ``container``'s namespace, where Docker's embedded DNS
    forwards what it does not know for the plugin's containers: it answers every question with
    ``address``, and lists the names it was asked."""
    asked: list[str] = []
    sock = udp_socket(container.pid)
    sock.bind(("127.0.0.1", 53))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            asked.append(str(query.question[0].name))
            answer = dns.message.make_response(query)
            name = query.question[0].name
            answer.answer.append(dns.rrset.from_text(name, 60, "IN", "A", str(address)))
            sock.sendto(answer.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        stop.set()
        thread.join()
        sock.close()


# -- published ports ------------------------------------------------------------------------


def test_a_port_docker_does_not_publish_fails_with_what_it_publishes(dockernet):
    net = dockernet.network("lan")
    web = dockernet.container("web", [net], ports={8080: None})
    with pytest.raises(AssertionError) as info:
        assert_published(web, 9999)
    text = str(info.value)
    assert "container 'web' does not publish port 9999/tcp" in text  # expected, not seen
    assert re.search(
        r"it publishes: 8080/tcp on 0\.0\.0\.0:\d+(, 8080/tcp on \[::\]:\d+)?\)", text
    )  # observed
    assert "pass ports={9999: None} to container()" in text  # the fix


def test_a_container_publishing_nothing_fails_saying_so(dockernet):
    plain = dockernet.container("plain", [dockernet.network("lan")])
    with pytest.raises(AssertionError, match=r"port 53/udp \(it publishes: nothing\)"):
        assert_published(plain, 53, proto="udp", within=0.3)


# -- routes ---------------------------------------------------------------------------------


def test_a_route_via_a_container_on_no_shared_network_fails(dockernet):
    a, b = dockernet.network("a"), dockernet.network("b")
    near = dockernet.container("near", [a])
    far = dockernet.container("far", [b])
    with pytest.raises(AssertionError) as info:
        assert_route(near, "10.231.50.0/24", via=far)
    text = str(info.value)
    assert "no route '10.231.50.0/24 via container 'far'' in container 'near'" in text
    assert "container 'far' shares no network with it (container 'near' is on 'a'" in text
    assert f"container 'far' on 'b'); its routes (main table):\n    default via {a.gateway}" in text


# -- names that do not resolve from the source ----------------------------------------------


def test_reachable_to_a_name_that_does_not_resolve_fails(pair):
    _, a, _ = pair
    with pytest.raises(AssertionError) as info:
        assert_reachable(a, "nosuch")
    text = str(info.value)
    assert text.startswith("container 'a' cannot reach 'nosuch' (did not resolve in container")
    assert "nosuch: no answer" in text or "nosuch: SERVFAIL" in text  # what the query met


def test_unreachable_holds_for_a_name_that_does_not_resolve(pair):
    _, a, _ = pair
    assert_unreachable(a, "nosuch")  # a cannot reach it by that name: the verdict holds


def test_port_open_to_a_name_that_does_not_resolve_fails(pair):
    _, a, _ = pair
    with pytest.raises(AssertionError, match=r"^container 'a' cannot reach 'nosuch' \(did not"):
        assert_port_open(a, "nosuch", 80)


def test_port_closed_holds_for_a_name_that_does_not_resolve(pair):
    _, a, _ = pair
    assert assert_port_closed(a, "nosuch", 80) is None


def test_path_to_a_name_that_does_not_resolve_fails(pair, dockernet):
    _, a, _ = pair
    with pytest.raises(AssertionError) as info:
        assert_path(a, "nosuch")
    text = str(info.value)
    assert "the request never reached 'nosuch' (did not resolve in container 'a'" in text
    assert "no request was sent, since the name does not resolve" in text
    walked = dockernet.trace(a, "nosuch")
    assert (walked.address, walked.request, walked.request_arrived) == (None, (), False)


# -- names resolved as the source resolves them ---------------------------------------------


def test_a_name_resolving_off_this_machine_is_refused_before_any_packet(pair):
    _, a, b = pair
    with resolver_in(a, OUTSIDE) as asked:
        for probe in (assert_reachable, assert_unreachable):
            with pytest.raises(ValueError, match="lies outside every Docker network") as info:
                probe(a, "outside.test")
            assert "'outside.test' resolved in container 'a' to 192.0.2.7, which" in str(info.value)
        with pytest.raises(ValueError, match="resolved in container 'a' to 192.0.2.7"):
            assert_port_open(a, "outside.test", 80)
    assert "outside.test." in asked  # the name was asked, and nothing was sent to its address


def test_a_name_resolving_to_a_container_of_the_test_names_it(pair):
    net, a, b = pair
    with resolver_in(a, b.ip(net)), pytest.raises(AssertionError) as info:
        assert_unreachable(a, "b.example")
    assert f"can reach 'b.example' at {b.ip(net)}, container 'b' (resolved by Docker's DNS" in (
        str(info.value)
    )


def test_compose_names_as_the_services_resolve_them(dockernet):
    stack = dockernet.compose(EXAMPLE, project="names", env={"IMAGE": dockernet.image})
    web, api, client = (stack.services[s] for s in ("web", "api", "client"))
    assert str(web) == f"container 'web' ({web.name})"
    assert str(stack.networks["back"]).startswith(f"network 'back' ({stack.networks['back'].name})")

    assert_reachable(client, "web")  # the service name, as the client resolves it
    assert_reachable(web, "orders")  # a network alias from the file
    assert_reachable(client, web.name)  # Docker's name for the container
    assert_path(client, "web")
    dockernet.listen(api, 5432)
    assert_port_open(web, "api", 5432)
    assert_unreachable(client, "api")  # not on a network of client: no address to reach

    with pytest.raises(AssertionError) as info:
        assert_reachable(client, "api")
    assert f"container 'client' ({client.name}) cannot reach 'api' (did not resolve in" in (
        str(info.value)
    )
    with pytest.raises(AssertionError) as info:
        assert_published(api, 80)
    assert str(info.value) == (
        f"container 'api' ({api.name}) does not publish port 80/tcp (it publishes: nothing); "
        "add 80/tcp to the `ports:` of service 'api'"
    )
    with pytest.raises(AssertionError, match=r"cannot reach container 'api' \(dn-.*-api-1\) at"):
        assert_reachable(client, api, timeout=0.3)


def test_the_test_names_still_come_first(pair, dockernet):
    """A name of this test's containers is the one the test gave, and an upstream's name needs
    no DNS (from an upstream, which has no resolver, only they mean anything)."""
    net, a, b = pair
    internet = dockernet.upstream()
    assert_reachable(a, "b")
    assert_reachable(a, "internet")
    met = assert_port_closed(internet, "a", 7000)  # no route back to a: "unreachable"
    assert met is not None and met.destination == a.ip(net)
