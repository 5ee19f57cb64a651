"""--dockernet-report on the real engine, checked in Chromium as a person sees it: examples/
all passing, a copy of scenario 2 whose reply route is missing (one probe fails), one
page for a run under -n 2, and the picture in a pytest-html report's row.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.browser import look_at

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def failing_scenario_2() -> str:
    """The seed's scenario 2 without h2's route back: the reply goes to h2's gateway instead."""
    text = (EXAMPLES / "test_seed_scenario2.py").read_text()
    for line in (
        '    dockernet.add_route(h2, "10.231.1.0/24", via="10.231.2.3")\n',
        '    assert_route(h2, "10.231.1.0/24", via=r)\n',
    ):
        assert line in text, f"examples/test_seed_scenario2.py changed: {line!r} is gone"
        text = text.replace(line, "")
    return text.replace("count=3, reply_ttl=63", "timeout=0.5")


def run_report(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, Path]:
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--dockernet-report", str(out), *args
    )
    page = out / "index.html"
    assert page.exists(), result.stdout.str()
    assert f"dockernet report: {page.resolve().as_uri()}" in result.stdout.str()
    return result, page


@pytest.mark.serial  # the seed's fixed subnets
def test_the_examples_all_passing(pytester, tmp_path):
    result, page = run_report(pytester, str(EXAMPLES))
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 8 and set(outcomes) == {"passed"}, outcomes
    seen = look_at(page, tmp_path / "examples.png")

    assert seen.console == []
    assert len(seen.headings) == outcomes["passed"]
    assert all(h.startswith("passed ") for h in seen.headings)
    # scenario 1's network and containers; scenario 2's two networks, router and hosts
    assert {"network-sample", "network-sample1", "network-sample2"} <= seen.nodes["network"]
    assert {"container-container1", "container-container2", "container-h1", "container-h2"} <= (
        seen.nodes["container"]
    )
    assert "router-router" in seen.nodes["router"]
    assert seen.failed_edges == []
    assert seen.probe_edges["answered"] > 10 and seen.probe_edges["unanswered"] >= 2


@pytest.mark.serial  # the seed's fixed subnets
def test_a_copy_of_scenario_2_with_one_probe_failing(pytester, tmp_path):
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef image():\n    return None  # the built-in busybox\n"
    )
    pytester.makepyfile(test_failing2=failing_scenario_2())
    result, page = run_report(pytester)
    result.assert_outcomes(failed=1)
    seen = look_at(page, tmp_path / "report.png")

    assert seen.console == []
    assert seen.headings == ["failed test_failing2.py::test_routing_between_bridges"]
    assert seen.nodes == {
        "network": {"network-sample1", "network-sample2"},
        "container": {"container-h1", "container-h2"},
        "router": {"router-router"},
    }
    # One failed probe, h1 to h2, drawn with what became of it
    # (an edge's text starts with the title dot gives it: its two ends)
    [failed] = seen.failed_edges
    assert failed.startswith("container-h1->container-h2\nFAILED: no answer"), failed
    assert "trace: the reply was last seen" in failed, failed  # h2 answered, to its gateway
    # h1 -> h2 before the route, unanswered as expected
    assert seen.probe_edges == {"unanswered": 1, "failed": 1}
    html = page.read_text()
    assert "<script" not in html
    assert "cannot reach container &#x27;h2&#x27;" in html  # the failure message, escaped


