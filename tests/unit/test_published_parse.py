"""Published ports read back from recordings: the DNAT rule by meaning on every backend,
docker-proxy's command lines, ``docker inspect``'s port bindings, and ``ports=`` checked before
Docker sees it. No Docker engine; the recordings are listed in tests/data/firewall/README.md.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address
from pathlib import Path

import pytest

from pytest_dockernet.model import Network, Started
from pytest_dockernet.observe.firewall import (
    Backend,
    NatRule,
    NatTable,
    parse_iptables_save,
    parse_nft_json,
)
from pytest_dockernet.observe.proxy import parse_cmdline, serving, userland_proxies
from pytest_dockernet.topology.publishing import PortSpec, plan_ports, published_ports
from tests.unit import values

DATA = Path(__file__).resolve().parents[1] / "data" / "firewall"
LO = IPv4Address("127.0.0.1")
ANY = IPv4Address("0.0.0.0")

# docker-20.10-published-nat.txt: container 10.77.9.2 on br-bade4e71483b
C = IPv4Address("10.77.9.2")
# the moby docs: container 192.0.2.2 on bridge1, 8080 published to port 80
DOC = IPv4Address("192.0.2.2")


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def ipt(name: str) -> NatTable:
    return NatTable(Backend.IPTABLES_NFT, parse_iptables_save(read(name)), name)


def nft(name: str) -> NatTable:
    return NatTable(Backend.NFTABLES, parse_nft_json(read(name)), name)


def one_rule(text: str) -> NatRule:
    rules = parse_iptables_save(f"*nat\n:DOCKER - [0:0]\n{text}\nCOMMIT\n")
    assert len(rules) == 1, rules
    return rules[0]


# --------------------------------------------------------------------------------------------
# iptables, recorded on Docker 20.10


@pytest.fixture(scope="module")
def docker_2010() -> NatTable:
    return ipt("docker-20.10-published-nat.txt")


def test_2010_dnat_for_every_address(docker_2010: NatTable) -> None:
    (rule,) = docker_2010.dnat_rules(32769, "tcp", C, 8080)
    assert rule.text == (
        "-A DOCKER ! -i br-bade4e71483b -p tcp -m tcp --dport 32769 -j DNAT "
        "--to-destination 10.77.9.2:8080"
    )
    assert (rule.protocol, rule.dports, rule.to_address, rule.to_ports) == (
        "tcp",
        (32769, 32769),
        C,
        (8080, 8080),
    )
    assert (rule.in_interface, rule.in_negated, rule.destination, rule.unread) == (
        "br-bade4e71483b",
        True,
        None,
        (),
    )
    assert docker_2010.dnat_rules(32769, "tcp", C, 8080, ANY) == (rule,)
    assert docker_2010.dnat_rules(32769, "tcp", C, 8080, LO) == (rule,)  # covers loopback too


def test_2010_dnat_for_loopback_binding(docker_2010: NatTable) -> None:
    (rule,) = docker_2010.dnat_rules(32768, "tcp", C, 8081, LO)
    assert rule.destination == IPv4Network("127.0.0.1/32")
    assert rule.destination_negated is False
    # bound to 127.0.0.1 only: it does not DNAT the host's other addresses
    assert docker_2010.dnat_rules(32768, "tcp", C, 8081) == ()
    assert docker_2010.dnat_rules(32768, "tcp", C, 8081, IPv4Address("10.199.0.1")) == ()


def test_2010_dnat_for_udp(docker_2010: NatTable) -> None:
    (rule,) = docker_2010.dnat_rules(32768, "udp", C, 8082)
    assert rule.protocol == "udp"
    assert docker_2010.dnat_rules(32768, "tcp", C, 8082) == ()  # same number, other protocol


def test_2010_wrong_port_address_or_target_is_not_found(docker_2010: NatTable) -> None:
    assert docker_2010.dnat_rules(32770, "tcp", C, 8080) == ()  # another host port
    assert docker_2010.dnat_rules(32769, "tcp", C, 80) == ()  # another container port
    assert docker_2010.dnat_rules(32769, "tcp", IPv4Address("10.77.9.3"), 8080) == ()
    # the hairpin MASQUERADE rules carry protocol and port too, but are no DNAT
    hairpin = [r for r in docker_2010.rules if r.target == "MASQUERADE" and r.protocol]
    assert [(r.destination, r.dports) for r in hairpin] == [
        (IPv4Network("10.77.9.2/32"), (8082, 8082)),
        (IPv4Network("10.77.9.2/32"), (8081, 8081)),
        (IPv4Network("10.77.9.2/32"), (8080, 8080)),
    ]
    assert not any(r.forwards(8080, "tcp", C, 8080) for r in hairpin)


def test_2010_rules_for_port_show_what_a_failure_lists(docker_2010: NatTable) -> None:
    shown = docker_2010.rules_for_port(32768, "tcp")
    assert [r.to_ports for r in shown] == [(8081, 8081)]
    by_address = docker_2010.rules_for_port(1, "tcp", C)
    assert [r.dports for r in by_address] == [(32768, 32768), (32768, 32768), (32769, 32769)]


def test_masquerade_reading_is_unchanged_by_the_dnat_reading(docker_2010: NatTable) -> None:
    (masq,) = docker_2010.masquerade_rules(IPv4Network("10.77.9.0/24"), "br-bade4e71483b")
    assert masq.other_matches == ()
    output = docker_2010.rules[1]
    assert output.other_matches == ("! -d 127.0.0.0/8", "-m addrtype --dst-type LOCAL")
    assert (output.destination, output.destination_negated) == (IPv4Network("127.0.0.0/8"), True)
    assert output.to_local is True
    assert output.unread == ()


# --------------------------------------------------------------------------------------------
# iptables, Docker 28+ layouts from moby's docs


def test_moby_iptables_layouts() -> None:
    portmap = ipt("moby-iptables-usernet-portmap-nat.txt")
    assert len(portmap.dnat_rules(8080, "tcp", DOC, 80)) == 1
    lo = ipt("moby-iptables-usernet-portmap-lo-nat.txt")
    assert lo.dnat_rules(8080, "tcp", DOC, 80) == ()
    assert len(lo.dnat_rules(8080, "tcp", DOC, 80, LO)) == 1
    noproxy = ipt("moby-iptables-usernet-portmap-noproxy-nat.txt")
    (rule,) = noproxy.dnat_rules(8080, "tcp", DOC, 80)
    assert rule.in_interface is None  # no proxy: hairpin traffic from the bridge is DNATed too


# --------------------------------------------------------------------------------------------
# Docker 29's native nftables layout (moby's docs), reached through the chains


def test_nft_portmap_dnat_reached_from_prerouting_and_output() -> None:
    table = nft("moby-nftables-usernet-portmap.json")
    output, prerouting = table.dnat_rules(8080, "tcp", DOC, 80)
    assert "reached from nat-OUTPUT" in output.text
    assert (output.destination, output.destination_negated) == (IPv4Network("127.0.0.0/8"), True)
    assert "reached from nat-PREROUTING" in prerouting.text
    assert prerouting.destination is None
    assert (prerouting.in_interface, prerouting.in_negated) == ("bridge1", True)
    assert prerouting.to_local is True
    assert prerouting.unread == ()
    # the host's own loopback connection is not DNATed from nat-OUTPUT: docker-proxy serves it
    assert not output.forwards(8080, "tcp", DOC, 80, LO)
    assert table.dnat_rules(8080, "udp", DOC, 80) == ()


def test_nft_loopback_binding_is_never_reached_from_output() -> None:
    table = nft("moby-nftables-usernet-portmap-lo.json")
    dnat = [r for r in table.rules if r.target == "DNAT"]
    assert len(dnat) == 1  # the nat-OUTPUT path (ip daddr != 127.0.0.0/8) contradicts it
    assert "reached from nat-PREROUTING" in dnat[0].text
    assert table.dnat_rules(8080, "tcp", DOC, 80, LO) == (dnat[0],)
    assert table.dnat_rules(8080, "tcp", DOC, 80) == ()


def test_nft_noproxy_dnat_covers_loopback_from_both_paths() -> None:
    table = nft("moby-nftables-usernet-portmap-noproxy.json")
    assert len(table.dnat_rules(8080, "tcp", DOC, 80, LO)) == 2


def test_nft_routed_network_has_no_dnat() -> None:
    table = nft("moby-nftables-usernet-portmap-routed.json")
    assert [r for r in table.rules if r.target == "DNAT"] == []


def test_nft_handmade_dnat_variants() -> None:
    table = nft("handmade-nft-dnat-variants.json")
    a = IPv4Address
    assert len(table.dnat_rules(8005, "tcp", a("10.1.0.2"), 80)) == 1  # in the range
    assert table.dnat_rules(8011, "tcp", a("10.1.0.2"), 80) == ()
    assert len(table.dnat_rules(9100, "tcp", a("10.1.0.3"), 90)) == 1  # in the set
    assert len(table.dnat_rules(5353, "udp", a("10.1.0.4"), 53)) == 1
    assert len(table.dnat_rules(7000, "tcp", a("10.1.0.5"), 7000)) == 1  # keeps its port
    assert table.dnat_rules(7000, "tcp", a("10.1.0.5"), 80) == ()
    (narrowed,) = [r for r in table.rules if r.to_address == a("10.1.0.6")]
    assert narrowed.unread == ("ct state new",)
    assert table.dnat_rules(7100, "tcp", a("10.1.0.6"), 71) == ()
    (ranged,) = table.rules_for_port(7200, "tcp")
    assert ranged.to_address is None
    # tcp dport 7300 sits behind `meta l4proto udp`: that path is never taken
    assert table.rules_for_port(7300, "tcp") == ()
    assert len(table.dnat_rules(7400, "udp", a("10.1.0.9"), 74)) == 1


# --------------------------------------------------------------------------------------------
# NatRule.forwards on single iptables rules


DNAT = "-A DOCKER ! -i br0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80"
T = IPv4Address("10.0.0.2")


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        (DNAT, True),
        (DNAT.replace("! -i br0", "-i eth0"), False),  # only what arrives on eth0
        (DNAT.replace("! -i br0", "-s 10.9.0.0/16"), False),  # only some sources
        (DNAT.replace("-p tcp -m tcp", "-p udp -m udp"), False),
        (DNAT.replace("--dport 8080", "--dport 8000:8090"), True),
        (DNAT.replace("! -i br0", "! -d 127.0.0.0/8"), True),  # loopback left to docker-proxy
        (DNAT.replace("! -i br0", "! -d 10.0.0.0/8"), False),  # excludes more than loopback
        (DNAT.replace("! -i br0", "-m conntrack --ctstate NEW"), False),  # uninterpreted
        (DNAT.replace("-j DNAT", "-j REDIRECT"), False),
        (DNAT.replace("10.0.0.2:80", "10.0.0.2:80-81"), False),
        (DNAT.replace("10.0.0.2:80", "10.0.0.2-10.0.0.3:80"), False),
    ],
)
def test_forwards_by_meaning(text: str, holds: bool) -> None:
    assert one_rule(text).forwards(8080, "tcp", T, 80) is holds


def test_forwards_for_one_host_address() -> None:
    rule = one_rule(DNAT.replace("! -i br0", "-d 192.0.2.7/32"))
    assert rule.forwards(8080, "tcp", T, 80, IPv4Address("192.0.2.7"))
    assert not rule.forwards(8080, "tcp", T, 80, LO)
    assert not rule.forwards(8080, "tcp", T, 80)


def test_dnat_without_port_keeps_the_packets_own() -> None:
    rule = one_rule("-A DOCKER -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2")
    assert rule.to_ports is None
    assert rule.forwards(80, "tcp", T, 80)
    assert not rule.forwards(80, "tcp", T, 8080)


# --------------------------------------------------------------------------------------------
# docker-proxy's command lines, recorded on Docker 20.10


@pytest.fixture(scope="module")
def cmdlines() -> list[bytes]:
    return (DATA / "docker-20.10-proxy-cmdlines.bin").read_bytes().splitlines()


def test_recorded_proxy_cmdlines(cmdlines: list[bytes]) -> None:
    parsed = [parse_cmdline(raw, pid) for pid, raw in enumerate(cmdlines, start=100)]
    assert [(p.proto, p.host_ip, p.host_port, p.container_port) for p in parsed if p] == [
        ("udp", "0.0.0.0", 32768, 8082),
        ("udp", "::", 32768, 8082),
        ("tcp", "127.0.0.1", 32768, 8081),
        ("tcp", "0.0.0.0", 32769, 8080),
        ("tcp", "::", 32768, 8080),
    ]
    assert str(parsed[3]) == "docker-proxy (pid 103) tcp 0.0.0.0:32769 -> 10.77.9.2:8080"
    assert str(parsed[4]).startswith("docker-proxy (pid 104) tcp [::]:32768 ->")


def test_proxy_flags_in_every_go_form() -> None:
    raw = b"docker-proxy\0--proto=udp\0-use-listen-fd\0-host-ip\x000.0.0.0\0--host-port\x00" + (
        b"5353\0-container-ip=10.0.0.2\0-container-port\x0053\0"
    )
    proxy = parse_cmdline(raw, 7)
    assert proxy is not None
    assert (proxy.proto, proxy.host_port, proxy.container_ip, proxy.container_port) == (
        "udp",
        5353,
        "10.0.0.2",
        53,
    )


@pytest.mark.parametrize(
    "raw",
    [b"", b"/usr/bin/dockerd\0-H\0fd://\0", b"/usr/sbin/docker-proxy\0-proto\0tcp\0", b"sleep\0"],
)
def test_not_a_proxy_serving_a_port(raw: bytes) -> None:
    assert parse_cmdline(raw) is None


def test_proxies_found_in_a_proc_tree(cmdlines: list[bytes], tmp_path: Path) -> None:
    for pid, raw in enumerate([*cmdlines, b"/usr/bin/containerd\0"], start=200):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(raw)
    (tmp_path / "self").mkdir()
    (tmp_path / "999").mkdir()  # a process gone while read: no cmdline
    assert [p.pid for p in userland_proxies(str(tmp_path))] == [200, 201, 202, 203, 204]
    assert [(p.host_ip, p.container_port) for p in serving(32768, "tcp", str(tmp_path))] == [
        ("127.0.0.1", 8081),
        ("::", 8080),
    ]
    assert [p.host_ip for p in serving(32768, "udp", str(tmp_path))] == ["0.0.0.0", "::"]


# --------------------------------------------------------------------------------------------
# docker inspect's bindings, and Container.published


def test_published_ports_keep_the_ipv4_binding() -> None:
    recorded = json.loads(read("docker-20.10-published-ports.json"))
    assert published_ports(recorded) == {
        (8080, "tcp"): (ANY, 32769),  # not 32768, which Docker chose for :: alone
        (8081, "tcp"): (LO, 32768),
        (8082, "udp"): (ANY, 32768),
    }
    assert published_ports({"9000/tcp": None, "53/udp": [{"HostIp": "::", "HostPort": "1"}]}) == {}
    assert published_ports(None) == {}


def test_container_published_and_its_errors() -> None:
    reg = values.registry()
    net = values.network(reg, "a", "10.1.0.0/24")
    c = values.container(reg, "web", {net: "10.1.0.2"})
    ports = published_ports(json.loads(read("docker-20.10-published-ports.json")))
    c.state = Started("web-id", 0, ports)
    assert c.published(8080) == (ANY, 32769)
    assert c.published(8082, "udp") == (ANY, 32768)
    with pytest.raises(
        ValueError, match=r"does not publish port 8082/tcp .*8082/udp on 0\.0\.0\.0"
    ):
        c.published(8082)
    with pytest.raises(ValueError, match=r"ports=\{'9000/udp': None\}"):
        c.published(9000, "udp")
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp'"):
        c.published(8080, "sctp")
    with pytest.raises(ValueError, match="does not publish"):
        c.published(True)
    c.state = None
    with pytest.raises(ValueError, match="was never started"):
        c.published(8080)


# --------------------------------------------------------------------------------------------
# ports= checked before Docker sees it


@pytest.fixture
def nets() -> list[Network]:
    return [values.network(values.registry(), "a", "10.1.0.0/24")]


def test_ports_planned(nets: list[Network]) -> None:
    assert plan_ports("c", {8080: None, "53/udp": 5353, "9000/tcp": ("127.0.0.1", None)}, nets) == [
        PortSpec(8080, "tcp"),
        PortSpec(53, "udp", None, 5353),
        PortSpec(9000, "tcp", LO, None),
    ]
    assert PortSpec(53, "udp", None, 5353).binding() == {"HostIp": "", "HostPort": "5353"}
    assert PortSpec(9000, "tcp", LO).binding() == {"HostIp": "127.0.0.1", "HostPort": ""}
    assert plan_ports("c", None, nets) == []


@pytest.mark.parametrize(
    ("ports", "error", "match"),
    [
        ({0: None}, ValueError, r"ports= key 0 must be an int from 1 to 65535"),
        ({70000: None}, ValueError, "from 1 to 65535"),
        ({True: None}, TypeError, "must be an int"),
        ({8080.0: None}, TypeError, "got float"),
        ({"8080/sctp": None}, ValueError, r"names protocol 'sctp': use 'tcp' or 'udp'"),
        ({"http": None}, ValueError, "is not a port"),
        ({8080: 0}, ValueError, "host port must be an int from 1 to 65535"),
        ({8080: "8080"}, TypeError, r"must be None .*, a host port \(int\) or a tuple"),
        ({8080: ("localhost", 1)}, ValueError, r"'localhost' is not an IP address: use '0\.0"),
        ({8080: ("198.51.100.77", None)}, ValueError, "not an address of this host"),
        ({8080: ("2001:db8::77", None)}, ValueError, "not an address of this host"),
        ({8080: (127, None)}, TypeError, "host_ip must be an IPv4 or IPv6 address"),
        ({80: ("::", 18080), 81: ("::1", 18080)}, ValueError, "binds host port 18080/tcp for"),
        ({80: 18080, 81: ("::1", 18080)}, ValueError, "binds host port 18080/tcp for both"),
        ({8080: ("127.0.0.1",)}, TypeError, "must be None"),
        ({8080: None, "8080/tcp": None}, ValueError, "names 8080/tcp twice"),
        ({80: 18080, 81: ("127.0.0.1", 18080)}, ValueError, "binds host port 18080/tcp for both"),
        ([8080], TypeError, "takes a dict"),
    ],
)
def test_bad_ports_name_the_value_and_the_fix(
    nets: list[Network],
    ports: object,
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        plan_ports("container 'c'", ports, nets)  # type: ignore[arg-type]


def test_one_host_port_on_each_family_is_fine(nets: list[Network]) -> None:
    planned = plan_ports("c", {80: ("0.0.0.0", 45380), 81: ("::1", 45380)}, nets)
    assert [(p.host_ip, p.host_port) for p in planned] == [
        (IPv4Address("0.0.0.0"), 45380),
        (IPv6Address("::1"), 45380),
    ]


def test_same_host_port_for_tcp_and_udp_is_fine(nets: list[Network]) -> None:
    planned = plan_ports("c", {53: 45353, "53/udp": 45353}, nets)
    assert [p.key for p in planned] == ["53/tcp", "53/udp"]


def test_a_host_port_already_held_is_refused(nets: list[Network]) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        with pytest.raises(ValueError, match=f"host port {port}/tcp .* already in use"):
            plan_ports("c", {8080: ("127.0.0.1", port)}, nets)


def test_ports_on_internal_networks_only_are_refused(nets: list[Network]) -> None:
    internal = [dataclasses.replace(nets[0], internal=True)]
    with pytest.raises(ValueError, match="only on internal networks: Docker publishes nothing"):
        plan_ports("c", {8080: None}, internal)
    assert plan_ports("c", {}, internal) == []
