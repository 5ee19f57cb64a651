"""Parsing the nat rules Docker writes, from recordings; no Docker engine, no root.

The recordings and where they came from are listed in tests/data/firewall/README.md.
"""

from __future__ import annotations

import json
import subprocess
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest

from pytest_dockernet.errors import DockernetError, PrivilegeError
from pytest_dockernet.observe.firewall import (
    Backend,
    FirewallReadError,
    NatRule,
    NatTable,
    detect_backend,
    format_rules,
    parse_iptables_save,
    parse_nft_json,
    read_nat_table,
    reading,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "firewall"

# tests/data/firewall/iptables-nft-save.txt, recorded with two fresh networks on Docker 20.10
NET_A = IPv4Network("172.19.0.0/16")  # dn-fwrec-a, masquerade on
BRIDGE_A = "br-a742520c1b99"
NET_B = IPv4Network("172.20.0.0/16")  # dn-fwrec-b, enable_ip_masquerade=false
BRIDGE_B = "br-ec35b1aafa3c"
NET_T1 = IPv4Network("172.18.0.0/16")  # pre-existing network t1 on the recording machine
BRIDGE_T1 = "br-8dcc9bababbc"
DOCKER0_NET = IPv4Network("172.17.0.0/16")

# the moby nftables docs: bridge1 192.0.2.0/24
DOC_NET = IPv4Network("192.0.2.0/24")
DOC_BRIDGE = "bridge1"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def rule(**kwargs: Any) -> NatRule:
    """A NatRule with Docker's per-bridge masquerade as defaults."""
    fields: dict[str, Any] = {
        "chain": "POSTROUTING",
        "target": "MASQUERADE",
        "source": NET_A,
        "source_negated": False,
        "out_interface": BRIDGE_A,
        "out_negated": True,
        "text": "test rule",
    }
    fields.update(kwargs)
    return NatRule(**fields)


def one_rule(text: str) -> NatRule:
    rules = parse_iptables_save(f"*nat\n:POSTROUTING ACCEPT [0:0]\n{text}\nCOMMIT\n")
    assert len(rules) == 1, rules
    return rules[0]


# --------------------------------------------------------------------------------------------
# iptables-save, recorded


@pytest.fixture(scope="module")
def nft_save() -> NatTable:
    rules = parse_iptables_save(read("iptables-nft-save.txt"))
    return NatTable(Backend.IPTABLES_NFT, rules, "iptables-save -t nat (nf_tables)")


def test_recorded_iptables_save_parses_every_rule(nft_save: NatTable) -> None:
    assert [(r.chain, r.target) for r in nft_save.rules] == [
        ("PREROUTING", "DOCKER"),
        ("OUTPUT", "DOCKER"),
        ("POSTROUTING", "MASQUERADE"),
        ("POSTROUTING", "MASQUERADE"),
        ("POSTROUTING", "MASQUERADE"),
        ("DOCKER", "RETURN"),
        ("DOCKER", "RETURN"),
        ("DOCKER", "RETURN"),
    ]
    masq = nft_save.rules[2]
    assert masq == NatRule(
        chain="POSTROUTING",
        target="MASQUERADE",
        source=NET_A,
        source_negated=False,
        out_interface=BRIDGE_A,
        out_negated=True,
        text=f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE",
    )
    ret = nft_save.rules[5]
    assert (ret.in_interface, ret.in_negated, ret.out_interface) == (BRIDGE_A, False, None)
    output = nft_save.rules[1]
    assert output.other_matches == ("! -d 127.0.0.0/8", "-m addrtype --dst-type LOCAL")


def test_recorded_masquerading_network_is_found(nft_save: NatTable) -> None:
    found = nft_save.masquerade_rules(NET_A, BRIDGE_A)
    assert [r.text for r in found] == [
        f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE"
    ]
    assert len(nft_save.masquerade_rules(NET_T1, BRIDGE_T1)) == 1
    assert len(nft_save.masquerade_rules(DOCKER0_NET, "docker0")) == 1


def test_recorded_network_without_masquerade_is_not_found(nft_save: NatTable) -> None:
    assert nft_save.masquerade_rules(NET_B, BRIDGE_B) == ()
    assert nft_save.rules_mentioning(NET_B, BRIDGE_B) == ()


def test_recorded_wrong_bridge_or_wrong_subnet_is_not_found(nft_save: NatTable) -> None:
    assert nft_save.masquerade_rules(NET_A, BRIDGE_T1) == ()  # right subnet, other bridge
    assert nft_save.masquerade_rules(NET_T1, BRIDGE_A) == ()  # other subnet, right bridge
    assert nft_save.masquerade_rules(IPv4Network("172.18.0.0/15"), BRIDGE_A) == ()  # wider


def test_rules_mentioning_shows_masquerade_and_return(nft_save: NatTable) -> None:
    mentioned = nft_save.rules_mentioning(NET_A, BRIDGE_A)
    assert [r.text for r in mentioned] == [
        f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE",
        f"-A DOCKER -i {BRIDGE_A} -j RETURN",
    ]
    assert (
        format_rules(mentioned).splitlines()[1] == f"    [DOCKER] -A DOCKER -i {BRIDGE_A} -j RETURN"
    )
    assert format_rules(()) == "    (no rules)"


# --------------------------------------------------------------------------------------------
# iptables-legacy-save -c, hand-made


@pytest.fixture(scope="module")
def legacy() -> NatTable:
    rules = parse_iptables_save(read("iptables-legacy-save-counters.handmade.txt"))
    return NatTable(Backend.IPTABLES_LEGACY, rules, "iptables-legacy-save -t nat (legacy)")


def test_legacy_counters_are_stripped_but_kept_in_text(legacy: NatTable) -> None:
    assert len(legacy.rules) == 11
    first = legacy.rules[0]
    assert (first.chain, first.target) == ("PREROUTING", "DOCKER")
    assert first.text == "[8:480] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"
    assert first.other_matches == ("-m addrtype --dst-type LOCAL",)  # not "[8:480]"


def test_legacy_masquerade_found_and_comment_ignored(legacy: NatTable) -> None:
    assert len(legacy.masquerade_rules(IPv4Network("172.30.0.0/16"), "br-0123456789ab")) == 1
    (docker0,) = legacy.masquerade_rules(DOCKER0_NET, "docker0")
    # the quoted comment holds an escaped quote and a fake "-j network": neither leaks out
    assert docker0.target == "MASQUERADE"
    assert docker0.other_matches == ()
    assert 'default \\"bridge\\" -j network' in docker0.text


def test_legacy_snat_only_network_has_no_masquerade(legacy: NatTable) -> None:
    net, bridge = IPv4Network("192.168.50.0/24"), "br-feedfacecafe"
    assert legacy.masquerade_rules(net, bridge) == ()
    excluded, snat = legacy.rules_mentioning(net, bridge)
    assert excluded.text.endswith("! -s 192.168.0.0/16 --out-interface eth0 -j MASQUERADE")
    assert snat.target == "SNAT"
    assert snat.source == IPv4Network("192.168.50.7/32")  # printed without /len
    assert (snat.out_interface, snat.out_negated) == (bridge, False)


def test_legacy_long_options_and_negated_source(legacy: NatTable) -> None:
    catch_all = legacy.rules[5]
    assert catch_all.text.endswith("--source 10.0.0.0/8 -j MASQUERADE")
    assert (catch_all.source, catch_all.out_interface) == (IPv4Network("10.0.0.0/8"), None)
    eth0 = legacy.rules[6]
    assert eth0.source == IPv4Network("192.168.0.0/16")
    assert eth0.source_negated is True
    assert (eth0.out_interface, eth0.out_negated) == ("eth0", False)
    dnat = legacy.rules[10]
    assert (dnat.target, dnat.in_interface, dnat.in_negated) == ("DNAT", "br-0123456789ab", True)
    assert dnat.other_matches == ("-p tcp", "-m tcp --dport 8080")


def test_catch_all_masquerade_is_not_the_per_bridge_rule(legacy: NatTable) -> None:
    # `-s 10.0.0.0/8 -j MASQUERADE` covers a Docker subnet inside 10/8, but it also NATs traffic
    # hairpinning back into the bridge and is not what Docker writes: it does not count.
    assert legacy.masquerade_rules(IPv4Network("10.9.0.0/16"), "br-0000000000aa") == ()
    assert (
        one_rule("-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE").masquerades(
            IPv4Network("10.9.0.0/16"), "br-0000000000aa"
        )
        is False
    )


def test_port_specific_masquerade_is_not_the_per_bridge_rule(legacy: NatTable) -> None:
    own_port = legacy.rules[4]
    assert own_port.target == "MASQUERADE"
    assert own_port.masquerades(IPv4Network("172.30.0.2/32"), "br-0123456789ab") is False


def test_other_tables_in_the_dump_are_ignored() -> None:
    text = (
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s 172.19.0.0/16 ! -o br-x -j MASQUERADE\n"
        "COMMIT\n*nat\n-A POSTROUTING -s 172.19.0.0/16 ! -o br-x -j MASQUERADE\nCOMMIT\n"
        "*mangle\n-A POSTROUTING -j RETURN\nCOMMIT\n"
    )
    rules = parse_iptables_save(text)
    assert [(r.chain, r.target) for r in rules] == [("POSTROUTING", "MASQUERADE")]
    assert parse_iptables_save("-A POSTROUTING -j MASQUERADE\n") == ()  # no *nat header


def test_unbalanced_quote_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot split"):
        parse_iptables_save('*nat\n-A POSTROUTING -m comment --comment "oops -j MASQUERADE\n')


# --------------------------------------------------------------------------------------------
# masquerades(): meaning, negations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE", True),
        (f"-A POSTROUTING -s 172.16.0.0/12 ! -o {BRIDGE_A} -j MASQUERADE", True),  # supernet
        (f"-A POSTROUTING ! -o {BRIDGE_A} -j MASQUERADE", True),  # any source
        (f"-A POSTROUTING ! -s 10.0.0.0/8 ! -o {BRIDGE_A} -j MASQUERADE", True),  # disjoint !-s
        (f"-A POSTROUTING ! -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE", False),
        (f"-A POSTROUTING ! -s 172.19.5.0/24 ! -o {BRIDGE_A} -j MASQUERADE", False),  # overlap
        (f"-A POSTROUTING -s 172.19.0.0/24 ! -o {BRIDGE_A} -j MASQUERADE", False),  # narrower
        (f"-A POSTROUTING -s 172.19.0.0/16 -o {BRIDGE_A} -j MASQUERADE", False),  # into bridge
        ("-A POSTROUTING -s 172.19.0.0/16 -o eth0 -j MASQUERADE", False),  # one way out only
        ("-A POSTROUTING -s 172.19.0.0/16 ! -o br-+ -j MASQUERADE", False),  # wildcard
        ("-A POSTROUTING -s 172.19.0.0/16 -j MASQUERADE", False),  # no ! -o
        (f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j SNAT --to-source 1.2.3.4", False),
        (f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j RETURN", False),
        (f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -p udp -j MASQUERADE", False),
        (f"-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -p all -j MASQUERADE", True),
        (
            f'-A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -m comment --comment "x y" '
            "-j MASQUERADE --random",
            True,
        ),
        (
            f"-A POSTROUTING --source 172.19.0.0/255.255.0.0 ! --out-interface {BRIDGE_A} "
            "--jump MASQUERADE",
            True,
        ),
        (f"[3:99] -A POSTROUTING -s 172.19.0.0/16 ! -o {BRIDGE_A} -j MASQUERADE", True),
    ],
)
def test_masquerades_by_meaning(text: str, expected: bool) -> None:
    assert one_rule(text).masquerades(NET_A, BRIDGE_A) is expected


def test_negation_binds_only_to_the_next_option() -> None:
    parsed = one_rule(f"-A POSTROUTING ! -s 10.0.0.0/8 -o {BRIDGE_A} -j MASQUERADE")
    assert (parsed.source_negated, parsed.out_negated) == (True, False)
    parsed = one_rule(f"-A POSTROUTING -s 10.0.0.0/8 ! -o {BRIDGE_A} -j MASQUERADE")
    assert (parsed.source_negated, parsed.out_negated) == (False, True)
    parsed = one_rule("-A POSTROUTING -m addrtype ! --src-type LOCAL -s 10.0.0.0/8 -j RETURN")
    assert parsed.other_matches == ("-m addrtype ! --src-type LOCAL",)
    assert (parsed.source, parsed.source_negated) == (IPv4Network("10.0.0.0/8"), False)


@pytest.mark.parametrize(
    ("in_interface", "in_negated", "expected"),
    [
        (None, False, True),
        (BRIDGE_A, False, True),
        ("br-+", False, True),
        ("eth0", False, False),
        ("eth0", True, True),
        (BRIDGE_A, True, False),
    ],
)
def test_in_interface_must_admit_the_bridge(
    in_interface: str | None, in_negated: bool, expected: bool
) -> None:
    candidate = rule(in_interface=in_interface, in_negated=in_negated)
    assert candidate.masquerades(NET_A, BRIDGE_A) is expected


def test_rule_defaults_are_the_per_bridge_rule() -> None:
    assert rule().masquerades(NET_A, BRIDGE_A) is True
    assert rule(other_matches=("-p tcp",)).masquerades(NET_A, BRIDGE_A) is False
    assert rule(source=None).masquerades(NET_A, BRIDGE_A) is True
    assert rule(out_negated=False).masquerades(NET_A, BRIDGE_A) is False


# --------------------------------------------------------------------------------------------
# nft -j, Docker's native nftables backend (moby docs, recorded through nft)


@pytest.fixture(scope="module")
def portmap() -> NatTable:
    rules = parse_nft_json(read("moby-nftables-usernet-portmap.json"))
    return NatTable(Backend.NFTABLES, rules, "nft -j list table ip docker-bridges")


def test_nft_masquerade_found_through_the_vmap(portmap: NatTable) -> None:
    (found,) = portmap.masquerade_rules(DOC_NET, DOC_BRIDGE)
    assert found.chain == "nat-postrouting-out__bridge1"
    assert found.target == "MASQUERADE"
    assert (found.source, found.source_negated) == (DOC_NET, False)
    assert (found.out_interface, found.out_negated) == ("bridge1", True)
    # the condition of the verdict-map element that jumped here
    assert (found.in_interface, found.in_negated) == ("bridge1", False)
    assert found.other_matches == ()
    assert found.text == (
        'oifname != "bridge1" ip saddr 192.0.2.0/24 counter masquerade comment "MASQUERADE"'
        "  [reached from nat-POSTROUTING by iifname vmap @nat-postrouting-out-jumps "
        '(iifname "bridge1" : jump nat-postrouting-out__bridge1)]'
    )
    (docker0,) = portmap.masquerade_rules(DOCKER0_NET, "docker0")
    assert docker0.chain == "nat-postrouting-out__docker0"


def test_nft_only_nat_chains_reached_from_a_base_chain(portmap: NatTable) -> None:
    chains = {r.chain for r in portmap.rules}
    assert chains == {
        "nat-OUTPUT",
        "nat-PREROUTING",
        "nat-POSTROUTING",
        "nat-prerouting-and-output",
        "nat-postrouting-out__docker0",
        "nat-postrouting-out__bridge1",
    }  # no filter-*/raw-* chains; empty nat-postrouting-in__* chains have no rules
    jumps = [r for r in portmap.rules if r.chain == "nat-POSTROUTING"]
    assert [(r.target, r.in_interface, r.out_interface) for r in jumps] == [
        ("nat-postrouting-out__docker0", "docker0", None),
        ("nat-postrouting-out__bridge1", "bridge1", None),
        ("nat-postrouting-in__docker0", None, "docker0"),
        ("nat-postrouting-in__bridge1", None, "bridge1"),
    ]
    # nat-prerouting-and-output is reached twice: once per path, each with its own conditions
    dnat = [r for r in portmap.rules if r.target == "DNAT"]
    assert [r.other_matches for r in dnat] == [
        ("ip daddr != 127.0.0.0/8", "fib daddr type local", "tcp dport 8080"),
        ("fib daddr type local", "tcp dport 8080"),
    ]


def test_nft_wrong_bridge_or_subnet_is_not_found(portmap: NatTable) -> None:
    assert portmap.masquerade_rules(DOC_NET, "docker0") == ()
    assert portmap.masquerade_rules(IPv4Network("192.0.3.0/24"), DOC_BRIDGE) == ()
    assert portmap.masquerade_rules(DOCKER0_NET, DOC_BRIDGE) == ()


def test_nft_routed_network_has_no_masquerade() -> None:
    table = NatTable(
        Backend.NFTABLES, parse_nft_json(read("moby-nftables-usernet-portmap-routed.json")), ""
    )
    assert table.masquerade_rules(DOC_NET, DOC_BRIDGE) == ()
    assert len(table.masquerade_rules(DOCKER0_NET, "docker0")) == 1
    mentioned = table.rules_mentioning(DOC_NET, DOC_BRIDGE)
    assert [r.target for r in mentioned] == [
        "nat-postrouting-out__bridge1",
        "nat-postrouting-in__bridge1",
    ]


def test_nft_inbound_masquerades_do_not_count() -> None:
    table = NatTable(
        Backend.NFTABLES, parse_nft_json(read("moby-nftables-usernet-portmap-noproxy.json")), ""
    )
    (outbound,) = table.masquerade_rules(DOC_NET, DOC_BRIDGE)
    assert outbound.chain == "nat-postrouting-out__bridge1"
    inbound = [
        r
        for r in table.rules
        if r.chain == "nat-postrouting-in__bridge1" and r.target == "MASQUERADE"
    ]
    assert [(r.out_interface, r.out_negated, r.other_matches) for r in inbound] == [
        ("bridge1", False, ("fib saddr type local",)),
        ("bridge1", False, ("ip daddr 192.0.2.2", "tcp dport 80")),
    ]
    assert not any(r.masquerades(IPv4Network("192.0.2.2/32"), DOC_BRIDGE) for r in inbound)


@pytest.fixture(scope="module")
def variants() -> NatTable:
    return NatTable(Backend.NFTABLES, parse_nft_json(read("handmade-nft-variants.json")), "")


@pytest.mark.parametrize(
    ("subnet", "bridge", "count"),
    [
        ("10.1.0.0/16", "brA", 1),  # named vmap -> jump
        ("10.2.0.0/16", "brB", 1),  # anonymous vmap -> goto
        ("10.3.0.0/16", "brC", 1),  # conditions on the jumping rule, bare masquerade
        ("10.4.0.0/16", "brD", 0),  # oifname "eth0"
        ("10.5.0.0/24", "brE", 1),  # anonymous prefix set, first element
        ("10.6.0.0/24", "brE", 1),  # anonymous prefix set, second element
        ("10.7.0.0/24", "brF", 1),  # named interval set
        ("10.8.0.0/24", "brF", 1),
        ("10.9.0.0/16", "brG", 0),  # oifname != { "brG", "brX" }
        ("10.10.0.0/16", "brH", 0),  # tcp dport 80
        ("10.11.0.0/16", "brI", 0),  # unreachable chain
        ("10.50.0.0/16", "brJ", 0),  # no oifname at all
        ("192.168.7.0/24", "brK", 1),  # ip saddr != 10.0.0.0/8
        ("10.12.0.0/16", "brK", 0),
        ("10.1.0.0/16", "brB", 0),  # right subnet, wrong bridge
    ],
)
def test_nft_variants(variants: NatTable, subnet: str, bridge: str, count: int) -> None:
    assert len(variants.masquerade_rules(IPv4Network(subnet), bridge)) == count


def test_nft_jump_carries_the_jumping_rules_conditions(variants: NatTable) -> None:
    (bare,) = [r for r in variants.rules if r.chain == "masq-only"]
    assert bare.source == IPv4Network("10.3.0.0/16")
    assert (bare.in_interface, bare.out_interface, bare.out_negated) == ("brC", "brC", True)
    assert bare.text.startswith("masquerade  [reached from nat-POSTROUTING by iifname")
    (negated_set,) = [r for r in variants.rules if r.source == IPv4Network("10.9.0.0/16")]
    assert negated_set.other_matches == ('oifname != "brX"',)
    assert not any(r.chain == "unreachable" for r in variants.rules)


def test_nft_contradictory_path_is_dropped() -> None:
    doc = {
        "nftables": [
            {"chain": {"family": "ip", "table": "t", "name": "post", "type": "nat",
                       "hook": "postrouting", "prio": 100, "policy": "accept"}},
            {"chain": {"family": "ip", "table": "t", "name": "per"}},
            {"rule": {"family": "ip", "table": "t", "chain": "post", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                           "right": {"prefix": {"addr": "10.1.0.0", "len": 16}}}},
                {"jump": {"target": "per"}}]}},
            {"rule": {"family": "ip", "table": "t", "chain": "per", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                           "right": {"prefix": {"addr": "10.2.0.0", "len": 16}}}},
                {"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": "br0"}},
                {"masquerade": None}]}},
        ]
    }  # fmt: skip
    rules = parse_nft_json(json.dumps(doc))
    assert [(r.chain, r.target) for r in rules] == [("post", "per")]  # 10.1/16 AND 10.2/16: never


