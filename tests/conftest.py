from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Iterator

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
