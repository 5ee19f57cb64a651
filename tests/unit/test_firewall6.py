"""Docker's IPv6 nat rules (NAT66 masquerade, published ports' DNAT) read by meaning, from
moby's golden files and hand-made listings; no Docker engine, no root.

The recordings and where they came from are listed in tests/data/firewall/README.md.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

import pytest

from pytest_dockernet.observe.firewall import (
    Backend,
    NatRule,
    NatTable,
    parse_iptables_save,
    parse_nft_json,
)
from pytest_dockernet.observe.firewall.iptables import split_destination
from pytest_dockernet.observe.firewall.rules import loopback, network_within

DATA = Path(__file__).resolve().parents[1] / "data" / "firewall"

# moby's TestIptabler / TestNftabler: bridge br-dummy, endpoint fd49:efd7:54aa::1, 8080 -> 80
SUBNET = IPv6Network("fd49:efd7:54aa::/64")
BRIDGE = "br-dummy"
C = IPv6Address("fd49:efd7:54aa::1")
ANY6 = IPv6Address("::")
LO6 = IPv6Address("::1")


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def ipt6(name: str) -> NatTable:
    return NatTable(Backend.IPTABLES_NFT, parse_iptables_save(read(name)), name, family=6)


def nft6(name: str) -> NatTable:
    return NatTable(Backend.NFTABLES, parse_nft_json(read(name)), name, family=6)


def one_rule(text: str) -> NatRule:
    rules = parse_iptables_save(f"*nat\n{text}\nCOMMIT\n")
    assert len(rules) == 1, rules
    return rules[0]


# --------------------------------------------------------------------------------------------
# ip6tables-save, moby's golden files


@pytest.fixture(scope="module")
def portmap() -> NatTable:
    return ipt6("moby-ip6tables-portmap-nat.txt")


def test_ip6tables_masquerade_found(portmap: NatTable) -> None:
    (masq,) = portmap.masquerade_rules(SUBNET, BRIDGE)
    assert masq == NatRule(
        chain="POSTROUTING",
        target="MASQUERADE",
        source=SUBNET,
        source_negated=False,
        out_interface=BRIDGE,
        out_negated=True,
        text=f"-A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE",
    )
    assert portmap.masquerade_rules(IPv6Network("fd49:efd7:54ab::/64"), BRIDGE) == ()
    assert portmap.masquerade_rules(IPv6Network("fd49:efd7:54aa::/48"), BRIDGE) == ()  # wider
    assert portmap.masquerade_rules(SUBNET, "br-other") == ()


def test_ip6tables_dnat_excludes_link_local_sources_and_counts(portmap: NatTable) -> None:
    (dnat,) = portmap.dnat_rules(8080, "tcp", C, 80)
    assert (dnat.source, dnat.source_negated) == (IPv6Network("fe80::/10"), True)
    assert (dnat.to_address, dnat.to_ports) == (C, (80, 80))  # from [fd49:efd7:54aa::1]:80
    assert (dnat.in_interface, dnat.in_negated, dnat.unread) == (BRIDGE, True, ())
    assert portmap.dnat_rules(8080, "tcp", C, 80, ANY6) == (dnat,)
    assert portmap.dnat_rules(8080, "tcp", C, 80, LO6) == (dnat,)  # no -d: loopback too
    assert portmap.dnat_rules(8080, "udp", C, 80) == ()
    assert portmap.dnat_rules(8080, "tcp", IPv6Address("fd49:efd7:54aa::2"), 80) == ()
    output = portmap.rules[1]
    assert (output.destination, output.destination_negated) == (IPv6Network("::1/128"), True)
    assert output.other_matches == ("! -d ::1/128", "-m addrtype --dst-type LOCAL")


def test_ip6tables_loopback_binding() -> None:
    table = ipt6("moby-ip6tables-portmap-lo-nat.txt")
    (dnat,) = table.dnat_rules(8080, "tcp", C, 80, LO6)
    assert dnat.destination == IPv6Network("::1/128")
    assert table.dnat_rules(8080, "tcp", C, 80) == ()  # bound to ::1 only
    assert table.dnat_rules(8080, "tcp", C, 80, IPv6Address("fd00:2::1")) == ()


def test_ip6tables_noproxy_layout() -> None:
    table = ipt6("moby-ip6tables-portmap-noproxy-nat.txt")
    (dnat,) = table.dnat_rules(8080, "tcp", C, 80)
    assert dnat.in_interface is None  # no proxy: hairpin traffic from the bridge is DNATed too
    (masq,) = table.masquerade_rules(SUBNET, BRIDGE)  # not "-o br-dummy --src-type LOCAL"
    assert masq.text == f"-A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE"
    own_port = table.rules[4]
    assert own_port.text.endswith("--dport 80 -j MASQUERADE")
    assert not own_port.masquerades(IPv6Network("fd49:efd7:54aa::1/128"), BRIDGE)


def test_ip6tables_routed_and_snat_have_no_masquerade() -> None:
    routed = ipt6("moby-ip6tables-portmap-routed-nat.txt")
    assert routed.masquerade_rules(SUBNET, BRIDGE) == ()
    assert [r.target for r in routed.rules_mentioning(SUBNET, BRIDGE)] == ["DNAT"]
    snat = ipt6("moby-ip6tables-portmap-snat-nat.txt")
    assert snat.masquerade_rules(SUBNET, BRIDGE) == ()
    shown = snat.rules_mentioning(SUBNET, BRIDGE)
    assert [r.target for r in shown] == ["SNAT", "DNAT"]
    assert shown[0].text.endswith("-j SNAT --to-source fd34:d0d4:672f::123")


# --------------------------------------------------------------------------------------------
# ip6tables-save, hand-made constructs


@pytest.fixture(scope="module")
def handmade() -> NatTable:
    return ipt6("handmade-ip6tables-nat.txt")


def test_handmade_ip6tables_masquerade(handmade: NatTable) -> None:
    (docker,) = handmade.masquerade_rules(IPv6Network("fd00:1::/64"), "br-h6")
    assert docker.source == IPv6Network("fd00:1::/64")  # not ! -s fd00::/8, not -p udp
    (negated,) = handmade.masquerade_rules(IPv6Network("2001:db8:1::/64"), "br-h6")
    assert (negated.source, negated.source_negated) == (IPv6Network("fd00::/8"), True)


@pytest.mark.parametrize(
    ("host_port", "proto", "address", "port", "host_ip", "count"),
    [
        (7000, "tcp", "fd00:1::5", 7000, None, 1),  # no port: the packet keeps its own
        (7000, "tcp", "fd00:1::5", 70, None, 0),
        (7105, "tcp", "fd00:1::6", 7100, None, 0),  # to a port range: not one port
        (7300, "tcp", "fd00:1::a", 73, None, 0),  # ! -s fd00::/8 narrows more than link-local
        (7400, "tcp", "fd00:1::b", 74, None, 0),  # -s fe80::/10: link-local sources only
        (5353, "udp", "fd00:1::c", 53, "fd00:2::1", 1),  # -d fd00:2::1/128
        (5353, "udp", "fd00:1::c", 53, "::", 0),
        (5353, "udp", "fd00:1::c", 53, "fd00:2::2", 0),
    ],
)
def test_handmade_ip6tables_dnat(
    handmade: NatTable,
    host_port: int,
    proto: str,
    address: str,
    port: int,
    host_ip: str | None,
    count: int,
) -> None:
    bound = IPv6Address(host_ip) if host_ip is not None else None
    found = handmade.dnat_rules(host_port, proto, IPv6Address(address), port, bound)
    assert len(found) == count


def test_handmade_ip6tables_targets(handmade: NatTable) -> None:
    dnat = {r.dports: r for r in handmade.rules if r.target == "DNAT"}
    assert (dnat[7000, 7000].to_address, dnat[7000, 7000].to_ports) == (
        IPv6Address("fd00:1::5"),
        None,
    )
    assert dnat[7100, 7110].to_ports == (7100, 7110)
    assert (dnat[7200, 7200].to_address, dnat[7200, 7200].to_ports) == (None, (72, 72))
    (ranged,) = handmade.rules_for_port(7200, "tcp")
    assert ranged.text.endswith("--to-destination [fd00:1::7-fd00:1::9]:72")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.2:80", ("10.0.0.2", "80")),
        ("10.0.0.2", ("10.0.0.2", "")),
        ("10.0.0.2-10.0.0.9:80-90", ("10.0.0.2-10.0.0.9", "80-90")),
        ("[fd00::2]:80", ("fd00::2", "80")),
        ("[fd00::2]", ("fd00::2", "")),
        ("fd00::2", ("fd00::2", "")),
        ("[fd00::2-fd00::9]:72", ("fd00::2-fd00::9", "72")),
    ],
)
def test_split_destination(value: str, expected: tuple[str, str]) -> None:
    assert split_destination(value) == expected


# --------------------------------------------------------------------------------------------
# nft -j list table ip6 docker-bridges (moby's golden files, recorded through nft)


def test_nft_ip6_masquerade_and_dnat_paths() -> None:
    table = nft6("moby-nftables-portmap-ip6.json")
    (masq,) = table.masquerade_rules(SUBNET, BRIDGE)
    assert masq.chain == f"nat-postrouting-out__{BRIDGE}"
    assert (masq.in_interface, masq.out_interface, masq.out_negated) == (BRIDGE, BRIDGE, True)
    assert masq.text.startswith(f'oifname != "{BRIDGE}" ip6 saddr {SUBNET} counter masquerade')
    output, prerouting = table.dnat_rules(8080, "tcp", C, 80)
    assert "reached from nat-OUTPUT" in output.text
    assert (output.destination, output.destination_negated) == (IPv6Network("::1/128"), True)
    assert (output.source, output.source_negated) == (IPv6Network("fe80::/10"), True)
    assert "dnat to [fd49:efd7:54aa::1]:80" in output.text
    assert "reached from nat-PREROUTING" in prerouting.text
    assert prerouting.destination is None
    assert table.dnat_rules(8080, "tcp", C, 80, ANY6) == (output, prerouting)
    # the host's own connection to ::1 is not DNATed from nat-OUTPUT: docker-proxy serves it
    assert table.dnat_rules(8080, "tcp", C, 80, LO6) == (prerouting,)


def test_nft_ip6_loopback_binding_is_never_reached_from_output() -> None:
    table = nft6("moby-nftables-portmap-lo-ip6.json")
    (dnat,) = [r for r in table.rules if r.target == "DNAT"]  # ip6 daddr != ::1 contradicts
    assert "reached from nat-PREROUTING" in dnat.text
    assert table.dnat_rules(8080, "tcp", C, 80, LO6) == (dnat,)
    assert table.dnat_rules(8080, "tcp", C, 80) == ()


def test_nft_ip6_noproxy_and_routed() -> None:
    noproxy = nft6("moby-nftables-portmap-noproxy-ip6.json")
    assert len(noproxy.dnat_rules(8080, "tcp", C, 80, LO6)) == 2
    (outbound,) = noproxy.masquerade_rules(SUBNET, BRIDGE)
    assert outbound.chain == f"nat-postrouting-out__{BRIDGE}"
    inbound = [r for r in noproxy.rules if r.chain == f"nat-postrouting-in__{BRIDGE}"]
    assert [r.other_matches for r in inbound if r.target == "MASQUERADE"] == [
        ("fib saddr type local",),
        ("ip6 daddr fd49:efd7:54aa::1", "tcp dport 80"),
    ]
    routed = nft6("moby-nftables-portmap-routed-ip6.json")
    assert routed.masquerade_rules(SUBNET, BRIDGE) == ()
    assert len(routed.dnat_rules(8080, "tcp", C, 80)) == 2


def test_nft_handmade_inet_table() -> None:
    rules = parse_nft_json(read("handmade-nft-ip6-variants.json"))
    six = NatTable(Backend.NFTABLES, rules, "", family=6)
    four = NatTable(Backend.NFTABLES, rules, "")
    assert len(six.masquerade_rules(IPv6Network("fd00:1::/64"), "br-h6")) == 1
    assert len(six.masquerade_rules(IPv6Network("fd00:4::/64"), "br-set")) == 1
    assert len(six.masquerade_rules(IPv6Network("fd00:5::/64"), "br-range")) == 1
    assert six.masquerade_rules(IPv6Network("fd00:7::/64"), "br-both") == ()  # ip AND ip6 saddr
    assert len(four.masquerade_rules(IPv4Network("10.6.0.0/16"), "br-h4")) == 1
    assert six.masquerade_rules(IPv4Network("10.6.0.0/16"), "br-h4") == ()  # other family
    (with_port,) = six.dnat_rules(7000, "tcp", IPv6Address("fd00:1::5"), 70)
    assert with_port.protocol == "tcp"  # ip6 nexthdr tcp
    assert "dnat ip6 to [fd00:1::5]:70" in with_port.text
    (keeps_port,) = six.dnat_rules(7100, "tcp", IPv6Address("fd00:1::6"), 7100)
    assert "dnat ip6 to fd00:1::6  [reached" in keeps_port.text


# --------------------------------------------------------------------------------------------
# one family asked about the other: no match, no exception


def test_masquerades_across_families() -> None:
    v6 = one_rule(f"-A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE")
    assert v6.masquerades(IPv4Network("10.0.0.0/24"), BRIDGE) is False
    negated = one_rule(f"-A POSTROUTING ! -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE")
    assert negated.masquerades(IPv4Network("10.0.0.0/24"), BRIDGE) is False
    v4 = one_rule(f"-A POSTROUTING -s 10.0.0.0/8 ! -o {BRIDGE} -j MASQUERADE")
    assert v4.masquerades(SUBNET, BRIDGE) is False
    assert v4.mentions(SUBNET, "br-other") is False
    assert v4.mentions(SUBNET, BRIDGE) is True  # by its interface


def test_forwards_across_families(portmap: NatTable) -> None:
    (dnat,) = portmap.dnat_rules(8080, "tcp", C, 80)
    assert dnat.forwards(8080, "tcp", C, 80, IPv4Address("0.0.0.0")) is False
    assert dnat.forwards(8080, "tcp", IPv4Address("192.0.2.2"), 80) is False
    assert portmap.dnat_rules(8080, "tcp", IPv4Address("192.0.2.2"), 80) == ()
    v4 = one_rule(
        "-A DOCKER -d 127.0.0.1/32 ! -i br0 -p tcp -m tcp --dport 8080 -j DNAT "
        "--to-destination 192.0.2.2:80"
    )
    assert v4.forwards(8080, "tcp", IPv4Address("192.0.2.2"), 80, LO6) is False
    assert v4.forwards(8080, "tcp", IPv4Address("192.0.2.2"), 80, ANY6) is False
    assert portmap.rules_for_port(8080, "tcp", IPv4Address("192.0.2.2")) == (dnat,)


def test_table_of_one_family_finds_nothing_of_the_other(portmap: NatTable) -> None:
    catch_all = one_rule(f"-A POSTROUTING ! -o {BRIDGE} -j MASQUERADE")  # no source at all
    v6_table = NatTable(Backend.IPTABLES_NFT, (catch_all,), "", family=6)
    v4_table = NatTable(Backend.IPTABLES_NFT, (catch_all,), "")
    assert v6_table.masquerade_rules(IPv4Network("10.0.0.0/24"), BRIDGE) == ()
    assert v6_table.masquerade_rules(SUBNET, BRIDGE) == (catch_all,)
    assert v4_table.masquerade_rules(SUBNET, BRIDGE) == ()
    assert portmap.rules_mentioning(IPv4Network("10.0.0.0/24"), "br-other") == ()


def test_helpers_across_families() -> None:
    assert loopback(4) == IPv4Network("127.0.0.0/8")
    assert loopback(6) == IPv6Network("::1/128")
    assert network_within(IPv6Network("fd00:1::/64"), IPv6Network("fd00::/8")) is True
    assert network_within(IPv6Network("fd00::/8"), IPv6Network("fd00:1::/64")) is False
    assert network_within(IPv6Network("::/0"), IPv4Network("0.0.0.0/0")) is False
    assert network_within(IPv4Network("10.0.0.0/8"), IPv6Network("::/0")) is False