def test_nft_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not `nft -j` output"):
        parse_nft_json("table ip docker-bridges {\n}")


# --------------------------------------------------------------------------------------------
# detect_backend / read_nat_table with a stand-in for subprocess.run


def fake_run(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, tuple[int, str, str]]
) -> list[list[str]]:
    """Make subprocess.run answer by the whole command, else by argv[0]; returns the list of
    commands run."""
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        key = " ".join(command) if " ".join(command) in answers else command[0]
        if key not in answers:
            raise FileNotFoundError(2, "No such file or directory", command[0])
        rc, out, err = answers[key]
        return subprocess.CompletedProcess(command, rc, out, err)

    monkeypatch.setattr("pytest_dockernet.observe.firewall.reading.subprocess.run", run)
    return calls


def info(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(read(name))
    return loaded


def test_detect_backend_docker_20_asks_iptables(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = info("docker-20.10-info.json")
    assert "FirewallBackend" not in recorded
    assert recorded["ServerVersion"] == "20.10.24+dfsg1"
    calls = fake_run(monkeypatch, {"iptables": (0, "iptables v1.8.9 (nf_tables)\n", "")})
    assert detect_backend(recorded) is Backend.IPTABLES_NFT
    assert calls == [["iptables", "-V"]]
    fake_run(monkeypatch, {"iptables": (0, "iptables v1.8.9 (legacy)\n", "")})
    assert detect_backend(recorded) is Backend.IPTABLES_LEGACY
    fake_run(monkeypatch, {"iptables": (0, "iptables v1.6.1\n", "")})
    assert detect_backend(recorded) is Backend.IPTABLES_LEGACY


def test_detect_backend_nftables_does_not_run_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(monkeypatch, {})
    assert detect_backend(info("docker-nftables-backend-info.handmade.json")) is Backend.NFTABLES
    assert calls == []


@pytest.mark.parametrize("driver", ["iptables", "iptables+firewalld"])
def test_detect_backend_iptables_driver_asks_iptables(
    monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    calls = fake_run(monkeypatch, {"iptables": (0, "iptables v1.8.9 (legacy)\n", "")})
    found = detect_backend({"FirewallBackend": {"Driver": driver}})
    assert found is Backend.IPTABLES_LEGACY
    assert calls == [["iptables", "-V"]]


def test_detect_backend_nonsense_version(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run(monkeypatch, {"iptables": (0, "whatever 2.0\n", "")})
    with pytest.raises(FirewallReadError, match=r"'whatever 2\.0'"):
        detect_backend({})


def test_missing_iptables_names_command_and_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a real lookup that finds nothing
    with pytest.raises(FirewallReadError) as caught:
        read_nat_table({})
    message = str(caught.value)
    assert "`iptables -V`" in message
    assert "install Debian's iptables package" in message
    assert not isinstance(caught.value, PrivilegeError)


def test_missing_nft_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run(monkeypatch, {})
    with pytest.raises(FirewallReadError, match="install Debian's nftables package"):
        read_nat_table({"FirewallBackend": {"Driver": "nftables"}})


def test_read_nat_table_iptables_nft(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    monkeypatch.setattr(reading, "_legacy_nat_exists", lambda family=4: False)
    calls = fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-nft-save": (0, read("iptables-nft-save.txt"), "# Warning: legacy present"),
        },
    )
    table = read_nat_table(info("docker-20.10-info.json"))
    assert calls == [["iptables", "-V"], ["iptables-nft-save", "-t", "nat"]]
    assert table.backend is Backend.IPTABLES_NFT
    assert table.source == "iptables-nft-save -t nat (nf_tables)"
    assert table.note == ""
    assert len(table.masquerade_rules(NET_A, BRIDGE_A)) == 1


def test_read_nat_table_notes_docker_rules_in_the_other_variant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    monkeypatch.setattr(reading, "_legacy_nat_exists", lambda family=4: True)
    legacy_text = read("iptables-legacy-save-counters.handmade.txt")
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-nft-save": (0, read("iptables-nft-save.txt"), ""),
            "iptables-legacy-save": (0, legacy_text, ""),
        },
    )
    table = read_nat_table({})
    assert table.note.startswith("the iptables-legacy nat table also holds Docker rules (5 rules")
    # an empty legacy nat table (only built-in chains) is no reason for a note
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-nft-save": (0, read("iptables-nft-save.txt"), ""),
            "iptables-legacy-save": (0, "*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n", ""),
        },
    )
    assert read_nat_table({}).note == ""


