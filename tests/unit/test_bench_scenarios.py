"""The benchmark leaves out the router scenarios where Docker drops a router container's
forward (Docker >= 28 with bridged frames through iptables), and only there."""

from __future__ import annotations

from bench.__main__ import router_forward_dropped
from bench.suites import dockerd_times


def test_docker_28_drops_the_routers_forward_where_bridged_frames_meet_iptables():
    why = router_forward_dropped({"ServerVersion": "28.5.2+dfsg4"}, True)
    assert "28.5.2+dfsg4" in why and "bridge-nf-call-iptables=0" in why


def test_older_engines_and_unfiltered_bridges_run_them():
    assert router_forward_dropped({"ServerVersion": "28.5.2"}, False) == ""
    assert router_forward_dropped({"ServerVersion": "26.1.5+dfsg1"}, True) == ""
    assert router_forward_dropped({"ServerVersion": "20.10.24"}, True) == ""


def test_dockerd_time_per_test_counts_overlaps_once_and_clips_to_the_test():
    rows = [
        ["call", "DELETE /networks/{id}", False, -0.5, 0.25],  # the earlier test's teardown
        ["start", "t1", True, 0.0, 0],
        ["call", "POST /networks/create", True, 0.1, 0.2],
        ["call", "POST /containers/{id}/start", False, 0.2, 0.5],
        ["call", "POST /containers/{id}/start", False, 0.3, 0.6],
        ["call", "GET /containers/{id}/json", True, 0.6, 0.7],
        ["finish", "t1", True, 1.0, 0],
        ["start", "t2", True, 1.0, 0],
        ["call", "POST /networks/create", True, 1.1, 1.3],
        ["finish", "t2", True, 2.0, 0],
    ]
    first, second = (
        {label: round(seconds, 3) for label, seconds in test.items()}
        for test in dockerd_times(rows)
    )
    assert first == {
        "dockerd DELETE /networks/{id}": 0.25,
        "dockerd GET": 0.1,
        "dockerd POST /containers/{id}/start": 0.4,
        "dockerd POST /networks/create": 0.1,
        "dockerd busy": 0.7,
        "dockerd, test's thread": 0.2,
    }
    assert second["dockerd POST /networks/create"] == 0.2
    assert second["dockerd POST /containers/{id}/start"] == 0.0
    assert second["dockerd busy"] == 0.2
