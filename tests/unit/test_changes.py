"""Two records of a test drawn with what changed (``dockernet-diff --html``): each probe
marked by how it changed, the marks drawn by dot, the outline a record keeps without a run's
values, and the command's page. Pure: recorded observations, no Docker engine."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pytest_dockernet.record import snapshot
from pytest_dockernet.record.records import Record, parse
from pytest_dockernet.report import picture
from pytest_dockernet.report.changes import changed_probes
from pytest_dockernet.report.diff import main as dockernet_diff
from tests.unit.test_report import SVG, TOPOLOGY, groups, text


def probe(source: str, target: str, answered: bool, expected: bool = True, kind="ping") -> dict:
    return {"source": source, "target": target, "kind": f"assert_{kind}", "answered": answered,
            "expected": expected, "detail": "ping"}  # fmt: skip


def obs(
    *probes: dict, subject="h1 -> r", rules=("-A FORWARD -j DOCKER-USER",), verdict="pass"
) -> dict:
    return {"kind": "assert_reachable", "subject": subject, "verdict": verdict,
            "facts": {"received": 1}, "context": {"rules": list(rules)},
            "probes": list(probes)}  # fmt: skip


def marks(found: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(p["source"], p["target"], p["change"], p["was"]) for p in found]


def test_a_probe_that_flipped_is_marked_with_what_it_saw_before():
    before = [obs(probe("h1", "r", True), probe("h1", "web-1", True))]
    after = [obs(probe("h1", "r", True), probe("h1", "web-1", False))]
    found = changed_probes(before, after)
    assert marks(found) == [
        ("h1", "r", "", ""),
        ("h1", "web-1", "flipped", "answered before"),
    ]
    assert [p["failed"] for p in found] == [False, True]


def test_new_and_gone_probes_and_observations_are_marked():
    before = [obs(probe("h1", "r", True)), obs(probe("r", "h1", True), subject="r -> h1")]
    after = [obs(probe("h1", "web-1", False, expected=False))]
    assert marks(changed_probes(before, after)) == [
        ("h1", "web-1", "new", "not made before"),
        ("h1", "r", "gone", "made before, not now"),
        ("r", "h1", "gone", "made before, not now"),
    ]


def test_the_same_outcome_on_other_rules_is_marked_underneath_with_the_rules():
    before = [obs(probe("h1", "r", True))]
    after = [obs(probe("h1", "r", True), rules=["-A DOCKER-CT -j ACCEPT"])]
    [found] = changed_probes(before, after)
    assert found["change"] == "underneath"
    assert found["was"].splitlines() == [
        "rules: - -A FORWARD -j DOCKER-USER",
        "rules: + -A DOCKER-CT -j ACCEPT",
    ]


def test_an_outline_keeps_no_value_of_a_run():
    shape = snapshot.outline(TOPOLOGY)
    text_of_it = repr(shape)
    for value in ("10.1.0", "10.2.0", "fd00:1", "br-a", "dn-1-a", "10.3.0", "dnu1"):
        assert value not in text_of_it, value
    assert [n["families"] for n in shape["networks"]] == [["IPv4"], ["IPv4", "IPv6"]]
    assert shape["containers"][1]["addresses"] == {"a": [], "b": []}
    assert (shape["upstreams"][0]["name"], shape["networks"][1]["internal"]) == ("internet", True)


def test_the_marks_are_drawn_over_the_outline():
    before = [obs(probe("h1", "r", True), probe("h1", "web-1", True), probe("r", "h1", True))]
    after = [obs(probe("h1", "r", True), probe("h1", "web-1", False), subject="h1 -> r")]
    graph = picture.graph(snapshot.outline(TOPOLOGY), changed_probes(before, after))
    [svg] = picture.svg([graph])
    root = ET.fromstring(svg)
    states = {i: g.get("class", "").split()[2:] for i, g in groups(root, "edge probe").items()}
    assert states == {
        "probe-0": ["answered"],
        "probe-1": ["failed", "flipped"],
        "probe-2": ["answered", "gone"],
    }
    flipped = groups(root, "edge probe flipped")["probe-1"]
    assert "FLIPPED: answered before" in text(flipped)
    assert {p.get("stroke") for p in flipped.iter(f"{SVG}path")} == {picture.FLIPPED.lower()}
    assert "IPv4 + IPv6" in text(groups(root, "node network")["network-b"])


def records(tmp_path, outlines=True):
    shape = {"t::a": snapshot.outline(TOPOLOGY)} if outlines else {}
    old = Record({"summary": "Docker 26.1"}, {"t::a": [obs(probe("h1", "web-1", True))]}, shape)
    new = Record(
        {"summary": "Docker 28.5"},
        {"t::a": [obs(probe("h1", "web-1", False), verdict="fail")]},
        shape,
    )
    paths = [tmp_path / "old.json", tmp_path / "new.json"]
    for path, record in zip(paths, (old, new), strict=True):
        record.save(path)
    return [str(p) for p in paths]


def test_dockernet_diff_html_draws_each_changed_test(tmp_path, capsys):
    out = tmp_path / "diff.html"
    assert dockernet_diff([*records(tmp_path), "--html", str(out)]) == 1
    assert f"the page is {out.resolve().as_uri()}" in capsys.readouterr().out
    html = out.read_text()
    assert "Docker 26.1" in html and "Docker 28.5" in html
    assert 'class="edge probe failed flipped"' in html
    assert "DIFFERS: t::a" in html and "<script" not in html
    assert parse((tmp_path / "new.json").read_text()).outlines["t::a"]["networks"]


def test_dockernet_diff_html_of_records_without_outlines_has_the_text_only(tmp_path):
    out = tmp_path / "diff.html"
    assert dockernet_diff([*records(tmp_path, outlines=False), "--html", str(out)]) == 1
    html = out.read_text()
    assert "DIFFERS: t::a" in html and "<svg" not in html


def test_dockernet_diff_html_without_dot_stops_first_naming_the_install(
    tmp_path, monkeypatch, capsys
):
    paths = records(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert dockernet_diff([*paths, "--html", str(tmp_path / "diff.html")]) == 2
    err = capsys.readouterr()
    assert "not on PATH: install it (apt-get install graphviz" in err.err
    assert err.out == "" and not (tmp_path / "diff.html").exists()