NFT_TABLES = "table ip filter\ntable ip docker-bridges\n"
NO_NFT_TABLE = "table ip nat\ntable ip filter\n"


def test_read_nat_table_nftables(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_run(
        monkeypatch,
        {
            "nft list tables": (0, NFT_TABLES, ""),
            "nft": (0, read("moby-nftables-usernet-portmap.json"), ""),
        },
    )
    table = read_nat_table({"FirewallBackend": {"Driver": "nftables"}})
    assert calls[-1] == ["nft", "-j", "list", "table", "ip", "docker-bridges"]
    assert table.source == "nft -j list table ip docker-bridges"
    assert len(table.masquerade_rules(DOC_NET, DOC_BRIDGE)) == 1


def test_read_nat_table_nftables_reported_but_rules_in_iptables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Debian's Docker 28.5 with DOCKER_FIREWALL_BACKEND=nftables writes with iptables-nft."""
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    fake_run(
        monkeypatch,
        {
            "nft list tables": (0, NO_NFT_TABLE, ""),
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-nft-save": (0, read("iptables-nft-save.txt"), ""),
        },
    )
    table = read_nat_table({"FirewallBackend": {"Driver": "nftables"}})
    assert table.backend is Backend.IPTABLES_NFT
    assert table.source == "iptables-nft-save -t nat (nf_tables)"
    assert table.note == (
        "the engine reports the nftables firewall backend, but table ip docker-bridges does "
        "not exist: Docker's rules were found in iptables-nft's nat table, and read there"
    )
    assert len(table.masquerade_rules(NET_A, BRIDGE_A)) == 1


def test_read_nat_table_nftables_without_any_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    empty = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
    fake_run(
        monkeypatch,
        {
            "nft list tables": (0, NO_NFT_TABLE, ""),
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-nft-save": (0, empty, ""),
        },
    )
    table = read_nat_table({"FirewallBackend": {"Driver": "nftables"}})
    assert table.rules == ()
    assert table.backend is Backend.NFTABLES
    assert table.note.startswith("table ip docker-bridges does not exist and iptables-nft holds")


@pytest.mark.parametrize(
    ("command", "stderr"),
    [
        (
            "iptables-nft-save",
            "iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: "
            "Permission denied (you must be root)",
        ),
        ("nft", "netlink: Error: cache initialization failed: Operation not permitted"),
    ],
)
def test_permission_denied_is_a_privilege_error(
    monkeypatch: pytest.MonkeyPatch, command: str, stderr: str
) -> None:
    # messages as this machine's tools print them when run as nobody (see the engine test)
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "nft list tables": (0, NFT_TABLES, ""),
            command: (4, "", stderr),
        },
    )
    engine = {"FirewallBackend": {"Driver": "nftables"}} if command == "nft" else {}
    with pytest.raises(PrivilegeError) as caught:
        read_nat_table(engine)
    message = str(caught.value)
    assert stderr in message
    assert "needs root or CAP_NET_ADMIN: run pytest as root / with sudo" in message
    assert isinstance(caught.value, DockernetError)


