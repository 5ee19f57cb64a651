"""The reachability matrix as text, and the failure message of ``assert_reachability``, from
real containers and real ping results: nothing is probed, so no engine is needed."""

from __future__ import annotations

import pytest

from pytest_dockernet.assertions.matrix import assert_reachability
from pytest_dockernet.model import Container
from pytest_dockernet.probing.matrix import Reachability, mismatch, reachability
from tests.unit.values import answered, container, network, registry, unanswered


@pytest.fixture
def trio() -> tuple[Container, Container, Container]:
    """``a`` and ``web`` share a network; ``lonely`` is alone on another."""
    reg = registry()
    front = network(reg, "front", "10.231.1.0/24")
    island = network(reg, "island", "10.231.2.0/24")
    a = container(reg, "a", {front: "10.231.1.2"})
    web = container(reg, "web", {front: "10.231.1.3"})
    lonely = container(reg, "lonely", {island: "10.231.2.2"})
    return a, web, lonely


def full_mesh(trio: tuple[Container, Container, Container]) -> Reachability:
    """What a full mesh of the trio observes: only ``a`` and ``web`` answer each other."""
    a, web, lonely = trio
    results = {
        (a, web): answered(a, web),
        (a, lonely): unanswered(a, lonely),
        (web, a): answered(web, a),
        (web, lonely): unanswered(web, lonely),
        (lonely, a): unanswered(lonely, a),
        (lonely, web): unanswered(lonely, web),
    }
    return Reachability(trio, results)


def everyone(members: tuple[Container, ...]) -> dict[tuple[Container, Container], bool]:
    """The expectation ``assert_reachability(members)`` checks: every ordered pair answers."""
    return {(s, d): True for s in members for d in members if s is not d}


# --- Reachability --------------------------------------------------------------------------


def test_reachable_and_pairs(trio):
    a, web, lonely = trio
    observed = full_mesh(trio)
    assert observed.reachable(a, web) is True
    assert observed.reachable(web, lonely) is False
    assert observed.pairs(reachable=True) == [(a, web), (web, a)]
    assert observed.pairs(reachable=False) == [
        (a, lonely),
        (web, lonely),
        (lonely, a),
        (lonely, web),
    ]


def test_some_replies_missing_is_not_reachable(trio):
    a, web, _ = trio
    partly = answered(a, web, sent=3, received=2)
    assert (partly.sent, partly.received) == (3, 2)
    observed = Reachability((a, web), {(a, web): partly})
    assert observed.reachable(a, web) is False
    assert observed.table() == "\n".join(["      a web", "a     .  --", "web       ."])


def test_table_sources_down_destinations_across(trio):
    assert full_mesh(trio).table() == "\n".join(
        [
            "         a web lonely",
            "a        .  ok     --",
            "web     ok   .     --",
            "lonely  --  --      .",
        ]
    )


def test_table_marks_the_cells_that_differ_from_expected(trio):
    a, web, lonely = trio
    expected = {(a, lonely): True, (web, a): False, (a, web): True}
    assert full_mesh(trio).table(expected) == "\n".join(
        [
            "         a web lonely",
            "a        .  ok    --!",
            "web    ok!   .     --",
            "lonely  --  --      .",
        ]
    )


def test_table_leaves_pairs_that_were_not_probed_blank(trio):
    a, web, lonely = trio
    observed = Reachability(trio, {(a, web): answered(a, web), (lonely, a): None})
    assert observed.reachable(lonely, a) is False  # a name that did not resolve
    assert observed.table().split("\n") == [
        "         a web lonely",
        "a        .  ok       ",
        "web" + " " * 10 + "." + " " * 7,
        "lonely  --" + " " * 10 + ".",
    ]


# --- the failure message -------------------------------------------------------------------


def test_no_message_when_every_pair_is_as_expected(trio):
    a, web, lonely = trio
    expected = {(a, web): True, (web, a): True, (a, lonely): False, (lonely, web): False}
    assert mismatch(full_mesh(trio), expected) is None


def test_message_of_a_full_mesh_that_is_not(trio):
    message = mismatch(full_mesh(trio), everyone(trio))
    assert message == "\n".join(
        [
            "4 of 6 pairs differ from what was expected "
            "(ok = answered, -- = not, ! = not as expected):",
            "         a web lonely",
            "a        .  ok    --!",
            "web     ok   .    --!",
            "lonely --! --!      .",
            "  a -> lonely: expected reachable; ping from a to 10.231.2.2: 1 sent, 0 received",
            "          no reply within 0.3 s",
            "  web -> lonely: expected reachable; ping from web to 10.231.2.2: 1 sent, 0 received",
            "          no reply within 0.3 s",
            "  lonely -> a: expected reachable; ping from lonely to 10.231.1.2: 1 sent, 0 received",
            "          no reply within 0.3 s",
            "  lonely -> web: expected reachable; ping from lonely to 10.231.1.3: 1 sent, 0 received",
            "          no reply within 0.3 s",
        ]
    )


def test_message_names_only_the_pairs_that_differ(trio):
    a, web, lonely = trio
    expected = {(a, web): False, (a, lonely): False}
    observed = Reachability(trio, {(a, web): answered(a, web), (a, lonely): unanswered(a, lonely)})
    message = mismatch(observed, expected)
    assert message is not None
    lines = message.split("\n")
    assert lines[0].startswith("1 of 2 pairs differ from what was expected")
    assert lines[2] == "a        . ok!     --"
    assert lines[5:] == [
        "  a -> web: expected unreachable; ping from a to 10.231.1.3: 1 sent, 1 received",
        "          reply seq=1 from 10.231.1.3 ttl=64 time=0.050 ms",
    ]
    assert "a -> lonely" not in message


def test_message_shows_every_reply_of_a_partly_answered_pair(trio):
    a, web, _ = trio
    observed = Reachability((a, web), {(a, web): answered(a, web, sent=3, received=2)})
    message = mismatch(observed, {(a, web): True})
    assert message is not None
    assert message.split("\n")[4:] == [
        "  a -> web: expected reachable; ping from a to 10.231.1.3: 3 sent, 2 received",
        "          reply seq=1 from 10.231.1.3 ttl=64 time=0.050 ms",
        "          reply seq=2 from 10.231.1.3 ttl=64 time=0.050 ms",
    ]


def test_an_expected_pair_that_was_not_probed_is_an_error(trio):
    a, web, lonely = trio
    observed = Reachability(trio, {(a, web): answered(a, web)})
    with pytest.raises(ValueError, match=r"^pair \(a, lonely\) is expected but was not probed$"):
        mismatch(observed, {(a, web): True, (a, lonely): False})


# --- arguments refused before anything is probed --------------------------------------------


def test_misuse_is_refused_before_probing(trio):
    a, web, _ = trio
    with pytest.raises(ValueError, match=r"^reachability\(\) needs two or more containers, got 1$"):
        reachability([a])
    with pytest.raises(TypeError, match=r"^reachability\(\) takes Containers, got 'web'$"):
        reachability([a, "web"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^pair \(a, a\) probes a container from itself$"):
        assert_reachability({(a, a): True})
    with pytest.raises(
        TypeError, match=r"takes a list of Containers or a mapping .*got Container$"
    ):
        assert_reachability(web)
