"""Port assertions both ways, on real namespaces: a handshake, a reset, an ICMP error, silence
and the rule that made it; listeners that record who connected; within= and the port matrix."""

from __future__ import annotations

import socket
import threading

import pytest

from pytest_dockernet import (
    assert_port_closed,
    assert_port_open,
    assert_reachability,
    assert_reachable,
)
from pytest_dockernet.engine.netns import socket_in
from pytest_dockernet.record.observations import Recorder, recording


@pytest.fixture
def lan(dockernet, pick_image):
    net = dockernet.network("lan")
    web = dockernet.container("web", net, image=pick_image)
    client = dockernet.container("client", net, image=pick_image)
    return net, web, client


def test_tcp_open_and_the_listener_sees_the_client(dockernet, lan):
    net, web, client = lan
    listener = dockernet.listen(web, 8080)
    result = assert_port_open(client, web, 8080)
    assert result.answer == b"pytest-dockernet web:8080/tcp\n"
    assert listener.peers == (client.ip(net),)
    with pytest.raises(AssertionError) as info:
        assert_port_closed(client, web, 8080)
    assert "can open container 'web'" in str(info.value)
    assert "expected it closed" in str(info.value)
    assert "open (handshake completed" in str(info.value)


def test_tcp_refused_is_a_reset(lan):
    net, web, client = lan
    assert_port_closed(client, web, 8081)
    with pytest.raises(AssertionError) as info:
        assert_port_open(client, "web", 8081)
    text = str(info.value)
    assert "cannot open 'web' at" in text and "port 8081/tcp: refused" in text
    assert "answered with a TCP reset" in text
    assert "nothing listens on that port" in text


def test_udp_answered_and_port_unreachable(dockernet, lan):
    net, web, client = lan
    listener = dockernet.listen(web, 5353, proto="udp")
    result = assert_port_open(client, web, 5353, proto="udp")
    assert result.answer == b"pytest-dockernet web:5353/udp\n"
    assert listener.peers == (client.ip(net),)
    assert_port_closed(client, web, 5354, proto="udp")
    with pytest.raises(AssertionError) as info:
        assert_port_open(client, web, 5354, proto="udp")
    assert "5354/udp: refused" in str(info.value)
    assert f"destination port unreachable (from {web.ip(net)})" in str(info.value)


def test_udp_silence_is_not_proof_of_closed(lan):
    """A service that reads a datagram and never answers: no ICMP error, no rule counted it."""
    net, web, client = lan
    with socket_in(web.pid, socket.SOCK_DGRAM) as silent:
        silent.bind(("0.0.0.0", 6000))
        with pytest.raises(AssertionError) as info:
            assert_port_closed(client, web, 6000, proto="udp", timeout=0.3)
        text = str(info.value)
        assert "got no answer from container 'web'" in text
        assert "does not prove it closed" in text
        with pytest.raises(AssertionError, match=r"6000/udp: no answer"):
            assert_port_open(client, web, 6000, proto="udp", timeout=0.3)


def test_dropped_between_networks_names_the_rule(dockernet):
    """Docker isolates bridges from each other: the SYN is dropped, and the counters say
    by what; a datagram dropped by a rule counts as closed (filtered)."""
    a = dockernet.network("a")
    b = dockernet.network("b")
    client = dockernet.container("client", a)
    far = dockernet.container("far", b)
    dockernet.listen(far, 8080)
    dockernet.listen(far, 5353, proto="udp")
    assert_port_closed(client, far, 8080)
    assert_port_closed(client, far, 5353, proto="udp")
    # the recorder is what --dockernet-report keeps of the test
    with recording(Recorder(context=False)) as recorder, pytest.raises(AssertionError) as info:
        assert_port_open(client, far, 8080, timeout=0.5)
    text = str(info.value)
    assert "port 8080/tcp: no answer" in text
    assert "a DROP rule, or nobody at that address" in text
    assert "dropped by" in text, text
    # the report's edge for this probe carries the same rule
    [probe] = recorder.probes
    assert (probe.source, probe.target, probe.failed) == ("client", "far", True)
    dropped = [line for line in text.splitlines() if line.startswith("dropped by")]
    assert dropped and dropped[0] in probe.why.splitlines(), probe.why


