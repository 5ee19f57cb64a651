"""What a user of the plugin sees: failures that explain themselves, options, cleanup."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from pytest_dockernet.engine import labels
from tests.conftest import labelled

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def tag() -> str:
    """A network name unique to this test, to find its resources by label afterwards."""
    return f"p{uuid.uuid4().hex[:10]}"


def test_failed_assertion_shows_observed_state_and_topology(pytester, client, tag):
    pytester.makepyfile(
        f"""
        from pytest_dockernet import assert_bridge_members, assert_route

        def test_it(dockernet):
            net = dockernet.network("{tag}")
            c1 = dockernet.container("c1", networks=[net])
            assert_bridge_members(net, [c1], exact=True)
            assert_route(c1, "default", via="10.231.250.1")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: no route 'default via 10.231.250.1' in container 'c1'; its routes*",
            "*default via 10.199.* dev eth0",
            "*- dockernet topology -*",
            f"<Network {tag} 10.199.*",
            "<Container c1 *",
        ]
    )
    assert labelled(client, labels.NAME, tag) == []


def test_error_in_the_test_still_removes_everything(pytester, client, tag):
    pytester.makepyfile(
        f"""
        def test_it(dockernet):
            net = dockernet.network("{tag}")
            dockernet.container("c1", networks=[net])
            raise RuntimeError("boom")
        """
    )
    pytester.runpytest().assert_outcomes(failed=1)
    assert labelled(client, labels.NAME, tag) == []


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupt_removes_everything(pytester, client, tag, signal_name):
    """Ctrl-C, or a CI runner's SIGTERM, in the middle of a test."""
    pytester.makepyfile(
        f"""
        import os, signal

        # As in a terminal: a job started in the background of a non-interactive shell
        # (some CI runners) starts with SIGINT ignored, and Python then keeps ignoring it.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        def test_it(dockernet):
            net = dockernet.network("{tag}")
            dockernet.container("c1", networks=[net])
            os.kill(os.getpid(), signal.{signal_name})

        def test_never_runs():
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.no_fnmatch_line("*test_never_runs PASSED*")
    assert labelled(client, labels.NAME, tag) == []


def test_session_fixture_lives_across_tests(pytester, client, tag):
    pytester.makepyfile(
        f"""
        def test_one(dockernet_session):
            dockernet_session.network("{tag}")

        def test_two(dockernet_session):
            assert "{tag}" in dockernet_session.networks
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
    assert labelled(client, labels.NAME, tag) == []


def test_keep_leaves_resources_and_says_how_to_remove_them(pytester, client, tag):
    pytester.makepyfile(
        f"""
        def test_it(dockernet):
            net = dockernet.network("{tag}")
            dockernet.container("c1", networks=[net])
        """
    )
    result = pytester.runpytest("--dockernet-keep")
    try:
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            ["*dockernet: kept for debugging*", "remove them with: docker rm -f *"]
        )
        assert len(labelled(client, labels.NAME, tag)) == 1
    finally:  # what the inner run kept: its container (named c1, on the tag network) and network
        for c in client.api.containers(all=True, filters={"label": f"{labels.NAME}=c1"}):
            if c["HostConfig"]["NetworkMode"].endswith(f"-{tag}"):
                client.api.remove_container(c["Id"], force=True)
        for n in client.networks.list(filters={"label": f"{labels.NAME}={tag}"}):
            n.remove()


def test_missing_image_option_is_one_clear_error(pytester):
    pytester.makepyfile("def test_a(dockernet): pass")
    result = pytester.runpytest_subprocess("--dockernet-image=no-such/image:1")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*'no-such/image:1' is not on this Docker engine*never pulls*"])


def test_pool_option_and_ini(pytester, tag):
    pytester.makeini("[pytest]\ndockernet_pool = 10.231.128.0/20\ndockernet_prefix = 26\n")
    pytester.makepyfile(
        f"""
        import ipaddress

        def test_it(dockernet):
            net = dockernet.network("{tag}")
            assert net.subnet.subnet_of(ipaddress.IPv4Network("10.231.128.0/20"))
            assert net.subnet.prefixlen == 26
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--dockernet-pool=10.231.64.0/20").assert_outcomes(failed=1)
    result = pytester.runpytest_subprocess("--dockernet-pool=10.231.64.0/33")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dockernet-pool '10.231.64.0/33' is not an IPv4 network*"])


@pytest.mark.serial  # the seed's fixed subnets
def test_examples_pass_on_an_image_with_no_tools(pytester, bare_image, monkeypatch):
    """The seed's scenarios on an image holding one binary: no shell, no ip, no ping."""
    monkeypatch.setenv("EXAMPLES_IMAGE", bare_image)
    result = pytester.runpytest_subprocess(str(EXAMPLES), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)  # seed scenarios, dual-stack, packet walk, NAT, tiers, compose


def test_the_bare_image_really_has_no_tools(dockernet, bare_image):
    net = dockernet.network("bare")
    c = dockernet.container("c", networks=[net], image=bare_image)
    for tool in (["sh", "-c", "true"], ["ip", "route"], ["ping", "-c1", "127.0.0.1"]):
        exit_code, output = dockernet.client.containers.get(c.id).exec_run(tool)
        assert exit_code != 0, (tool, output)
    assert os.path.basename(bare_image).startswith("one-binary")
