"""Naming the rule that dropped a probe, from recorded counters; no Docker engine, no root.

The recordings (``iptables-save -c`` before and after ``ping -c 3`` on Docker 28.5.2) are
listed in tests/data/firewall/README.md; the nft rulesets are small hand-made JSON strings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_dockernet.observe.firewall import (
    Counted,
    attribute,
    meaning,
    parse_iptables_counters,
    parse_nft_counters,
)
from pytest_dockernet.observe.firewall.counters import direct_routing_meaning

DATA = Path(__file__).resolve().parents[1] / "data" / "firewall"
RAW_DROP = "-A PREROUTING -d 10.77.2.2/32 ! -i dn-bbbbbb-2 -j DROP"
ISOLATION_DROP = "-A DOCKER-ISOLATION-STAGE-2 -o dn-aaaaaa-2 -j DROP"
LOST_ELSEWHERE = (
    "no DROP/REJECT rule's counter grew: the packets were lost elsewhere (no route, no ARP "
    "answer, a host outside the firewall, or rules without counters)"
)


def recorded(name: str) -> tuple[Counted, ...]:
    return parse_iptables_counters((DATA / name).read_text())


def counters(*lines: str, table: str = "filter") -> tuple[Counted, ...]:
    return parse_iptables_counters("\n".join([f"*{table}", *lines, "COMMIT"]))


def test_every_table_rule_and_policy_is_read():
    before = recorded("docker-28.5-raw-drop-before.txt")
    found = recorded("docker-28.5-raw-drop-after.txt")
    assert {c.table for c in found} == {"raw", "filter", "nat"}
    policies = [(c.table, c.chain) for c in found if c.policy]
    assert len(policies) == 9  # raw 2, filter 3, nat 4: user chains ("-") have no policy
    assert ("filter", "DOCKER") not in policies
    assert len(found) == len(before) == 44
    raw = [c for c in found if c.text == RAW_DROP]
    assert raw == [Counted("raw", "PREROUTING", RAW_DROP, "DROP", 3, 252)]
    assert raw[0].drops
    assert [c.packets for c in before if c.text == RAW_DROP] == [0]
    forward = next(c for c in found if c.policy and c.table == "filter" and c.chain == "FORWARD")
    # Docker 28 sets FORWARD's policy to DROP only when it enabled forwarding itself
    assert (forward.text, forward.verdict, forward.drops) == (":FORWARD ACCEPT", "ACCEPT", False)
    jumps = {c.verdict for c in found if c.chain == "FORWARD" and not c.policy}
    assert jumps == {"DOCKER-USER", "DOCKER-FORWARD"}  # a chain's name is kept as written


def test_a_router_path_dropped_by_docker_28_names_the_raw_rule():
    found = attribute(
        recorded("docker-28.5-raw-drop-before.txt"), recorded("docker-28.5-raw-drop-after.txt"), 3
    )
    assert found.certain
    assert [(d.rule.table, d.rule.chain, d.rule.text, d.packets) for d in found.drops] == [
        ("raw", "PREROUTING", RAW_DROP, 3)
    ]
    text = found.describe()
    assert text.startswith(f"dropped by raw PREROUTING `{RAW_DROP}` (+3 packets): Docker >= 28's")
    assert "its bridge dn-bbbbbb-2;" in text
    assert "com.docker.network.bridge.trusted_host_interfaces" in text
    assert "\n" not in text


def test_the_direct_routing_drop_says_what_the_host_setting_does_and_the_users_fix():
    filtered = direct_routing_meaning("br-1a2b3c4d5e6f", True)
    skipped = direct_routing_meaning("br-1a2b3c4d5e6f", False)
    assert "other than its bridge br-1a2b3c4d5e6f;" in filtered
    assert "bridged frames pass the firewall (net.bridge.bridge-nf-call-iptables=1)" in filtered
    assert "even with a return route" in filtered
    assert "bridged frames skip the firewall" in skipped
    assert "routed by the host itself" in skipped
    for text in (filtered, skipped):  # the fix is the user's own configuration
        assert "com.docker.network.bridge.trusted_host_interfaces (compose: networks:" in text
        assert "gateway_mode_ipv4=nat-unprotected" in text
        assert "network(routable=True)" in text


def test_the_ipv6_direct_routing_drop_names_the_ipv6_sysctl_and_gateway_mode():
    found = attribute(
        recorded("docker-28.5-ip6-raw-drop-before.txt"),
        recorded("docker-28.5-ip6-raw-drop-after.txt"),
        3,
    )
    assert found.certain
    [drop] = found.drops
    assert (drop.rule.table, drop.rule.chain, drop.packets) == ("raw", "PREROUTING", 3)
    assert "-d fd64:6e65:7400:fa02::10/128 ! -i br-ec70b8ed4bad -j DROP" in drop.rule.text
    text = found.describe()
    assert "Docker >= 28's protection against direct routing" in text
    assert "net.bridge.bridge-nf-call-ip6tables" in text
    assert "gateway_mode_ipv6=nat-unprotected" in text
    assert "gateway_mode_ipv4" not in text


def test_a_cross_bridge_ping_through_the_host_names_the_isolation_rule():
    before = recorded("docker-28.5-isolation-drop-before.txt")
    after = recorded("docker-28.5-isolation-drop-after.txt")
    grew = {b.text for b, a in zip(before, after, strict=True) if a.packets > b.packets}
    assert "-A PREROUTING -d 10.77.2.2/32 -i dn-aaaaaa-+ -j ACCEPT" in grew  # not only the DROP
    assert "-A FORWARD -j DOCKER-USER" in grew
    found = attribute(before, after, 3)
    assert found.certain
    assert [(d.rule.text, d.packets) for d in found.drops] == [(ISOLATION_DROP, 3)]
    assert found.describe().startswith(
        f"dropped by filter DOCKER-ISOLATION-STAGE-2 `{ISOLATION_DROP}` (+3 packets): "
        "Docker's isolation between bridge networks"
    )


def test_more_growth_than_loss_is_uncertain():
    found = attribute(
        recorded("docker-28.5-raw-drop-before.txt"), recorded("docker-28.5-raw-drop-after.txt"), 2
    )
    assert not found.certain
    first, second = found.describe().splitlines()
    assert first == (
        "attribution uncertain: other traffic moved these counters too (+3 packets for 2 lost):"
    )
    assert second.startswith(f"dropped by raw PREROUTING `{RAW_DROP}` (+3 packets)")


def test_less_growth_than_loss_is_uncertain_and_says_the_rest_was_lost_elsewhere():
    found = attribute(
        recorded("docker-28.5-raw-drop-before.txt"), recorded("docker-28.5-raw-drop-after.txt"), 5
    )
    assert not found.certain
    assert (
        found.describe()
        .splitlines()[-1]
        .startswith(
            "attribution uncertain: these counters account for 3 of the 5 lost packets; the rest "
            "were lost elsewhere (no route"
        )
    )


def test_no_drop_rule_grew():
    same = recorded("docker-28.5-raw-drop-before.txt")
    found = attribute(same, same, 1)
    assert (found.drops, found.certain) == ((), False)
    assert found.describe() == LOST_ELSEWHERE


def test_growth_of_accepting_rules_is_not_a_drop():
    before = counters(":FORWARD ACCEPT [0:0]", "[0:0] -A FORWARD -o br-x -j ACCEPT")
    after = counters(":FORWARD ACCEPT [9:0]", "[9:0] -A FORWARD -o br-x -j ACCEPT")
    assert attribute(before, after, 1).describe() == LOST_ELSEWHERE


def test_equal_rules_are_matched_by_occurrence_not_position():
    rule = "-A FORWARD -o br-x -j DROP"
    before = counters(":FORWARD ACCEPT [0:0]", f"[5:0] {rule}", f"[7:0] {rule}")
    # a rule inserted first shifts positions; the second copy grew by 1
    after = counters(
        ":FORWARD ACCEPT [0:0]", "[0:0] -A FORWARD -j ACCEPT", f"[5:0] {rule}", f"[8:0] {rule}"
    )
    found = attribute(before, after, 1)
    assert [(d.rule.text, d.packets) for d in found.drops] == [(rule, 1)]
    assert found.certain


def test_equal_rules_in_other_tables_or_chains_are_told_apart():
    rule = "-A DOCKER ! -i br-x -o br-x -j DROP"
    before = (*counters(f"[0:0] {rule}"), *counters(f"[4:0] {rule}", table="mangle"))
    after = (*counters(f"[2:0] {rule}"), *counters(f"[4:0] {rule}", table="mangle"))
    found = attribute(before, after, 2)
    assert [(d.rule.table, d.packets) for d in found.drops] == [("filter", 2)]
    assert found.certain


def test_a_drop_policy_is_named():
    before = counters(":FORWARD DROP [10:0]", "[3:0] -A FORWARD -o br-x -j ACCEPT")
    after = counters(":FORWARD DROP [11:0]", "[3:0] -A FORWARD -o br-x -j ACCEPT")
    assert attribute(before, after, 1).describe() == (
        "dropped by filter FORWARD `:FORWARD DROP` (+1 packets): the FORWARD chain's DROP "
        "policy (Docker sets it): no rule accepted this forwarded packet"
    )


def test_a_counter_that_went_down_is_a_rule_made_again():
    before = counters(":FORWARD ACCEPT [0:0]", "[9:0] -A FORWARD -o br-x -j DROP")
    after = counters(":FORWARD ACCEPT [0:0]", "[1:0] -A FORWARD -o br-x -j DROP")
    found = attribute(before, after, 1)
    assert (found.drops, found.certain) == ((), False)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[x:0] -A FORWARD -j DROP", r"rule line without a \[packets:bytes\] counter: '\[x:0\] "),
        ("-A FORWARD -j DROP", r"rule line without a \[packets:bytes\] counter: '-A FORWARD"),
        (":FORWARD ACCEPT", r"chain line without a \[packets:bytes\] counter: ':FORWARD ACCEPT'"),
        ("[1:2] FORWARD -j DROP", r"rule line without -A CHAIN: '\[1:2\] FORWARD -j DROP'"),
        ('[1:2] -A FORWARD -m comment --comment "open', r"cannot split iptables rule '\[1:2\]"),
    ],
)
def test_a_malformed_line_is_named(line, message):
    with pytest.raises(ValueError, match=message):
        counters(line)


@pytest.mark.parametrize("lost", [0, -1, True, 1.5])
def test_lost_must_be_a_positive_count(lost):
    with pytest.raises(ValueError, match=rf"lost={lost!r}"):
        attribute((), (), lost)


def rule(table: str, text: str, policy: bool = False) -> Counted:
    chain = text.split()[1] if not policy else text[1:].split()[0]
    return Counted(table, chain, text, text.split()[-1], 1, 84, policy)


@pytest.mark.parametrize(
    ("counted", "says"),
    [
        (
            rule("filter", "-A DOCKER ! -i dn-x -o dn-x -j DROP"),
            "Docker >= 28 drops packets into bridge dn-x that no published port or rule accepted",
        ),
        (
            rule("filter", "-A DOCKER-INTERNAL ! -s 10.9.0.0/24 -o dn-i -j DROP"),
            "an --internal network's isolation (bridge dn-i, subnet 10.9.0.0/24): ",
        ),
        (  # Docker < 28 kept them in DOCKER-ISOLATION-STAGE-1
            rule("filter", "-A DOCKER-ISOLATION-STAGE-1 ! -d 10.9.0.0/24 -i dn-i -j DROP"),
            "an --internal network's isolation (bridge dn-i, subnet 10.9.0.0/24): ",
        ),
        (rule("filter", ":FORWARD DROP", policy=True), "the FORWARD chain's DROP policy"),
        (rule("filter", "-A DOCKER-USER -o dn-x -j REJECT"), ""),  # someone else's rule
        (rule("raw", "-A PREROUTING -d 10.77.2.2/32 -i dn-x+ -j ACCEPT"), ""),  # not a drop
    ],
)
def test_meaning_of_dockers_rules(counted, says):
    assert meaning(counted).startswith(says)
    assert bool(meaning(counted)) == bool(says)


def nft_ruleset(packets: int) -> str:
    return json.dumps(
        {
            "nftables": [
                {"metainfo": {"json_schema_version": 1}},
                {"table": {"family": "ip", "name": "docker-bridges", "handle": 1}},
                {
                    "chain": {
                        "family": "ip",
                        "table": "docker-bridges",
                        "name": "raw-PREROUTING",
                        "handle": 2,
                        "type": "filter",
                        "hook": "prerouting",
                        "prio": -300,
                        "policy": "accept",
                    }
                },
                {
                    "rule": {
                        "family": "ip",
                        "table": "docker-bridges",
                        "chain": "raw-PREROUTING",
                        "handle": 7,
                        "comment": "DROP DIRECT ACCESS",
                        "expr": [
                            {
                                "match": {
                                    "op": "==",
                                    "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                                    "right": "192.0.2.2",
                                }
                            },
                            {
                                "match": {
                                    "op": "!=",
                                    "left": {"meta": {"key": "iifname"}},
                                    "right": "bridge1",
                                }
                            },
                            {"counter": {"packets": packets, "bytes": packets * 84}},
                            {"drop": None},
                        ],
                    }
                },
                {
                    "rule": {
                        "family": "ip",
                        "table": "docker-bridges",
                        "chain": "filter-FORWARD",
                        "handle": 9,
                        "expr": [{"jump": {"target": "filter-forward-in__bridge1"}}],
                    }
                },
                {
                    "rule": {
                        "family": "inet",
                        "table": "host",
                        "chain": "input",
                        "handle": 3,
                        "expr": [
                            {"counter": {"packets": 5, "bytes": 300}},
                            {"jump": {"target": "input-allow"}},
                        ],
                    }
                },
            ]
        }
    )


def test_nft_counters_name_dockers_direct_access_rule():
    before, after = parse_nft_counters(nft_ruleset(4)), parse_nft_counters(nft_ruleset(7))
    direct = Counted(
        "ip docker-bridges",
        "raw-PREROUTING",
        'ip docker-bridges raw-PREROUTING handle 7: ip daddr 192.0.2.2 iifname != "bridge1" '
        'counter drop comment "DROP DIRECT ACCESS"',
        "DROP",
        7,
        588,
    )
    shown = "inet host input handle 3: counter jump input-allow"
    jump = Counted("inet host", "input", shown, "input-allow", 5, 300)
    assert after == (direct, jump)  # the rule without a counter and the chain's policy are not
    found = attribute(before, after, 3)
    assert found.certain
    assert [(d.rule.text, d.packets) for d in found.drops] == [(direct.text, 3)]
    text = found.describe()
    assert "Docker >= 28's protection against direct routing" in text
    assert "its bridge bridge1;" in text


def test_nft_counters_reject_what_is_not_nft_json():
    with pytest.raises(ValueError, match="not `nft -j list ruleset` output"):
        parse_nft_counters("table ip filter {}")
