"""A run killed with SIGKILL is swept by the next one; foreign and live resources survive."""

from __future__ import annotations

import uuid

import pytest

from pytest_dockernet import DockerNet
from pytest_dockernet.engine import labels
from pytest_dockernet.engine.teardown import sweep
from tests.conftest import labelled

KILLED = """
import os, signal

def test_killed(dockernet):
    net = dockernet.network("{tag}")
    dockernet.container("{tag}c", networks=[net]).wait_started()  # created, then killed
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def bystanders(client, dockernet):
    """An unlabelled network and container, and a live run's network, that must survive."""
    tag = f"foreign{uuid.uuid4().hex[:8]}"
    net = client.networks.create(tag, labels={"test.foreign": "1"})
    image = dockernet.image
    box = client.containers.run(image, name=tag, detach=True, network=tag)
    live = dockernet.network("live")
    yield [tag], live
    box.remove(force=True)
    net.remove()


# Serial: a sweep removes every dead run's resources on the engine, so two of these side by
# side (or any other run starting beside them) sweep each other's SIGKILLed leftovers first.
@pytest.mark.serial
@pytest.mark.parametrize("how", [["--dockernet-sweep"], []])
def test_killed_run_is_swept_by_the_next(pytester, client, bystanders, how):
    foreign, live = bystanders
    tag = f"k{uuid.uuid4().hex[:8]}"
    pytester.makepyfile(test_killed=KILLED.format(tag=tag))
    killed = pytester.runpytest_subprocess()
    assert killed.ret == -9
    assert sorted(labelled(client, labels.NAME, tag)) == [
        next(n.name for n in client.networks.list(filters={"label": f"{labels.NAME}={tag}"}))
    ]
    assert len(labelled(client, labels.NAME, f"{tag}c")) == 1

    if how:
        result = pytester.runpytest_subprocess(*how)
        assert result.ret == 0
        result.stdout.fnmatch_lines(
            [
                # with whatever its warm pool had started for a later test
                f"pytest-dockernet sweep: removed * containers: *{tag}c*",
                f"removed * networks: *{tag}*",
            ]
        )
    else:  # any later run that uses the plugin sweeps first
        pytester.makepyfile(test_killed="def test_next(dockernet):\n    pass\n")
        result = pytester.runpytest_subprocess()
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*dockernet: swept what dead runs left*", f"*{tag}c*"])

    assert labelled(client, labels.NAME, tag) == []
    assert labelled(client, labels.NAME, f"{tag}c") == []
    assert client.networks.get(foreign[0]).name == foreign[0]
    assert client.containers.get(foreign[0]).status == "running"
    assert client.networks.get(live.id).name == live.name  # this live run's network


def test_sweep_spares_another_live_process(pytester, client):
    """A run in another terminal (a live pid) keeps its resources while this one sweeps."""
    tag = f"l{uuid.uuid4().hex[:8]}"
    pytester.makepyfile(
        f"""
        import subprocess, sys

        def test_other_terminal(dockernet):
            dockernet.network("{tag}")
            out = subprocess.run([sys.executable, "-m", "pytest", "--dockernet-sweep"],
                                 capture_output=True, text=True)
            assert out.returncode == 0, out.stdout + out.stderr
            assert "{tag}" not in out.stdout
            assert "{tag}" in dockernet.networks
            dockernet.client.networks.get(dockernet.networks["{tag}"].id)
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert labelled(client, labels.NAME, tag) == []


def test_sweep_never_touches_resources_of_this_process(client):
    with DockerNet(client) as dn:
        net = dn.network("mine")
        report = sweep(client)
        assert net.name not in report.networks
        client.networks.get(net.id)
