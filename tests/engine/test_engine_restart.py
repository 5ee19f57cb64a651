"""The engine restarts in the middle of a run: the affected test fails clearly, and nothing of
the run is left once the engine is back.

Marked ``disruptive``: it stops and starts dockerd, so CI runs it alone, after everything else.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest

from pytest_dockernet.engine import labels
from tests.conftest import labelled

RESTART = """
import os, subprocess

import docker

from pytest_dockernet import assert_reachable
from pytest_dockernet.retry import NotYet, wait_until


def restart_engine():
    if os.path.isdir("/run/systemd/system"):
        subprocess.run(["systemctl", "restart", "docker"], check=True)
        return
    subprocess.run(["pkill", "-TERM", "-x", "dockerd"], check=True)
    wait_until(
        lambda: subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True).returncode != 0,
        20, "dockerd to exit after SIGTERM", interval=0.1,
    )
    subprocess.Popen(["dockerd"], stdout=open("/var/log/dockerd.log", "ab"),
                     stderr=subprocess.STDOUT, start_new_session=True)

    def answers():
        try:
            docker.from_env().ping()
        except Exception as exc:  # refused until it listens again
            return NotYet(repr(exc))
        return True

    wait_until(answers, 40, "the restarted dockerd to answer a ping", interval=0.2)


def test_engine_restarts_under_it(dockernet):
    net = dockernet.network("{tag}")
    c1 = dockernet.container("c1", networks=[net])
    c2 = dockernet.container("c2", networks=[net])
    c1.wait_started(), c2.wait_started()  # both run when the engine goes away
    restart_engine()
    assert_reachable(c1, c2)
"""


@pytest.mark.disruptive
def test_engine_restart_mid_test(pytester, client):
    if not local_dockerd():
        pytest.skip("the engine is not a local dockerd this test can restart")
    tag = f"r{uuid.uuid4().hex[:8]}"
    pytester.makepyfile(test_restart=RESTART.replace("{tag}", tag))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # Docker stopped the containers with the daemon: the probe finds a dead namespace and
    # says so with the container's exit code, instead of a bare OSError.
    result.stdout.fnmatch_lines(["*ContainerStartError: container 'c1' is not running*"])
    assert labelled(client, labels.NAME, tag) == []
    on_tag = [
        c["Names"][0]
        for c in client.api.containers(all=True, filters={"label": labels.SESSION})
        if c["HostConfig"]["NetworkMode"].endswith(f"-{tag}")
    ]
    assert on_tag == []


def local_dockerd() -> bool:
    return subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True).returncode == 0