def test_other_failure_is_a_firewall_read_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: None
    )  # no variant-named binary
    fake_run(
        monkeypatch,
        {
            "iptables": (0, "iptables v1.8.9 (nf_tables)\n", ""),
            "iptables-save": (1, "", "iptables-save: unknown table nat"),
        },
    )
    with pytest.raises(FirewallReadError) as caught:
        read_nat_table({})
    assert str(caught.value) == (
        "cannot read the firewall: `iptables-save -t nat` exited with 1; "
        "stderr: iptables-save: unknown table nat"
    )
    assert not isinstance(caught.value, PrivilegeError)


# Recordings of the real engines of the matrix (scripts/engine), tests/data/firewall/README.md
ENGINE_RECORDINGS = [
    ("26.1", "br-692f45462cb5", "br-1cfb3d4f0c77", Backend.IPTABLES_NFT),
    ("26.1-legacy", "br-6f0ba5a990c8", "br-23deb0deda79", Backend.IPTABLES_LEGACY),
    ("28.5", "br-2891af89c3f7", "br-9502bc819627", Backend.IPTABLES_NFT),
    ("28.5-nftables-reported", "br-14e411179275", "br-14626047692f", Backend.NFTABLES),
]


@pytest.mark.parametrize(("tag", "bridge_a", "bridge_b", "reported"), ENGINE_RECORDINGS)
def test_recorded_engines_masquerade_by_meaning(
    monkeypatch: pytest.MonkeyPatch, tag: str, bridge_a: str, bridge_b: str, reported: Backend
) -> None:
    """dn-fwrec-a (10.77.1.0/24) masquerades, dn-fwrec-b (10.77.2.0/24) does not, on each."""
    variant = "legacy" if reported is Backend.IPTABLES_LEGACY else "nf_tables"
    monkeypatch.setattr(
        "pytest_dockernet.observe.firewall.reading.shutil.which", lambda name: f"/usr/sbin/{name}"
    )
    fake_run(
        monkeypatch,
        {
            "nft list tables": (0, NO_NFT_TABLE, ""),
            "iptables": (0, f"iptables v1.8.9 ({variant})\n", ""),
            f"iptables-{variant.replace('nf_tables', 'nft')}-save": (
                0,
                read(f"docker-{tag}-nat.txt"),
                "",
            ),
        },
    )
    monkeypatch.setattr(reading, "_legacy_nat_exists", lambda family=4: False)
    engine = info(f"docker-{tag}-info.json")
    table = read_nat_table(engine)
    assert table.backend is (
        Backend.IPTABLES_LEGACY if reported is Backend.IPTABLES_LEGACY else Backend.IPTABLES_NFT
    )
    assert detect_backend(engine) is reported
    found = table.masquerade_rules(IPv4Network("10.77.1.0/24"), bridge_a)
    assert [rule.text for rule in found] == [
        f"-A POSTROUTING -s 10.77.1.0/24 ! -o {bridge_a} -j MASQUERADE"
    ]
    assert table.masquerade_rules(IPv4Network("10.77.2.0/24"), bridge_b) == ()
    assert ("nftables" in table.note) is (reported is Backend.NFTABLES)
