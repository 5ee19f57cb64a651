"""The benchmark leaves out the router scenarios where Docker drops a router container's
forward (Docker >= 28 with bridged frames through iptables), and only there."""

from __future__ import annotations

from bench.__main__ import router_forward_dropped


def test_docker_28_drops_the_routers_forward_where_bridged_frames_meet_iptables():
    why = router_forward_dropped({"ServerVersion": "28.5.2+dfsg4"}, True)
    assert "28.5.2+dfsg4" in why and "bridge-nf-call-iptables=0" in why


def test_older_engines_and_unfiltered_bridges_run_them():
    assert router_forward_dropped({"ServerVersion": "28.5.2"}, False) == ""
    assert router_forward_dropped({"ServerVersion": "26.1.5+dfsg1"}, True) == ""
    assert router_forward_dropped({"ServerVersion": "20.10.24"}, True) == ""
