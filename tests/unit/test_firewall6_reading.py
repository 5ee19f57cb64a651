"""read_nat_table(..., family=6): which tool reads Docker's IPv6 nat rules on each backend, with
a stand-in for subprocess.run answering from moby's golden files (see
tests/data/firewall/README.md).
"""

from __future__ import annotations

from ipaddress import IPv6Network

import pytest

from pytest_dockernet.observe.firewall import Backend, FirewallReadError, read_nat_table, reading
from pytest_dockernet.observe.firewall.nftables import NFT_TABLE6, nft_table
from tests.unit.test_firewall import fake_run, read

SUBNET = IPv6Network("fd49:efd7:54aa::/64")
BRIDGE = "br-dummy"
NFTABLES = {"FirewallBackend": {"Driver": "nftables"}}
BOTH_TABLES = "table ip docker-bridges\ntable ip6 docker-bridges\n"
IP4_ONLY = "table ip filter\ntable ip docker-bridges\n"


@pytest.fixture
def named_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )


@pytest.mark.usefixtures("named_binaries")
def test_iptables_nft_reads_ip6tables(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def legacy_nat_exists(family: int = 4) -> bool:
        asked.append(family)
        return False

    monkeypatch.setattr(reading, "_legacy_nat_exists", legacy_nat_exists)
    calls = fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "ip6tables-nft-save": (0, read("moby-ip6tables-portmap-nat.txt"), ""),
        },
    )
    table = read_nat_table({}, family=6)
    assert calls == [["iptables", "-V"], ["ip6tables-nft-save", "-t", "nat"]]
    assert asked == [6]  # /proc/net/ip6_tables_names, not ip_tables_names
    assert (table.backend, table.family, table.note) == (Backend.IPTABLES_NFT, 6, "")
    assert table.source == "ip6tables-nft-save -t nat (nf_tables)"
    assert len(table.masquerade_rules(SUBNET, BRIDGE)) == 1


@pytest.mark.usefixtures("named_binaries")
def test_legacy_reads_ip6tables_legacy_and_notes_ip6tables_nft(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (legacy)\n", ""),
            "ip6tables-legacy-save": (0, read("moby-ip6tables-portmap-nat.txt"), ""),
            "ip6tables-nft-save": (0, read("moby-ip6tables-portmap-routed-nat.txt"), ""),
        },
    )
    table = read_nat_table({}, family=6)
    assert table.source == "ip6tables-legacy-save -t nat (legacy)"
    assert table.note == (
        "the ip6tables-nft nat table also holds Docker rules (3 rules in "
        "`ip6tables-nft-save -t nat`); the kernel applies both variants, and the rules above are "
        "only those of ip6tables-legacy, the variant `ip6tables` runs"
    )


