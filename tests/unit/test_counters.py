"""Naming the rule that dropped a probe, from recorded counters; no Docker engine, no root.

The recordings (``iptables-save -c`` before and after ``ping -c 3`` on Docker 28.5.2) are
listed in tests/data/firewall/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_dockernet.observe.firewall import (
    Counted,
    attribute,
    parse_iptables_counters,
    parse_nft_counters,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "firewall"
RAW_DROP = "-A PREROUTING -d 10.77.2.2/32 ! -i dn-bbbbbb-2 -j DROP"
ISOLATION_DROP = "-A DOCKER-ISOLATION-STAGE-2 -o dn-aaaaaa-2 -j DROP"


def recorded(name: str) -> tuple[Counted, ...]:
    return parse_iptables_counters((DATA / name).read_text())


def test_every_table_rule_and_policy_is_read():
    found = recorded("docker-28.5-raw-drop-after.txt")
    assert {c.table for c in found} == {"raw", "filter", "nat"}
    raw = [c for c in found if c.text == RAW_DROP]
    assert raw == [Counted("raw", "PREROUTING", RAW_DROP, "DROP", 3, 252)]
    forward = next(c for c in found if c.policy and c.table == "filter" and c.chain == "FORWARD")
    # Docker 28 sets FORWARD's policy to DROP only when it enabled forwarding itself
    assert (forward.text, forward.verdict, forward.drops) == (":FORWARD ACCEPT", "ACCEPT", False)
    assert not any(c.policy and c.verdict == "-" for c in found)  # user chains have no policy


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
    assert "its bridge dn-bbbbbb-2" in text
    assert "trusted_host_interfaces" in text


def test_a_cross_bridge_ping_through_the_host_names_the_isolation_rule():
    found = attribute(
        recorded("docker-28.5-isolation-drop-before.txt"),
        recorded("docker-28.5-isolation-drop-after.txt"),
        3,
    )
    assert found.certain
    assert [d.rule.text for d in found.drops] == [ISOLATION_DROP]  # not the jumps or ACCEPTs
    assert "Docker's isolation between bridge networks" in found.describe()


def test_more_growth_than_loss_is_uncertain():
    found = attribute(
        recorded("docker-28.5-raw-drop-before.txt"), recorded("docker-28.5-raw-drop-after.txt"), 2
    )
    assert not found.certain
    assert found.describe().splitlines()[0] == (
        "attribution uncertain: the probe lost 2 packets and these counters grew by 3, so other "
        "traffic moved them too:"
    )


def test_no_drop_rule_grew():
    same = recorded("docker-28.5-raw-drop-before.txt")
    found = attribute(same, same, 1)
    assert (found.drops, found.certain) == ((), False)
    assert found.describe().startswith("no DROP/REJECT rule's counter grew")


def counters(*lines: str) -> tuple[Counted, ...]:
    return parse_iptables_counters("\n".join(["*filter", *lines, "COMMIT"]))


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


def test_a_drop_policy_is_named():
    before = counters(":FORWARD DROP [10:0]", "[3:0] -A FORWARD -o br-x -j ACCEPT")
    after = counters(":FORWARD DROP [11:0]", "[3:0] -A FORWARD -o br-x -j ACCEPT")
    assert attribute(before, after, 1).describe() == (
        "dropped by filter FORWARD `:FORWARD DROP` (+1 packets): the FORWARD chain's DROP "
        "policy (Docker sets it): no rule accepted this packet"
    )


def test_a_counter_that_went_down_is_a_rule_made_again():
    before = counters(":FORWARD ACCEPT [0:0]", "[9:0] -A FORWARD -o br-x -j DROP")
    after = counters(":FORWARD ACCEPT [0:0]", "[1:0] -A FORWARD -o br-x -j DROP")
    assert attribute(before, after, 1).drops == ()


def test_a_malformed_counter_names_the_line():
    with pytest.raises(ValueError, match=r"rule line without a \[packets:bytes\] counter: "):
        counters("[x:0] -A FORWARD -j DROP")
    with pytest.raises(ValueError, match="chain line without"):
        counters(":FORWARD ACCEPT")


@pytest.mark.parametrize("lost", [0, -1, True, 1.5])
def test_lost_must_be_a_positive_count(lost):
    with pytest.raises(ValueError, match=rf"lost={lost!r}"):
        attribute((), (), lost)


def nft_ruleset(packets: int) -> str:
    return json.dumps(
        {
            "nftables": [
                {"metainfo": {"json_schema_version": 1}},
                {"table": {"family": "ip", "name": "docker-bridges", "handle": 1}},
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
            ]
        }
    )


def test_nft_counters_name_dockers_direct_access_rule():
    before, after = parse_nft_counters(nft_ruleset(4)), parse_nft_counters(nft_ruleset(5))
    assert [c.text for c in after] == [
        'ip docker-bridges raw-PREROUTING handle 7: drop comment "DROP DIRECT ACCESS"'
    ]  # the rule without a counter is not listed
    found = attribute(before, after, 1)
    assert found.certain
    assert "Docker >= 28's protection against direct routing" in found.describe()


def test_nft_counters_reject_what_is_not_nft_json():
    with pytest.raises(ValueError, match="not the JSON of `nft -j list ruleset`"):
        parse_nft_counters("table ip filter {}")
