"""Errors the plugin raises for problems that are not test failures.

A failed expectation about the network is an ``AssertionError`` (the test failed); a bad
argument is a ``ValueError``/``TypeError``; everything here means the environment could not be
used as asked, and each message names the value and the fix.

This module imports nothing of the package: it is the bottom layer, so that every layer above,
:mod:`~pytest_dockernet.retry` included, may raise these.
"""

from __future__ import annotations


class DockernetError(Exception):
    """Base class: the plugin could not do what was asked, for a reason outside the test.

    Every error below derives from it; its message names the value at fault and the fix.

    Example:
        ```python
        try:
            stack = dockernet.compose("deploy/compose.yaml")
        except DockernetError as error:  # ComposeError, ImageError, ...: each names the fix
            pytest.fail(f"the stack did not come up: {error}")
        ```
    """


class EngineUnavailableError(DockernetError):
    """No Docker engine answers at the configured address.

    Raised when a test first asks for a fixture: one clear error, which stops the run.
    """


class ImageError(DockernetError):
    """An image is missing locally and cannot be built or pulled.

    The plugin never pulls: the message says how to put the image on the engine, or which
    package the built-in image needs.
    """


class PrivilegeError(DockernetError):
    """The test process lacks a privilege it needs (entering namespaces, reading the firewall).

    Root, or CAP_SYS_ADMIN + CAP_NET_ADMIN + CAP_NET_RAW: membership of the ``docker``
    group alone is not enough.
    """


class ContainerStartError(DockernetError):
    """A container did not reach the running state.

    Raised where the test first needs the container, with its exit code and last log lines.
    """


class FirewallChurnError(DockernetError):
    """Every attempt at a probe overlapped another process rewriting the host firewall.

    It names the rules that changed and where the change came from: stop that process
    while isolation is checked, or make its networks through the plugin.
    """


class ComposeError(DockernetError):
    """Docker Compose is missing, refused the file, or could not bring the project up.

    Raised by ``dockernet.compose()``: no Compose v2 (naming the package to install), a file
    Compose refuses, a failed ``up`` (Compose's error lines first), or an image that is not on
    the engine. Each leaves nothing behind.

    Example:
        ```python
        with pytest.raises(ComposeError, match="docker compose"):
            dockernet.compose(tmp_path / "broken.yaml")  # Compose's own message comes first
        ```
    """


class FirewallLockError(DockernetError):
    """The machine-wide firewall lock could not be opened, or was not had in time.

    The lock is ``/run/lock/pytest-dockernet-firewall.lock``
    (``pytest_dockernet.engine.lock``).
    """


class WaitTimeout(DockernetError):
    """Something the plugin waited for (a link up, a service healthy, a pool filled) did not
    happen in time: the machine or Docker was slow or stuck, which is not a fact about the
    topology under test, so it is not an ``AssertionError``. Raised by
    :func:`pytest_dockernet.retry.wait_until`; its message names what was awaited, for how
    long, and what the last look saw.

    Example:
        ```python
        wait_until(lambda: link_up(), 3.0, "the upstream's veth to come up")
        ```
    """
