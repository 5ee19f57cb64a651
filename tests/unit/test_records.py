"""Records of observations: stable names, the JSON format, comparing, and dockernet-diff.

Pure: no Docker engine, no root.
"""

from __future__ import annotations

import json

import pytest

from pytest_dockernet.record.observations import Normaliser, Recorder, observe, recording
from pytest_dockernet.record.records import (
    FORMAT,
    VERSION,
    Record,
    RecordError,
    compare,
    compare_test,
    parse,
)
from pytest_dockernet.report.diff import main as dockernet_diff


def test_values_become_stable_names_at_their_boundaries():
    normalise = Normaliser(
        {
            "10.199.7.3": "<h1 on a>",
            "10.199.7.0/24": "<subnet of a>",
            "br-5e1c0a7d2f11": "<bridge of a>",
            "vethab12cd3": "<veth of h1 on a>",
        }
    )
    assert normalise("-A PREROUTING -d 10.199.7.3/32 ! -i br-5e1c0a7d2f11 -j DROP") == (
        "-A PREROUTING -d <h1 on a>/32 ! -i <bridge of a> -j DROP"
    )
    assert (
        normalise("10.199.7.30 10.199.7.3.1 110.199.7.3") == "10.199.7.30 10.199.7.3.1 110.199.7.3"
    )
    assert normalise("10.199.7.0/24 dev br-5e1c0a7d2f11") == "<subnet of a> dev <bridge of a>"
    assert normalise("host vethab12cd3 in; veth0123abc; br-000000000000; 02:42:ac:11:00:02") == (
        "host <veth of h1 on a> in; <another veth>; <another bridge>; <mac>"
    )
    # routable networks: another bridge of a family, and the family's run-specific trust
    assert normalise("-i dnr-3fa9c1-+ -j ACCEPT; -o dnr-3fa9c1-12") == (
        "-i dnr-<family>-+ -j ACCEPT; -o <another bridge>"
    )
    assert normalise({"10.199.7.3": ["10.199.7.3", 64, True]}) == {
        "<h1 on a>": ["<h1 on a>", 64, True]
    }


def test_nothing_is_kept_without_a_recorder():
    observe("assert_route", None, "x", True, {"routes": []})  # no recorder: a no-op
    with recording(Recorder()) as kept:
        observe("assert_route", None, "x 02:42:ac:11:00:02", False, {"a": 1})
    assert kept.observations == [
        {
            "kind": "assert_route",
            "subject": "x <mac>",
            "verdict": "fail",
            "facts": {"a": 1},
            "context": {},
        }
    ]


def obs(verdict="pass", facts=None, context=None, kind="assert_reachable", subject="h1 -> h2"):
    return {
        "kind": kind,
        "subject": subject,
        "verdict": verdict,
        "facts": facts or {"received": 1, "reply_ttls": [64]},
        "context": context or {"rules": ["filter -A X -o <bridge of a> -j DROP"]},
    }


def test_the_format_is_stable_sorted_json_with_a_version():
    record = Record(engine={"summary": "Docker 20.10"}, tests={"t::b": [obs()], "t::a": []})
    text = record.to_json()
    body = json.loads(text)
    assert (body["format"], body["version"]) == (FORMAT, VERSION)
    assert list(body["tests"]) == ["t::a", "t::b"]
    assert text == record.to_json() and parse(text).tests == record.tests


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not JSON"),
        ('{"format": "other"}', "is not a pytest-dockernet record"),
        (json.dumps({"format": FORMAT, "version": 99, "tests": {}}), "version 99"),
        (json.dumps({"format": FORMAT, "version": VERSION}), "no 'tests' mapping"),
    ],
)
def test_a_bad_record_is_named(text, message):
    with pytest.raises(RecordError, match=message):
        parse(text, "old.json")


def test_facts_and_verdicts_fail_context_informs():
    same = compare_test([obs()], [obs()])
    assert (same.failing, same.informing, same.compared) == ([], [], 1)
    ttl = compare_test([obs()], [obs(facts={"received": 1, "reply_ttls": [63]})])
    assert ttl.failing == ["#1 assert_reachable h1 -> h2: reply_ttls: [64] -> [63]"]
    verdict = compare_test([obs()], [obs(verdict="fail")])
    assert verdict.failing == ["#1 assert_reachable h1 -> h2: verdict pass -> fail"]
    rules = compare_test([obs()], [obs(context={"rules": []})])
    assert rules.failing == [] and len(rules.informing) == 1
    assert "changed underneath (information):" in rules.text("Docker 20.10", "Docker 28.5")


def test_observations_added_or_gone_fail():
    more = compare_test([obs()], [obs(), obs(kind="assert_path")])
    assert more.failing == ["#2 assert_path h1 -> h2: new, not in the record"]
    fewer = compare_test([obs(), obs(kind="assert_path")], [obs()])
    assert fewer.failing == ["#2 assert_path h1 -> h2: in the record, not made now"]
    other = compare_test([obs(subject="h1 -> h3")], [obs()])
    assert other.failing == ["#1 assert_reachable h1 -> h2: was #1 assert_reachable h1 -> h3"]


def test_whole_records_list_tests_on_one_side_only():
    before = Record(tests={"t::a": [obs()], "t::gone": []})
    after = Record(tests={"t::a": [obs(verdict="fail")], "t::new": []})
    result = compare(before, after)
    assert (result.failing, result.only_before, result.only_after) == (
        ["t::a"],
        ["t::gone"],
        ["t::new"],
    )
    assert result.summary().startswith("1 observations compared in 1 tests: 1 differ (1 tests)")


def write(tmp_path, name, record):
    path = tmp_path / name
    record.save(path)
    return str(path)


def test_dockernet_diff_exit_codes_and_output(tmp_path, capsys):
    old = write(tmp_path, "old.json", Record({"summary": "Docker 20.10"}, {"t::a": [obs()]}))
    same = write(tmp_path, "same.json", Record({"summary": "Docker 28.5"}, {"t::a": [obs()]}))
    info = write(tmp_path, "info.json", Record({}, {"t::a": [obs(context={"rules": []})]}))
    worse = write(tmp_path, "worse.json", Record({}, {"t::a": [obs(verdict="fail")]}))
    assert dockernet_diff([old, same]) == 0
    assert "before: " in capsys.readouterr().out
    assert dockernet_diff([old, info]) == 0
    assert "same observations: t::a" in capsys.readouterr().out
    assert dockernet_diff([old, worse]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS: t::a" in out and "verdict pass -> fail" in out
    (tmp_path / "junk.json").write_text("nope")
    assert dockernet_diff([old, str(tmp_path / "junk.json")]) == 2
    assert "junk.json is not JSON" in capsys.readouterr().err
