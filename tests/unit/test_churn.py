"""The churn detector's pure parts: rules as their netlink bytes hold them, what counts as a
change for a probe's path, and the repeat-or-report loop around a probe."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from pytest_dockernet.engine.labels import RunIdentity
from pytest_dockernet.errors import FirewallChurnError
from pytest_dockernet.model import Container, Network, Registry, Started
from pytest_dockernet.observe.firewall.churn import (
    Change,
    NetworkEvent,
    RuleRef,
    changes_between,
    orphaned,
    sources,
)
from pytest_dockernet.probing.destinations import Target
from pytest_dockernet.probing.steady import CHURN_ATTEMPTS, steady

BR_A, BR_B, BR_OTHER = "br-aaaaaaaaaaaa", "br-bbbbbbbbbbbb", "br-0123456789ab"


def rule(chain: str, handle: int, *names: str, table: str = "filter") -> RuleRef:
    """A rule whose message bytes hold its table, its chain and ``names``, NUL-terminated."""
    raw = b"\x08\x00\x01\x00" + b"".join(n.encode() + b"\x00" for n in (table, chain, *names))
    return RuleRef(table, chain, handle, raw)


def reading(*rules: RuleRef) -> dict[tuple[str, str, int], RuleRef]:
    return {(r.table, r.chain, r.handle): r for r in rules}


STEADY = (
    rule("FORWARD", 1, "DOCKER-USER"),
    rule("FORWARD", 2, "DOCKER-ISOLATION-STAGE-1"),
    rule("FORWARD", 3, BR_A),
    rule("DOCKER-USER", 4),
    rule("DOCKER-ISOLATION-STAGE-1", 5, BR_A, "DOCKER-ISOLATION-STAGE-2"),
    rule("DOCKER-ISOLATION-STAGE-2", 6, BR_B),
)


def test_rule_names_come_from_its_bytes():
    r = rule("DOCKER-ISOLATION-STAGE-1", 7, BR_A, "DOCKER-ISOLATION-STAGE-2")
    assert r.bridges == {BR_A}
    assert r.jumps == {"DOCKER-ISOLATION-STAGE-2"}  # its own chain is not a jump
    assert str(r) == (
        f"filter DOCKER-ISOLATION-STAGE-1 handle 7: jump DOCKER-ISOLATION-STAGE-2 on {BR_A}"
    )
    assert rule("FORWARD", 8, "br-0123").bridges == set()  # not a Docker bridge name


def test_a_chain_nothing_jumps_to_is_docker_mid_rewrite():
    assert orphaned(reading(*STEADY)) == []
    without_jump = [r for r in STEADY if r.handle != 2]
    assert orphaned(reading(*without_jump)) == ["filter DOCKER-ISOLATION-STAGE-1"]


def texts(changes: list[Change]) -> list[str]:
    return [str(change) for change in changes]


def test_changes_that_can_decide_the_path():
    before = reading(*STEADY)
    assert changes_between(before, before, {BR_A, BR_B}) == []
    reinserted = reading(
        *(r for r in STEADY if r.handle != 2), rule("FORWARD", 9, "DOCKER-ISOLATION-STAGE-1")
    )
    assert texts(changes_between(before, reinserted, {BR_A})) == [
        "deleted filter FORWARD handle 2: jump DOCKER-ISOLATION-STAGE-1",
        "added filter FORWARD handle 9: jump DOCKER-ISOLATION-STAGE-1",
    ]
    gap = reading(*(r for r in STEADY if r.handle != 2))
    assert "nothing jumps to filter DOCKER-ISOLATION-STAGE-1 (before the probe)" in (
        texts(changes_between(gap, gap, {BR_A}))
    )


def test_rules_of_other_bridges_do_not_count():
    before = reading(*STEADY)
    after = reading(*STEADY, rule("FORWARD", 10, BR_OTHER), rule("FORWARD", 11, BR_OTHER, BR_A))
    assert texts(changes_between(before, after, {BR_A, BR_B})) == [
        f"added filter FORWARD handle 11: rule on {BR_OTHER}, {BR_A}"
    ]


def raw_rule(handle: int, address: str, *names: str) -> RuleRef:
    """A Docker >= 28 raw PREROUTING rule for one container address (its 4 bytes inside)."""
    found = rule("PREROUTING", handle, *names, table="raw")
    return RuleRef("raw", "PREROUTING", handle, found.raw + IPv4Address(address).packed)


def test_raw_rules_of_other_containers_do_not_count():
    """Another test starting a container adds ``-d ITS_IP -i br-+ -j ACCEPT``: no bridge of
    ours is named, and the rule is about an address that is not the probe's."""
    before = reading(*STEADY)
    theirs = raw_rule(20, "10.199.9.9", "br-")
    mine = raw_rule(21, "10.199.1.2", "br-")
    after = reading(*STEADY, theirs, mine)
    mine_only = changes_between(before, after, {BR_A}, [IPv4Address("10.199.1.2")])
    assert texts(mine_only) == ["added raw PREROUTING handle 21: rule"]
    # without the probe's addresses every rule naming no bridge counts, as before
    assert len(changes_between(before, after, {BR_A})) == 2


# -- where churn came from ---------------------------------------------------------------------

REINSERTED = [
    Change("deleted filter FORWARD handle 2: jump DOCKER-ISOLATION-STAGE-1", STEADY[1]),
    Change("nothing jumps to filter DOCKER-ISOLATION-STAGE-1 (after the probe)"),
]


