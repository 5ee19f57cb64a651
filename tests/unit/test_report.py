"""The report's picture, page and snapshot, from plain data: what dot draws for each kind of
node and probe, one run of dot for many tests, the page's escaping and grids, and the refusal
to start without dot. (On the real engine and in Chromium: tests/engine/test_report.py.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_dockernet.record import snapshot
from pytest_dockernet.record.observations import Probe
from pytest_dockernet.report import page, picture
from pytest_dockernet.report.writer import check_dot

SVG = "{http://www.w3.org/2000/svg}"
TOPOLOGY = {
    "networks": [
        {"alias": "a", "name": "dn-1-a", "subnet": "10.1.0.0/24", "subnet6": None,
         "bridge": "br-a", "internal": False, "masquerade": True, "existing": False},
        {"alias": "b", "name": "dn-1-b", "subnet": "10.2.0.0/24", "subnet6": "fd00:1::/64",
         "bridge": "br-b", "internal": True, "masquerade": True, "existing": False},
    ],
    "containers": [
        {"alias": "h1", "service": "", "router": False, "existing": False,
         "addresses": {"a": ["10.1.0.2"]}},
        {"alias": "r", "service": "", "router": True, "existing": False,
         "addresses": {"a": ["10.1.0.3"], "b": ["10.2.0.3", "fd00:1::3"]}},
        {"alias": "web-1", "service": "web", "router": False, "existing": True,
         "addresses": {"b": ["10.2.0.2"]}},
    ],
    "upstreams": [
        {"name": "internet", "address": "10.3.0.2", "address6": None,
         "host_address": "10.3.0.1", "host_interface": "dnu1"},
    ],
}  # fmt: skip
WHY = (
    "why, from the counters of `iptables-nft-save -c`:\n"
    "dropped by filter DOCKER-ISOLATION-STAGE-2 `-A DOCKER-ISOLATION-STAGE-2 -o br-b -j DROP` "
    "(+1 packets): Docker's isolation between bridge networks: ...\n"
    "trace: the request was last seen on br-a of the host (in, ttl 64)"
)
PROBES = snapshot.probes(
    [
        Probe("h1", "r", "assert_reachable", answered=True, expected=True, detail="ping"),
        Probe("h1", "web-1", "assert_reachable", answered=False, expected=True, detail="ping",
              why=WHY),
        Probe("web-1", "internet", "assert_unreachable", answered=False, expected=False,
              detail="ping"),
        Probe("host", "web-1", "assert_port_open", answered=True, expected=True,
              detail="80/tcp: open"),
        Probe("h1", "192.0.2.7", "assert_unreachable", answered=True, expected=False,
              detail="ping"),
    ]
)  # fmt: skip


def drawn(topology=TOPOLOGY, probes=PROBES) -> ET.Element:
    [svg] = picture.svg([picture.graph(topology, probes)])
    return ET.fromstring(svg)


def groups(root: ET.Element, css: str) -> dict[str, ET.Element]:
    wanted = set(css.split())
    return {
        g.get("id", ""): g
        for g in root.iter(f"{SVG}g")
        if wanted <= set((g.get("class") or "").split())
    }


def text(g: ET.Element) -> str:
    return "\n".join(t.text or "" for t in g.iter(f"{SVG}text"))


def test_every_network_container_router_upstream_and_end_is_a_node_of_its_kind():
    root = drawn()
    assert set(groups(root, "node network")) == {"network-a", "network-b"}
    assert set(groups(root, "node container")) == {"container-h1", "container-web-1"}
    assert set(groups(root, "node router")) == {"router-r"}
    assert set(groups(root, "node upstream")) == {"upstream-internet"}
    assert set(groups(root, "node host")) == {"host-host"}
    assert set(groups(root, "node address")) == {"address-192.0.2.7"}
    assert "internal: no way out" in text(groups(root, "network")["network-b"])
    assert "fd00:1::/64" in text(groups(root, "network")["network-b"])
    assert "service web" in text(groups(root, "container")["container-web-1"])
    # one membership edge per address-holding attachment, labelled with the addresses
    members = groups(root, "edge member")
    assert set(members) == {"member-h1-a", "member-r-a", "member-r-b", "member-web-1-b"}
    assert text(members["member-r-b"]).split() == ["10.2.0.3", "fd00:1::3"]


def test_each_probe_is_drawn_by_its_outcome_the_failed_ones_with_their_fate():
    probes = groups(drawn(), "edge probe")
    states = {i: g.get("class", "").split()[-1] for i, g in probes.items()}
    assert states == {
        "probe-0": "answered",
        "probe-1": "failed",
        "probe-2": "unanswered",
        "probe-3": "answered",
        "probe-4": "failed",
    }
    failed = text(probes["probe-1"])
    assert "FAILED: no answer" in failed
    # the dropping rule without the explanation after it, and the trace's last hop
    assert "-o br-b -j DROP` (+1 packets)" in failed.replace("\n", " ")
    assert "isolation between bridge networks" not in failed
    assert "last seen on br-a" in failed
    assert "FAILED: answered, expected no answer" in text(probes["probe-4"])
    dashes = [p.get("stroke-dasharray") for p in probes["probe-2"].iter(f"{SVG}path")]
    assert dashes == ["5,2"]
    colours = {p.get("stroke") for p in probes["probe-1"].iter(f"{SVG}path")}
    assert colours == {picture.FAILED.lower()}


def test_a_retried_probe_is_drawn_once_as_its_last_attempt():
    tries = [
        Probe("h1", "r", "assert_reachable", answered=False, expected=True, detail="ping: x"),
        Probe("h1", "r", "assert_reachable", answered=True, expected=True, detail="ping"),
        Probe("h1", "r", "assert_port_open", answered=True, expected=True, detail="80/tcp: open"),
    ]
    kept = snapshot.probes(tries)
    assert [(p["kind"], p["answered"], p["failed"]) for p in kept] == [
        ("assert_reachable", True, False),
        ("assert_port_open", True, False),
    ]


def test_one_run_of_dot_draws_every_test():
    graphs = [picture.graph(TOPOLOGY, PROBES[:n]) for n in range(1, 5)]
    drawings = picture.svg(graphs)
    assert [len(groups(ET.fromstring(d), "edge probe")) for d in drawings] == [1, 2, 3, 4]
    assert picture.svg([]) == []


def entry(nodeid: str, outcome: str, probes: list, message: str = "") -> dict:
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "topology": TOPOLOGY,
        "probes": probes,
        "paths": [{"subject": "h1 -> web-1", "request": ["h1 eth0"], "reply": ["web-1 eth0"]}],
        "message": message,
    }


def test_the_page_is_one_file_that_escapes_what_the_tests_named():
    matrix = snapshot.probes(
        [
            Probe(s, d, "assert_reachability", answered=(d != "c"), expected=True, detail="ping")
            for s in "abc"
            for d in "abc"
            if s != d
        ]
    )
    entries = [
        entry("t.py::test_x[<b>]", "failed", matrix, "AssertionError: <script>alert(1)</script>"),
        entry("t.py::test_y", "passed", []),
    ]
    html = page.page(entries, ["<svg></svg>", None], "dockernet engine: Docker 28.5.2 & more")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'id="t.py::test_x[&lt;b&gt;]"' in html
    assert "Docker 28.5.2 &amp; more" in html
    assert '<span class="failed">1 failed</span>, <span class="passed">1 passed</span>' in html
    assert html.count("<svg></svg>") == 1
    # the matrix: the two pairs into c failed, the other four answered
    assert html.count('<td class="bad"') == 2 and html.count('<td class="yes"') == 4
    assert "<li>(reply)</li>" in html
    assert "http" not in html.replace("http://www.w3.org", "")  # nothing fetched


def test_without_dot_the_run_stops_at_its_start_naming_the_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.UsageError, match=r"not on PATH: install it \(apt-get install "):
        check_dot()


def test_dot_answers_with_its_version():
    assert check_dot()[0].isdigit()
