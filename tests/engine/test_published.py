"""Published ports on the real engine: ``ports=``, ``published()`` and ``assert_published``
both ways, on the default image and on an image holding one binary.

Two paths reach a port published on every address: the host's own connection through loopback
is served by docker-proxy, which connects to the container from the bridge's gateway (with the
userland proxy off, Docker masquerades it to the gateway as well); a connection from an upstream
to the host's address facing it is rewritten by the kernel's DNAT and arrives with the
upstream's own address. The listener, inside the container, sees which.

Host ports never collide with other tests running at once: Docker picks them (None), or a test
picks one below the kernel's ephemeral range (where Docker picks its own) that a bind probe
finds free.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import threading

import pytest

from pytest_dockernet import DockerNet
from pytest_dockernet.assertions.published import assert_published
from pytest_dockernet.engine import labels
from pytest_dockernet.errors import ContainerStartError
from tests.conftest import labelled

ANY = ipaddress.IPv4Address("0.0.0.0")
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


@pytest.fixture
def lan(dockernet, pick_image):
    """A network and an upstream: the host's address facing it is where outside clients come."""
    return dockernet.network("lan"), dockernet.upstream("internet")


def free_host_port() -> int:
    """A port no socket of this host holds, for TCP and UDP, below the ephemeral range (where
    Docker and the kernel pick theirs), so that tests running at once do not meet on it."""
    with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
        ephemeral = int(f.read().split()[0])
    for _ in range(100):
        port = random.randrange(20000, min(ephemeral, 30000))
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free host port found between 20000 and 30000")


def test_every_address_reached_through_docker_proxy_and_through_dnat(dockernet, lan, pick_image):
    net, internet = lan
    web = dockernet.container("web", net, image=pick_image, ports={8080: None})
    host_ip, host_port = web.published(8080)
    assert host_ip == ANY
    assert 1 <= host_port <= 65535
    listener = dockernet.listen(web, 8080)
    check = assert_published(web, 8080)
    assert (check.host_ip, check.host_port) == (host_ip, host_port)
    (rule, *_) = check.rules
    assert (rule.target, rule.to_address, rule.to_ports) == ("DNAT", web.ip(net), (8080, 8080))
    loopback, upstream = check.attempts
    assert loopback.via == "loopback" and loopback.result.open
    assert upstream.via == "upstream 'internet'" and upstream.result.open
    assert upstream.result.answer == b"pytest-dockernet web:8080/tcp\n"
    # the paths as the host's connection tracking holds them: the upstream's connection was
    # sent on to the container, the loopback one taken by docker-proxy on the host
    assert upstream.path.startswith("kernel DNAT"), check.report()
    assert f"DNAT to {web.ip(net)}:8080" in upstream.path, check.report()
    if check.proxies:
        assert loopback.path.startswith("docker-proxy (userland)"), check.report()
        assert f"127.0.0.1:{host_port}, not translated" in loopback.path, check.report()
        assert {p.container_ip for p in check.proxies} == {str(web.ip(net))}
    # the container saw the loopback client as the bridge's gateway, the upstream as itself
    assert listener.peers == (net.gateway, internet.address), check.report()


def test_fixed_host_port(dockernet, lan, pick_image):
    net, _ = lan
    port = free_host_port()
    web = dockernet.container("web", net, image=pick_image, ports={80: port})
    assert web.published(80) == (ANY, port)
    dockernet.listen(web, 80)
    check = assert_published(web, 80)
    assert all(r.dnats_port(port, "tcp") for r in check.rules)
    # the same port again, now held by Docker: refused before Docker sees it where docker-proxy
    # holds it (the userland proxy, Docker's default); by Docker at start where only DNAT does
    with pytest.raises((ValueError, ContainerStartError)) as info:
        dockernet.container("again", net, image=pick_image, ports={80: port})
    if info.type is ValueError:
        assert f"host port {port}/tcp (for 80/tcp) is already in use" in str(info.value)
    assert "again" not in dockernet.containers


def test_loopback_binding_is_not_reachable_from_an_upstream(dockernet, lan, pick_image):
    net, internet = lan
    web = dockernet.container("web", net, image=pick_image, ports={8080: ("127.0.0.1", None)})
    host_ip, host_port = web.published(8080)
    assert host_ip == LOOPBACK
    listener = dockernet.listen(web, 8080)
    check = assert_published(web, 8080)
    loopback, upstream = check.attempts
    assert loopback.result.open
    assert not upstream.result.open and not upstream.expect_open
    assert upstream.result.outcome == "refused"  # the host itself answered: nothing there
    assert "bound to 127.0.0.1 only" in upstream.path
    assert all(r.destination == ipaddress.IPv4Network("127.0.0.1/32") for r in check.rules)
    assert listener.peers == (net.gateway,)  # only the loopback client got through


def test_loopback_binding_reached_from_an_upstream_fails(dockernet, lan, pick_image):
    """Something answering on the host's upstream-facing address at the published port stands
    in for a loopback binding exposed to the network (moby/moby#45610, before 28.0)."""
    net, internet = lan
    web = dockernet.container("web", net, image=pick_image, ports={8080: ("127.0.0.1", None)})
    _, host_port = web.published(8080)
    dockernet.listen(web, 8080)
    with socket.socket() as exposed:
        exposed.bind((str(internet.host_address), host_port))
        exposed.listen(8)
        with pytest.raises(AssertionError) as info:
            assert_published(web, 8080)
    text = str(info.value)
    assert f"published on 127.0.0.1:{host_port}: upstream 'internet' CAN reach it" in text
    assert f"to {internet.host_address}:{host_port}: open" in text
    assert "[WRONG] tcp from upstream 'internet'" in text
    assert "expected NOT reachable" in text
    assert "DNAT rules sending it to the container:" in text
    assert "docker-proxy:" in text