def test_one_page_for_a_run_under_xdist(pytester, tmp_path):
    pytester.makepyfile(
        test_a="""
from pytest_dockernet import assert_reachable, assert_unreachable

def test_pair(dockernet):
    net = dockernet.network("lan")
    c1, c2 = (dockernet.container(n, [net]) for n in ("c1", "c2"))
    assert_reachable(c1, c2)

def test_apart(dockernet):
    a, b = dockernet.network("a"), dockernet.network("b")
    x, y = dockernet.container("x", [a]), dockernet.container("y", [b])
    assert_unreachable(x, y, timeout=0.3)
""",
        test_b="""
from pytest_dockernet import assert_port_open

def test_port(dockernet):
    net = dockernet.network("web")
    srv = dockernet.container("srv", [net])
    dockernet.listen(srv, 8080)
    assert_port_open("host", srv, 8080)
""",
    )
    result, page = run_report(pytester, "-n", "2")
    result.assert_outcomes(passed=3)
    seen = look_at(page, tmp_path / "report.png")
    assert seen.console == []
    assert sorted(h.split(" ", 1)[1] for h in seen.headings) == [
        "test_a.py::test_apart",
        "test_a.py::test_pair",
        "test_b.py::test_port",
    ]
    assert {"network-lan", "network-a", "network-b", "network-web"} <= seen.nodes["network"]
    assert seen.nodes["host"] == {"host-host"}
    assert seen.probe_edges == {"answered": 2, "unanswered": 1}
    assert re.search(r"dockernet engine: Docker \d+\.\d+", page.read_text())


def test_a_pytest_html_row_shows_the_picture(pytester, tmp_path):
    pytester.makepyfile(
        test_c="""
from pytest_dockernet import assert_unreachable

def test_expects_apart_but_shares_a_network(dockernet):
    lan = dockernet.network("lan")
    c1, c2 = (dockernet.container(n, [lan]) for n in ("c1", "c2"))
    assert_unreachable(c1, c2)
"""
    )
    out = pytester.path / "html" / "report.html"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--html", str(out), "--self-contained-html"
    )
    result.assert_outcomes(failed=1)
    assert "dockernet report:" not in result.stdout.str()  # no page of its own unless asked
    seen = look_at(out, tmp_path / "pytest-html.png")
    assert seen.nodes["network"] == {"network-lan"}  # a failed row is open in pytest-html
    assert seen.nodes["container"] == {"container-c1", "container-c2"}
    [failed] = seen.failed_edges
    assert failed.startswith("container-c1->container-c2\nFAILED: answered, expected no answer")


@pytest.mark.serial  # the seed's fixed subnets
def test_a_probe_that_flipped_since_the_record_is_drawn_as_flipped(pytester, tmp_path):
    """Scenario 2 recorded passing, then its copy without the reply route compared with the
    record: the compared run's report and ``dockernet-diff --html`` both draw h1 -> h2 as
    flipped, in Chromium."""
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef image():\n    return None  # the built-in busybox\n"
    )
    record, later = pytester.path / "before.json", pytester.path / "after.json"
    pytester.makepyfile(test_scenario2=(EXAMPLES / "test_seed_scenario2.py").read_text())
    pytester.runpytest_subprocess(f"--dockernet-record={record}").assert_outcomes(passed=1)
    pytester.makepyfile(test_scenario2=failing_scenario_2())
    result, page = run_report(
        pytester, f"--dockernet-compare={record}", f"--dockernet-record={later}"
    )
    result.assert_outcomes(failed=1)
    seen = look_at(page, tmp_path / "compared.png")
    assert seen.console == []
    [(mark, flipped)] = [c for c in seen.changed_edges if c[0] != "gone"]
    assert mark == "flipped"
    assert flipped.startswith("container-h1->container-h2\nFLIPPED: answered before"), flipped
    assert "trace: the reply was last seen" in flipped, flipped  # this run's diagnosis kept
    assert "What changed since the record" in page.read_text()

    diff = pytester.path / "diff.html"
    command = Path(sys.executable).parent / "dockernet-diff"  # the installed entry point
    ran = pytester.run(command, record, later, "--html", diff)
    assert ran.ret == 1 and "DIFFERS: test_scenario2.py" in ran.stdout.str(), ran.stderr.str()
    seen = look_at(diff, tmp_path / "diff.png")
    assert seen.console == []
    assert seen.headings == ["test_scenario2.py::test_routing_between_bridges"]
    assert {"network-sample1", "network-sample2"} <= seen.nodes["network"]
    assert ("flipped", "container-h1->container-h2") in {
        (mark, text.split("\n")[0]) for mark, text in seen.changed_edges
    }
