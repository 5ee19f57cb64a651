"""The guard of DNS queries: which servers a container's query may reach, and when asking a name
could send it off this machine. Facts only: no engine, no query."""

from __future__ import annotations

import ipaddress

import pytest

from pytest_dockernet import assert_not_resolvable, assert_resolves
from pytest_dockernet.observe.forwarding import (
    DOCKER_FALLBACK,
    PASS_THE_CONTAINER,
    Servers,
    answered_names,
    forwarded_to,
    host_servers,
    on_this_machine,
    refusal,
)
from pytest_dockernet.observe.names import ResolvConf
from tests.unit import values

EMBEDDED = ResolvConf(("127.0.0.11",), (), 0)  # what Docker writes on a user-defined network
HOST = ("10.255.255.53",)
NET_ID = "f00d" * 16


def nobody(ip: ipaddress.IPv4Address) -> None:
    """No container of the test holds any address."""


def never() -> frozenset[str]:
    raise AssertionError("the names Docker answers were read although no server is outside")


def decide(name, conf, servers, answered=frozenset(), holder_of=nobody, **kwargs):
    return refusal(
        name, conf, servers, holder_of, lambda: answered, who="container 'app'", **kwargs
    )


def test_a_plugin_container_is_allowed_without_reading_any_name():
    servers = forwarded_to(EMBEDDED, ["127.0.0.1"], HOST)
    assert servers == Servers(("127.0.0.1",), "the container's HostConfig.Dns (--dns)", True)
    for name in ("nosuchname", "db", "web.example.org"):
        assert refusal(name, EMBEDDED, servers, nobody, never, who="container 'web'") is None


def test_host_servers_and_a_name_docker_answers_first_is_allowed():
    servers = forwarded_to(EMBEDDED, [], HOST)
    assert servers.addresses == HOST and "the host's /etc/resolv.conf" in servers.origin
    known = frozenset({"users-db", "users-db.users-net"})
    assert decide("users-db", EMBEDDED, servers, known) is None
    assert decide("users-db.users-net", EMBEDDED, servers, known) is None
    assert decide("users-db.", EMBEDDED, servers, known) is None  # the root dot aside


def test_a_negative_check_is_refused_with_the_servers_and_the_fixes():
    servers = forwarded_to(EMBEDDED, [], HOST)
    message = decide("nosuchname", EMBEDDED, servers, {"users-db"}, networks=("users-net",))
    assert message is not None
    assert "container 'app' could send a DNS query for 'nosuchname' off this machine" in message
    assert "'nosuchname' is no container's name or alias on its networks" in message
    assert "forward it to 10.255.255.53, from the host's /etc/resolv.conf" in message
    assert "(HostConfig.Dns is empty)" in message
    assert "nothing was asked" in message
    assert 'dockernet.existing_network("users-net")' in message
    assert "`dns: 127.0.0.1`" in message
    assert "may_forward=True" in message


def test_a_name_with_the_search_list_first_is_refused():
    conf = ResolvConf(("127.0.0.11",), ("corp.example",), 1)
    servers = forwarded_to(conf, [], HOST)
    # "users-db" is Docker's, but glibc asks "users-db.corp.example" first, and that leaves.
    message = decide("users-db", conf, servers, {"users-db"})
    assert message is not None
    assert (
        "its resolver asks 'users-db.corp.example' first (search corp.example, ndots:1)" in message
    )


def test_dns_pointing_at_a_container_of_the_test_is_on_this_machine():
    reg = values.registry()
    net = values.network(reg, "lan", "10.1.0.0/24")
    values.container(reg, "resolver", {net: "10.1.0.5"})
    servers = forwarded_to(EMBEDDED, ["10.1.0.5"], HOST)
    assert refusal("nosuchname", EMBEDDED, servers, reg.holder_of, never, who="x") is None
    elsewhere = forwarded_to(EMBEDDED, ["10.1.0.5", "10.1.0.6"], HOST)
    message = refusal("nosuchname", EMBEDDED, elsewhere, reg.holder_of, frozenset, who="x")
    assert message is not None and "10.1.0.5, 10.1.0.6 (of which 10.1.0.6 off" in message


def test_dockers_fallback_is_named_when_the_host_lists_only_loopback():
    servers = forwarded_to(EMBEDDED, [], ("127.0.0.1", "::1"), "/etc/resolv.conf")
    assert servers.addresses == DOCKER_FALLBACK == ("8.8.8.8", "8.8.4.4")
    message = decide("nosuchname", EMBEDDED, servers)
    assert message is not None
    assert "8.8.8.8, 8.8.4.4, from Docker's fallback" in message
    assert "lists no nameserver but loopback ones" in message


