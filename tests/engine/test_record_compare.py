"""--dockernet-record and --dockernet-compare on the real engine: a record compares unchanged
with itself run after run, under -n 4 too, and a real change fails exactly the test it touched,
naming the fact.
"""

from __future__ import annotations

import json

import pytest

SUITE = """
import os
from pytest_dockernet import (
    assert_bridge_members, assert_host_route, assert_masquerade, assert_no_masquerade,
    assert_path, assert_reachability, assert_reachable, assert_resolves, assert_route,
    assert_unreachable,
)

CHANGE = os.environ.get("CHANGE", "")

def test_one_bridge(dockernet):
    net = dockernet.network("sample", masquerade=CHANGE != "masquerade")
    c1 = dockernet.container("c1", networks=[net])
    c2 = dockernet.container("c2", networks=[net])
    if CHANGE == "route":
        dockernet.add_route(c1, "10.231.99.0/24", via=c2)
    assert_bridge_members(net, [c1, c2], exact=True)
    assert_host_route(net.subnet, dev=net.bridge)
    assert_route(c1, "default", via=net.gateway)
    assert_reachable(c1, "c2", count=2)
    assert_masquerade(net)

def test_router(dockernet):
    a = dockernet.network("a", routable=True)
    b = dockernet.network("b", masquerade=False, routable=True)
    r = dockernet.router("router", networks=[a, b])
    h1 = dockernet.container("h1", networks=[a])
    h2 = dockernet.container("h2", networks=[b], routes={str(a.subnet): r})
    assert_unreachable(h1, h2)
    dockernet.add_route(h1, b.subnet, via=r)
    assert_reachable(h1, h2, reply_ttl=63)
    assert_path(h1, h2, via=r)
    assert_reachability([h1, h2, r])
    assert_no_masquerade(b)

def test_dual_stack(dockernet):
    lan = dockernet.network("lan6", ipv6=True)
    c1 = dockernet.container("c1", networks=[lan])
    c2 = dockernet.container("c2", networks=[lan])
    if CHANGE == "route6":
        dockernet.add_route(c1, "fd00:dead:beef::/64", via=c2)
    assert_host_route(lan.subnet6, dev=lan.bridge)
    assert_route(c1, "default", via=lan.gateway6, family=6)
    assert_reachable(c1, c2, count=2, family=6, reply_ttl=64)
    assert_resolves(c1, "c2", to=c2, family=6)
"""


@pytest.fixture
def run(pytester, monkeypatch):
    """Run SUITE in its own pytest; ``change`` alters one thing in the topology."""
    pytester.makepyfile(test_suite=SUITE)

    def run(*args, change=""):
        monkeypatch.setenv("CHANGE", change)  # "": the suite as recorded
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    return run


@pytest.mark.serial  # a verdict across bridges needs an engine no other test churns
def test_a_record_compares_unchanged_with_itself(run, tmp_path):
    record = tmp_path / "record.json"
    run("-n", "4", f"--dockernet-record={record}").assert_outcomes(passed=3)
    body = json.loads(record.read_text())
    assert body["engine"]["summary"].startswith("Docker ")
    observations = body["tests"]["test_suite.py::test_router"]
    assert [o["kind"] for o in observations] == [
        "assert_unreachable",
        "assert_reachable",
        "assert_path",
        "assert_reachability",
        "assert_no_masquerade",
    ]
    assert observations[1]["subject"] == "h1 -> container 'h2' at <h2 on b> on 'b'"
    assert observations[1]["facts"]["reply_ttls"] == [63]
    # what dockernet-diff --html draws: each probe with its observation, and the test's
    # outline without the run's addresses, subnets or bridges
    assert [(p["source"], p["target"], p["answered"]) for p in observations[0]["probes"]] == [
        ("h1", "h2", False)
    ]
    assert len(observations[3]["probes"]) == 6  # the matrix of three
    outline = body["outlines"]["test_suite.py::test_router"]
    assert {c["alias"]: c["addresses"] for c in outline["containers"]} == {
        "router": {"a": [], "b": []},
        "h1": {"a": []},
        "h2": {"b": []},
    }
    assert [(n["alias"], n["subnet"], n["bridge"]) for n in outline["networks"]] == [
        ("a", None, None),
        ("b", None, None),
    ]
    for args in (("-n", "4"), (), ("-n", "4"), (), ("-n", "4")):
        result = run(*args, f"--dockernet-compare={record}")
        result.assert_outcomes(passed=3)
        result.stdout.fnmatch_lines(["*observations compared: 0 differ, in 0 tests (failed)*"])


@pytest.mark.serial  # a verdict across bridges needs an engine no other test churns
def test_a_route_more_fails_exactly_the_test_that_saw_it(run, tmp_path):
    record = tmp_path / "record.json"
    run(f"--dockernet-record={record}").assert_outcomes(passed=3)
    result = run("-n", "4", f"--dockernet-compare={record}", change="route")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*dockernet compare: what this test observed changed*",
            "  #3 assert_route container 'c1' default via <gateway of sample>: routes: *"
            "10.231.99.0/24 via <c2 on sample> dev <c1's link on sample>*",
            "*observations compared: * differ, in 1 tests (failed)*",
        ]
    )
    assert "test_suite.py::test_router FAILED" not in result.stdout.str()


@pytest.mark.serial  # a verdict across bridges needs an engine no other test churns
def test_masquerade_switched_off_is_named(run, tmp_path):
    record = tmp_path / "record.json"
    run(f"--dockernet-record={record}").assert_outcomes(passed=3)
    result = run(f"--dockernet-compare={record}", change="masquerade")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*#5 assert_masquerade sample: masqueraded: true -> false*"])


@pytest.mark.serial  # a verdict across bridges needs an engine no other test churns
def test_an_ipv6_route_more_fails_exactly_the_test_that_saw_it(run, tmp_path):
    record = tmp_path / "record.json"
    run(f"--dockernet-record={record}").assert_outcomes(passed=3)
    observations = json.loads(record.read_text())["tests"]["test_suite.py::test_dual_stack"]
    assert [o["kind"] for o in observations] == [
        "assert_host_route",
        "assert_route",
        "assert_reachable",
        "assert_resolves",
    ]
    assert "<IPv6 subnet of lan6>" in observations[0]["subject"]
    assert observations[2]["facts"]["reply_ttls"] == [64, 64]  # count=2: a hop limit per reply
    result = run(f"--dockernet-compare={record}", change="route6")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*dockernet compare: what this test observed changed*",
            "*#2 assert_route*fd00:dead:beef::/64 via <c2 on lan6 over IPv6>*",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED test_suite.py::test_dual_stack - *"])


def test_a_record_that_is_not_one_is_a_usage_error(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = run(f"--dockernet-compare={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--dockernet-compare: *bad.json is not a pytest-dockernet record*"]
    )