def test_from_the_host(dockernet, lan):
    net, web, client = lan
    listener = dockernet.listen(web, 8080)
    assert_port_open("host", web, 8080)
    assert listener.peers == (net.gateway,)
    assert_port_closed("host", web, 8082)
    with pytest.raises(ValueError, match="pass the Container instead of its name"):
        assert_port_open("host", "web", 8080)
    with pytest.raises(ValueError, match="neither loopback nor one of the host's own"):
        assert_port_open("host", "192.0.2.1", 80)


def test_from_an_upstream_through_the_host(dockernet):
    """An upstream reaches the host's address facing it; a service of the host there."""
    upstream = dockernet.upstream()
    with socket.socket() as service:
        service.bind((str(upstream.host_address), 0))
        service.listen()
        port = service.getsockname()[1]
        assert_port_open(upstream, upstream.host_address, port)
    assert_port_closed(upstream, upstream.host_address, port)


def test_within_waits_for_a_late_listener(dockernet, lan):
    net, web, client = lan
    timer = threading.Timer(0.5, dockernet.listen, (web, 9000))
    timer.start()
    try:
        assert_port_open(client, web, 9000, within=10)
    finally:
        timer.join()


def test_within_lists_the_attempts(lan):
    net, web, client = lan
    web.wait_started(), client.wait_started()  # within= counts from the call, starts included
    with pytest.raises(AssertionError) as info:
        assert_port_open(client, web, 9001, within=0.5)
    text = str(info.value)
    assert text.startswith("did not hold within 0.5 s (")
    assert "earlier attempts" in text and "9001/tcp: refused" in text


def test_ping_answers_where_the_port_does_not(lan):
    """The reason for port checks: ICMP is no proof that a service can be reached."""
    net, web, client = lan
    assert_reachable(client, web)
    with pytest.raises(AssertionError, match="refused"):
        assert_port_open(client, web, 4200)


def test_port_matrix(dockernet):
    net = dockernet.network("mesh")
    nodes = [dockernet.container(f"n{i}", net) for i in range(4)]
    for node in nodes[:3]:
        dockernet.listen(node, 5432)
    observed = assert_reachability(
        {(s, d): True for s in nodes for d in nodes[:3] if s is not d}, port=5432
    )
    assert observed.reachable(nodes[3], nodes[0])
    with pytest.raises(AssertionError) as info:
        assert_reachability(nodes, port=5432)
    text = str(info.value)
    assert "3 of 12 pairs differ" in text
    assert "n0 -> n3: expected reachable; tcp from container 'n0'" in text
    assert "5432: refused" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "port must be an int from 1 to 65535, got 0"),
        ({"port": 70000}, "got 70000"),
        ({"port": 80, "proto": "sctp"}, "proto must be 'tcp' or 'udp', got 'sctp'"),
        ({"port": 80, "timeout": 0}, "timeout must be a positive number"),
        ({"port": 80, "within": -1}, "within must be None"),
    ],
)
def test_bad_input_names_the_value(lan, kwargs, message):
    net, web, client = lan
    with pytest.raises(ValueError, match=message):
        assert_port_open(client, web, **kwargs)


def test_bad_source_and_listener_input(dockernet, lan):
    net, web, client = lan
    with pytest.raises(TypeError, match="src must be a Container, an Upstream or 'host'"):
        assert_port_open("web", web, 80)
    with pytest.raises(ValueError, match="port must be an int"):
        dockernet.listen(web, 0)
    dockernet.listen(web, 7000)
    with pytest.raises(ValueError, match=r"port 7000/tcp is already in use in container 'web'"):
        dockernet.listen(web, 7000)
