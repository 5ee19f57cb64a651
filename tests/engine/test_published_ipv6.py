"""Published ports over IPv6 on the real engine: ``assert_published(..., family=6)``.

Docker binds a published port on ``::`` as well as on ``0.0.0.0``. Where the engine writes IPv6
rules (the daemon's ``ip6tables``: on by default from Docker 27), an IPv6 DNAT rule sends
connections from outside to the container's IPv6 address, which sees the client's own address;
elsewhere docker-proxy on ``[::]`` carries every connection, and the container sees it come from
the bridge's IPv6 gateway. The host's own connection through ``::1`` is docker-proxy's on every
engine (no nat rule rewrites a loopback destination over IPv6).
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from pytest_dockernet.assertions.published import assert_published
from tests.engine.plain import daemon_ip6tables

ANY6 = ipaddress.IPv6Address("::")


def test_a_dual_stack_container_is_reached_over_ipv6_by_the_engines_path(dockernet, engine_version):
    lan = dockernet.network("lan", ipv6=True)
    internet = dockernet.upstream("internet")
    web = dockernet.container("web", [lan], ports={8080: None})
    listener = dockernet.listen(web, 8080)
    check = assert_published(web, 8080, family=6)
    assert (check.host_ip, check.host_port) == web.published(8080, family=6)
    assert check.host_ip == ANY6 and check.family == 6
    loopback, upstream = check.attempts
    assert loopback.via == "loopback" and loopback.result.destination == ipaddress.ip_address("::1")
    assert upstream.result.destination == internet.host_address6 and upstream.result.open
    assert upstream.result.answer == b"pytest-dockernet web:8080/tcp\n"
    # the daemon's configuration says which path: the engine's IPv6 DNAT, where the container
    # sees the upstream's own address, or docker-proxy alone
    if daemon_ip6tables(engine_version):
        (rule, *_) = check.rules
        assert (rule.target, rule.to_address) == ("DNAT", web.ip6(lan))
        assert check.no_rule_expected == "" and upstream.path.startswith("kernel DNAT")
        seen_from_upstream = internet.address6
    else:  # docker-proxy alone: it connects from the bridge's IPv6 gateway
        assert check.rules == ()
        assert "the engine writes no IPv6 rules" in check.no_rule_expected
        assert upstream.path.startswith("docker-proxy (userland)")
        seen_from_upstream = lan.gateway6
    assert loopback.path.startswith("docker-proxy (userland)")
    assert {p.host_ip for p in check.proxies} == {"::"}
    assert {p.container_ip for p in check.proxies} == {str(web.ip6(lan))}
    assert listener.peers == (lan.gateway6, seen_from_upstream)
    report = check.report()
    assert f"binding: [::]:{check.host_port} -> web ({web.ip6(lan)}) port 8080/tcp" in report


def test_an_ipv4_only_container_is_reached_over_ipv6_through_docker_proxy(dockernet):
    """Docker's IPv6 binding of a container without an IPv6 address: docker-proxy on [::]
    forwards to its IPv4 address, and no IPv6 DNAT rule can exist."""
    lan = dockernet.network("lan")
    dockernet.upstream("internet")
    web = dockernet.container("web", [lan], ports={8080: None})
    listener = dockernet.listen(web, 8080)
    check = assert_published(web, 8080, family=6)
    assert check.rules == ()
    assert "web has no IPv6 address" in check.no_rule_expected
    assert {p.container_ip for p in check.proxies} == {str(web.ip(lan))}
    assert all(a.result.open for a in check.attempts) and len(check.attempts) == 2
    assert listener.peers == (lan.gateway, lan.gateway)  # docker-proxy's, both times


def test_nothing_listening_fails_over_ipv6_with_what_was_seen(dockernet, engine_version):
    lan = dockernet.network("lan", ipv6=True)
    internet = dockernet.upstream("internet")
    web = dockernet.container("web", [lan], ports={8080: None})
    _, host_port = web.published(8080, family=6)
    with pytest.raises(AssertionError) as info:
        assert_published(web, 8080, timeout=0.5, family=6)
    text = str(info.value)
    assert f"container 'web' port 8080/tcp, published on [::]:{host_port}:" in text
    assert "loopback cannot reach it" in text and "upstream 'internet' cannot reach it" in text
    assert f"to ::1:{host_port}: " in text or f"to [::1]:{host_port}: " in text
    assert str(internet.host_address6) in text
    if not daemon_ip6tables(engine_version):
        assert "no DNAT rule, none expected: ip6tables: the engine writes no IPv6 rules" in text


def test_a_loopback_binding_has_no_ipv6_binding(dockernet):
    lan = dockernet.network("lan", ipv6=True)
    web = dockernet.container("web", [lan], ports={8080: ("127.0.0.1", None)})
    dockernet.listen(web, 8080)
    assert_published(web, 8080)  # over IPv4 it is published, on loopback
    with pytest.raises(AssertionError) as info:
        assert_published(web, 8080, family=6)
    text = str(info.value)
    assert "over IPv6: Docker made no IPv6 binding for it" in text
    assert "8080/tcp on 127.0.0.1:" in text  # what it does publish


def test_an_ipv6_binding_reached_from_outside_is_the_exposure_it_names(dockernet):
    """A port bound to ::1 must not be reached from an upstream: something answering on the
    host's upstream-facing IPv6 address at that port stands in for the exposure."""
    lan = dockernet.network("lan", ipv6=True)
    internet = dockernet.upstream("internet")
    web = dockernet.container("web", [lan], ports={8080: ("::1", None)})
    host_ip, host_port = web.published(8080, family=6)
    assert host_ip == ipaddress.IPv6Address("::1")
    dockernet.listen(web, 8080)
    assert_published(web, 8080, family=6)  # through ::1 only
    with socket.socket(socket.AF_INET6) as exposed:
        exposed.bind((str(internet.host_address6), host_port))
        exposed.listen(8)
        with pytest.raises(AssertionError) as info:
            assert_published(web, 8080, family=6)
    text = str(info.value)
    assert f"published on [::1]:{host_port}: upstream 'internet' CAN reach it" in text
    assert "(the port is bound to ::1 only)" in text