def test_nftables_reads_the_ip6_table(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(
        monkeypatch,
        {
            "nft list tables": (0, BOTH_TABLES, ""),
            "nft": (0, read("moby-nftables-portmap-ip6.json"), ""),
        },
    )
    table = read_nat_table(NFTABLES, family=6)
    assert calls[-1] == ["nft", "-j", "list", "table", "ip6", "docker-bridges"]
    assert (table.backend, table.family) == (Backend.NFTABLES, 6)
    assert table.source == "nft -j list table ip6 docker-bridges"
    assert len(table.masquerade_rules(SUBNET, BRIDGE)) == 1
    # family 4 still reads the ip table
    fake_run(monkeypatch, {"nft list tables": (0, BOTH_TABLES, ""), "nft": (0, "{}", "")})
    with pytest.raises(FirewallReadError, match="`nft -j list table ip docker-bridges`"):
        read_nat_table(NFTABLES)


@pytest.mark.usefixtures("named_binaries")
def test_nftables_reported_without_ip6_table_reads_ip6tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_run(
        monkeypatch,
        {
            "nft list tables": (0, IP4_ONLY, ""),  # the ip table alone does not count for 6
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "ip6tables-nft-save": (0, read("moby-ip6tables-portmap-nat.txt"), ""),
        },
    )
    table = read_nat_table(NFTABLES, family=6)
    assert (table.backend, table.family) == (Backend.IPTABLES_NFT, 6)
    assert table.note == (
        "the engine reports the nftables firewall backend, but table ip6 docker-bridges does "
        "not exist: Docker's rules were found in ip6tables-nft's nat table, and read there"
    )
    assert len(table.masquerade_rules(SUBNET, BRIDGE)) == 1


@pytest.mark.usefixtures("named_binaries")
def test_nftables_reported_without_any_ip6_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run(
        monkeypatch,
        {
            "nft list tables": (0, IP4_ONLY, ""),
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "ip6tables-nft-save": (0, "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", ""),
        },
    )
    table = read_nat_table(NFTABLES, family=6)
    assert (table.backend, table.rules, table.family) == (Backend.NFTABLES, (), 6)
    assert table.note == (
        "table ip6 docker-bridges does not exist and ip6tables-nft holds no Docker nat rule: "
        "the engine reports the nftables firewall backend but has written no bridge rules (is "
        "the daemon running with ip6tables=false?)"
    )


def test_family_other_than_4_or_6_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(monkeypatch, {})
    with pytest.raises(ValueError, match="family must be 4 or 6, got 5"):
        read_nat_table(NFTABLES, family=5)
    assert calls == []


def test_nft_table_names() -> None:
    assert nft_table(4) == ("ip", "docker-bridges")
    assert nft_table(6) == NFT_TABLE6 == ("ip6", "docker-bridges")


LEFTOVER = "br-ddb641e0a1b7"
"""The dual-stack network's bridge in docker-20.10-after-28.5-ip6-filter.txt."""


@pytest.mark.usefixtures("named_binaries")
def test_chains_another_engine_left_are_not_ipv6_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker 28.5 stopped, 20.10 started without a reboot: 28.5's chains are still in the IPv6
    filter table, and 20.10 (ip6tables off) writes no rule naming its dual-stack network's
    bridge. The chains alone once read as "on" (stop 32's CI, on the machine the session left)."""
    calls = fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "ip6tables-nft-save": (0, read("docker-20.10-after-28.5-ip6-filter.txt"), ""),
        },
    )
    assert not reading.ip6tables_rules({}, [LEFTOVER])
    assert calls[-1] == ["ip6tables-nft-save", "-t", "filter"]


@pytest.mark.usefixtures("named_binaries")
def test_rules_naming_the_bridge_are_ipv6_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "ip6tables-nft-save": (0, read("docker-28.5-ip6-raw-drop-before.txt"), ""),
        },
    )
    assert reading.ip6tables_rules({}, ["br-c320e37328ba"])
    assert reading.ip6tables_rules({}, [LEFTOVER, "br-ec70b8ed4bad"])
    assert not reading.ip6tables_rules({}, [LEFTOVER])


def test_native_nftables_rules_name_the_bridge(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(
        monkeypatch,
        {
            "nft list tables": (0, BOTH_TABLES, ""),
            "nft": (0, read("moby-nftables-portmap-ip6.nft"), ""),
        },
    )
    assert reading.ip6tables_rules(NFTABLES, [BRIDGE])
    assert calls[-1] == ["nft", "list", "table", "ip6", "docker-bridges"]
    assert not reading.ip6tables_rules(NFTABLES, [LEFTOVER])
    fake_run(monkeypatch, {"nft list tables": (0, IP4_ONLY, "")})
    assert not reading.ip6tables_rules(NFTABLES, [BRIDGE])  # no ip6 table: ip6tables off


def test_no_bridge_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(monkeypatch, {})
    assert not reading.ip6tables_rules({}, [])
    assert calls == []


def test_bridges_named_reads_both_layouts() -> None:
    saved = "-A DOCKER ! -i br-a -o br-b -j DROP\n:DOCKER-USER - [0:0]\n[3:180] -A X -i dn-+ -j A"
    assert reading.bridges_named(saved, nft=False) == {"br-a", "br-b", "dn-+"}
    assert reading.bridges_named(read("moby-nftables-portmap-ip6.nft"), nft=True) >= {BRIDGE}