def test_churn_names_the_networks_and_whose_they_are():
    other_run = RunIdentity("0badcafe", "ci-7", 4242, "99")
    events = [
        NetworkEvent("create", "dn-0badcafe-t3-a", other_run.labels("a")),
        NetworkEvent("destroy", "dn-1234abcd-t9-b"),  # gone: only its name tells
        NetworkEvent("create", "compose_default"),
    ]
    found = sources(REINSERTED, events)
    assert found[0].startswith(
        "network dn-0badcafe-t3-a created: made by pytest-dockernet run 0badcafe "
        "(pid 4242 on ci-7), which does not take this machine's firewall lock"
    )
    assert found[1].startswith(
        "network dn-1234abcd-t9-b removed: made by pytest-dockernet run 1234abcd, which"
    )
    assert found[2] == (
        "network compose_default created: not made by pytest-dockernet: another program uses "
        "this engine"
    )
    assert len(found) == 3  # Docker's own rules add no line of their own


def test_churn_names_rules_that_are_not_dockers():
    foreign = rule("INPUT", 30, table="filter")
    mine = rule("input", 31, table="firewalld")
    found = sources([Change(f"added {foreign}", foreign), Change(f"added {mine}", mine)], [])
    assert [line.split(":")[0] for line in found] == [
        "filter INPUT handle 30",
        "firewalld input handle 31",
    ]
    assert all("names no Docker chain or bridge" in line for line in found)


def test_docker_rules_without_a_network_event_point_at_containers():
    (line,) = sources(REINSERTED, [])
    assert line.startswith("no network was created or removed: Docker rewrote its rules for")


def test_an_unreadable_event_log_is_said():
    assert sources(REINSERTED, None) == [
        "Docker's event log could not be read, so the networks changed meanwhile are unknown"
    ]


# -- the repeat-or-report loop ----------------------------------------------------------------


def network(alias: str, bridge: str, subnet: str, registry: Registry) -> Network:
    net = ipaddress.IPv4Network(subnet)
    return Network(alias, alias, alias, net, next(net.hosts()), bridge, False, True, registry)


@pytest.fixture
def ends() -> tuple[Container, Container]:
    """Two containers on two networks; the registry never reaches an engine here."""
    registry = Registry(client=None)  # type: ignore[arg-type]
    a = network("a", BR_A, "10.9.1.0/24", registry)
    b = network("b", BR_B, "10.9.2.0/24", registry)
    h1 = Container("h1", "h1", {a: ipaddress.IPv4Address("10.9.1.2")}, registry)
    h2 = Container("h2", "h2", {b: ipaddress.IPv4Address("10.9.2.2")}, registry)
    h1.state, h2.state = Started("id1", 1), Started("id2", 2)
    return h1, h2


def readings(*states: tuple[RuleRef, ...]) -> Iterator[dict[tuple[str, str, int], RuleRef]]:
    for state in states:
        yield reading(*state)


def target_of(h2: Container) -> Target:
    return Target(ipaddress.IPv4Address("10.9.2.2"), "container 'h2'", h2)


def test_no_answer_stands_whatever_changed(ends):
    h1, h2 = ends
    states = readings(STEADY, ())
    result = steady(
        h1, target_of(h2), lambda: "dropped", lambda r: False, read_rules=lambda: next(states)
    )
    assert result == "dropped"
    assert h1.registry.repeated_probes == 0


def test_an_answer_during_a_rewrite_is_repeated(ends):
    h1, h2 = ends
    gap = tuple(r for r in STEADY if r.handle != 2)
    states = readings(gap, STEADY, STEADY, STEADY)
    answers = iter(["leaked", "answered"])
    result = steady(
        h1, target_of(h2), lambda: next(answers), lambda r: True, read_rules=lambda: next(states)
    )
    assert result == "answered"
    assert h1.registry.repeated_probes == 1


def test_an_answer_under_constant_rewrites_is_reported_not_given(ends):
    h1, h2 = ends
    handles = iter(range(100, 200))

    def rewritten() -> dict[tuple[str, str, int], RuleRef]:
        return reading(*STEADY, rule("FORWARD", next(handles), "DOCKER-USER"))

    windows: list[tuple[float, float]] = []

    def outside(since: float, until: float) -> list[NetworkEvent]:
        windows.append((since, until))
        return [NetworkEvent("create", "someone-elses")]

    with pytest.raises(FirewallChurnError) as info:
        steady(
            h1,
            target_of(h2),
            lambda: "answered",
            lambda r: True,
            read_rules=rewritten,
            read_events=outside,
        )
    assert h1.registry.repeated_probes == CHURN_ATTEMPTS
    text = str(info.value)
    assert "the engine's firewall changed while probing container 'h2' from container 'h1'" in text
    assert "deleted filter FORWARD handle 108: jump DOCKER-USER" in text
    assert "network someone-elses created: not made by pytest-dockernet" in text
    ((since, until),) = windows  # the last attempt's window only
    assert 0 <= until - since < 1


def test_a_probe_within_one_network_reads_no_rules(ends):
    h1, h2 = ends
    h2.addresses = {
        **h2.addresses,
        **dict.fromkeys(h1.addresses, ipaddress.IPv4Address("10.9.1.3")),
    }

    def unreadable() -> dict[tuple[str, str, int], RuleRef]:
        raise AssertionError("a same-network probe must not read the firewall")

    assert (
        steady(h1, target_of(h2), lambda: "answered", lambda r: True, read_rules=unreadable)
        == "answered"
    )