def test_nothing_listening_in_the_container_fails_with_what_was_seen(dockernet, lan, pick_image):
    net, internet = lan
    web = dockernet.container("web", net, image=pick_image, ports={8080: None})
    _, host_port = web.published(8080)
    with pytest.raises(AssertionError) as info:
        assert_published(web, 8080, timeout=0.5)
    text = str(info.value)
    assert f"container 'web' port 8080/tcp, published on 0.0.0.0:{host_port}:" in text
    assert "loopback cannot reach it" in text and "upstream 'internet' cannot reach it" in text
    assert f"--dport {host_port}" in text or f"dport {host_port}" in text  # the DNAT rule shown
    assert f"to 127.0.0.1:{host_port}: " in text
    # docker-proxy accepts and closes; through DNAT the container's kernel resets
    assert "closed at once" in text or "refused" in text
    assert f"to {internet.host_address}:{host_port}: refused" in text
    assert "path: kernel DNAT" in text


def test_within_waits_for_the_service(dockernet, lan, pick_image):
    net, _ = lan
    web = dockernet.container("web", net, image=pick_image, ports={8080: None})
    with pytest.raises(AssertionError, match=r"did not hold within 0\.3 s"):
        assert_published(web, 8080, timeout=0.2, within=0.3)
    late = threading.Timer(0.5, dockernet.listen, (web, 8080))
    late.start()
    try:
        check = assert_published(web, 8080, timeout=0.5, within=10)
    finally:
        late.join()
    assert all(a.result.open for a in check.attempts)


def test_udp_port(dockernet, lan, pick_image):
    net, internet = lan
    dns = dockernet.container("dns", net, image=pick_image, ports={"53/udp": None})
    host_ip, _ = dns.published(53, "udp")
    assert host_ip == ANY
    listener = dockernet.listen(dns, 53, proto="udp")
    check = assert_published(dns, 53, proto="udp")
    assert all(r.protocol == "udp" for r in check.rules) and check.rules
    assert [a.result.answer for a in check.attempts] == [b"pytest-dockernet dns:53/udp\n"] * 2
    assert listener.peers == (net.gateway, internet.address)
    with pytest.raises(AssertionError, match="does not publish port 53/tcp"):
        assert_published(dns, 53)


def test_without_an_upstream_only_loopback_is_tried(dockernet, pick_image):
    net = dockernet.network("lan")
    web = dockernet.container("web", net, image=pick_image, ports={8080: None})
    dockernet.listen(web, 8080)
    check = assert_published(web, 8080)
    assert [a.via for a in check.attempts] == ["loopback"]
    assert "has no upstream" in check.report()


def test_published_errors(dockernet, pick_image):
    net = dockernet.network("lan")
    web = dockernet.container("web", net, image=pick_image, ports={8080: None, "53/udp": None})
    with pytest.raises(ValueError, match=r"does not publish port 9000/tcp \(it publishes: "):
        web.published(9000)
    with pytest.raises(ValueError, match=r"8080/tcp on 0\.0\.0\.0:\d+"):
        web.published(8080, "udp")
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp'"):
        web.published(8080, "sctp")
    plain = dockernet.container("plain", net, image=pick_image)
    with pytest.raises(ValueError, match=r"it publishes: nothing\); pass ports=\{8080: None\}"):
        plain.published(8080)
    with pytest.raises(TypeError, match="container must be a Container"):
        assert_published("web", 8080)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        assert_published(web, 8080, timeout=0)


def test_routers_publish_too_and_published_waits_for_the_start(dockernet, pick_image):
    a, b = dockernet.network("a"), dockernet.network("b")
    web = dockernet.container("web", a, image=pick_image, ports={8080: None})
    gw = dockernet.router("gw", [a, b], image=pick_image, ports={"8081/tcp": None})
    assert web.published(8080)[0] == ANY  # waits until Docker bound it
    assert gw.published(8081)[0] == ANY
    for container, port in ((web, 8080), (gw, 8081)):
        dockernet.listen(container, port)
        assert_published(container, port)


@pytest.mark.parametrize(
    ("ports", "error", "match"),
    [
        ({70000: None}, ValueError, "from 1 to 65535"),
        ({"8080/sctp": None}, ValueError, "use 'tcp' or 'udp'"),
        ({8080: -1}, ValueError, "host port must be an int from 1 to 65535"),
        ({8080: ("10.255.255.254", None)}, ValueError, "not an address of this host"),
        ({8080: ("2001:db8::9", None)}, ValueError, "not an address of this host"),
        ({8080: [None]}, TypeError, "must be None"),
        ({8080: None, "8080/tcp": 1}, ValueError, "names 8080/tcp twice"),
    ],
)
def test_bad_ports_leave_nothing_behind(client, ports, error, match):
    with DockerNet(client) as dn:
        net, other = dn.network("lan"), dn.network("other")
        with pytest.raises(error, match=match):
            dn.container("web", net, ports=ports)
        with pytest.raises(error, match=match):
            dn.router("gw", [net, other], ports=ports)
        assert dn.containers == {}
        assert sorted(labelled(client, labels.SESSION, dn.identity.run_id)) == sorted(
            n.name for n in dn.networks.values()
        )
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []


def test_ports_on_an_internal_network_are_refused(dockernet):
    hidden = dockernet.network("hidden", internal=True)
    with pytest.raises(ValueError, match="only on internal networks"):
        dockernet.container("web", hidden, ports={8080: None})
    assert dockernet.containers == {}
