"""Fixtures that tests/ and examples/ share: the engine client, the image the examples run on,
and an image holding one binary and nothing else.

Nothing here reaches the engine when it is imported or while tests are collected: a fixture
connects when a test asks for it, so ``pytest tests/unit`` runs where no engine answers.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Iterator

import docker
import pytest

from pytest_dockernet.engine import labels
from pytest_dockernet.engine.client import version_of


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    """A docker-py client for the engine DOCKER_HOST names (it connects here, not at import)."""
    return docker.from_env()


@pytest.fixture(scope="session")
def engine_version(client: docker.DockerClient) -> tuple[int, int]:
    """(major, minor) of the engine: a few behaviours of Docker differ by release."""
    return version_of(client.info())


@pytest.fixture
def image() -> str | None:
    """The image the examples run on: EXAMPLES_IMAGE, or None for the built-in busybox.

    ``EXAMPLES_IMAGE`` lets the project's own tests run the same scenarios on an image holding a
    single binary (``bare_image``), to show the checks need nothing inside it.
    """
    return os.environ.get("EXAMPLES_IMAGE") or None


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
