from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from pytest_dockernet import labels


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    return docker.from_env()


def labelled(client: docker.DockerClient, key: str, value: str) -> list[str]:
    """Names of every container and network carrying the label ``key=value``."""
    filters = {"label": f"{key}={value}"}
    found = [c.name for c in client.containers.list(all=True, filters=filters)]
    found += [n.name for n in client.networks.list(filters=filters)]
    return found


@pytest.fixture(scope="session")
def bare_image(client: docker.DockerClient) -> Iterator[str]:
    """An image holding one static binary at /sleep: no shell, no ip, no ping, no /bin."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(busybox, arcname="sleep")  # busybox run as "sleep" is the sleep applet only
    # One tag per process: parallel workers each remove their own at the end.
    repository, tag = "pytest-dockernet-test/one-binary", str(os.getpid())
    client.api.import_image_from_data(
        buf.getvalue(),
        repository=repository,
        tag=tag,
        changes=['CMD ["/sleep", "2147483647"]', f'LABEL "{labels.PREFIX}.test-image"="1"'],
    )
    yield f"{repository}:{tag}"
    client.images.remove(f"{repository}:{tag}", force=True)


REPO = Path(__file__).resolve().parents[1]

REPORT_AS_UNPRIVILEGED = """
import json, os, sys
caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff:')][0]
try:
    exec(sys.argv[1])
except Exception as exc:
    print(json.dumps([os.geteuid(), int(caps, 16), type(exc).__name__, str(exc)]))
else:
    print(json.dumps([os.geteuid(), int(caps, 16), 'no error', '']))
"""


def run_unprivileged(code: str) -> tuple[int, int, str, str]:
    """Run ``code`` as uid 65534 with no capabilities (setpriv drops them all at exec).

    Returns (uid, effective capabilities, exception class name, message) as the child saw
    them, so a test proves the code really ran without privileges.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to an unprivileged user")
    if not shutil.which("setpriv"):
        pytest.fail("setpriv (util-linux) is needed to run code without privileges")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            REPORT_AS_UNPRIVILEGED,
            code,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    uid, caps, name, message = json.loads(proc.stdout)
    return uid, caps, name, message