def test_without_embedded_dns_no_name_is_dockers():
    conf = ResolvConf(("10.255.255.53",), ("corp.example",), 1)  # the default bridge network
    servers = forwarded_to(conf, ["127.0.0.1"], HOST)  # --dns is not what it asks, its file is
    assert servers.addresses == ("10.255.255.53",) and not servers.embedded
    message = refusal("users-db", conf, servers, nobody, never, who="x", fix=PASS_THE_CONTAINER)
    assert message is not None
    assert "it has no embedded DNS, and would send 'users-db.corp.example' straight" in message
    assert "to 10.255.255.53, from the container's /etc/resolv.conf" in message
    assert "pass the Container itself" in message
    assert "may_forward" not in message
    assert forwarded_to(ResolvConf(("127.0.0.1",)), [], HOST).addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("server", "local"),
    [
        ("127.0.0.1", True),
        ("127.0.0.11", True),
        ("::1", True),
        ("10.1.0.5", True),  # a container of the test
        ("10.1.0.6", False),
        ("fe80::1%eth0", False),
        ("8.8.8.8", False),
        ("not-an-address", False),
    ],
)
def test_on_this_machine(server, local):
    reg = values.registry()
    values.container(reg, "resolver", {values.network(reg, "lan", "10.1.0.0/24"): "10.1.0.5"})
    assert on_this_machine(server, reg.holder_of) is local


def member(cid, name, aliases=(), dns_names=None, hostname=None, network_id=NET_ID):
    settings = {"NetworkID": network_id, "Aliases": list(aliases)}
    if dns_names is not None:
        settings["DNSNames"] = list(dns_names)
    return {
        "Id": cid,
        "Name": f"/{name}",
        "Config": {"Hostname": hostname or cid[:12]},
        "NetworkSettings": {"Networks": {"users-net": settings}},
    }


def test_the_names_docker_answers_on_a_network():
    a, b, c, d = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
    network = {
        "Name": "users-net",
        "Id": NET_ID,
        "Containers": {
            a: {"Name": "users-db", "IPv4Address": "172.28.0.2/16"},
            b: {"Name": "nervous_ritchie", "IPv4Address": "172.28.0.3/16"},
            c: {"Name": "v6-only", "IPv4Address": ""},
            d: {"Name": "users-cache", "IPv4Address": "172.28.0.5/16"},
        },
    }
    members = {
        a: member(a, "users-db", aliases=["db", a[:12]]),  # 20.10: the short id is an alias
        b: member(b, "nervous_ritchie", aliases=[b[:12]]),  # a name Docker generated
        c: member(c, "v6-only"),
        # Docker >= 25: DNSNames lists the name, aliases, short id and hostname.
        d: member(d, "users-cache", [], ["users-cache", "cache", d[:12], "box"], hostname="box"),
    }
    names = answered_names(network, members)
    assert {"users-db", "db", a[:12], "users-db.users-net", "db.users-net"} <= names
    assert b[:12] in names and "nervous_ritchie" not in names  # anonymous: not answered
    assert not any(n.startswith("v6-only") for n in names)  # an empty answer, then the next
    assert {"users-cache", "cache", d[:12]} <= names and "box" not in names
    assert answered_names({**network, "Name": "bridge"}, members) == frozenset()
    assert answered_names(network, {}) == frozenset()  # members gone while read


def test_host_servers_follow_systemd_resolved_as_docker_does(tmp_path):
    etc, systemd = tmp_path / "resolv.conf", tmp_path / "systemd.conf"
    etc.write_text("nameserver 127.0.0.53\noptions edns0\n")
    systemd.write_text("nameserver 192.0.2.53\nnameserver 192.0.2.54\n")
    assert host_servers(str(etc), str(systemd)) == (("192.0.2.53", "192.0.2.54"), str(systemd))
    etc.write_text("nameserver 192.0.2.1\n")
    assert host_servers(str(etc), str(systemd)) == (("192.0.2.1",), str(etc))
    assert host_servers(str(tmp_path / "missing"), str(systemd)) == ((), str(tmp_path / "missing"))
    etc.write_text("# no nameserver\n")
    servers, path = host_servers(str(etc), str(systemd))
    assert forwarded_to(EMBEDDED, [], servers, path).addresses == DOCKER_FALLBACK


def test_may_forward_must_be_a_bool_before_anything_is_read():
    reg = values.registry()  # no engine: a code path reaching for it would fail loudly
    web = values.container(reg, "web", {values.network(reg, "lan", "10.1.0.0/24"): "10.1.0.2"})
    with pytest.raises(TypeError, match="may_forward must be True or False, got 'yes'"):
        assert_resolves(web, "api", may_forward="yes")
    with pytest.raises(TypeError, match="may_forward must be True or False, got 1"):
        assert_not_resolvable(web, "api", may_forward=1)
