"""Errors the plugin raises for problems that are not test failures.

A failed expectation about the network is an ``AssertionError`` (the test failed); a bad
argument is a ``ValueError``/``TypeError``; everything here means the environment could not be
used as asked, and each message names the value and the fix.

This module imports nothing of the package: it is the bottom layer, so that every layer above,
:mod:`~pytest_dockernet.retry` included, may raise these.
"""

from __future__ import annotations


class DockernetError(Exception):
    """Base class: the plugin could not do what was asked, for a reason outside the test."""


class EngineUnavailableError(DockernetError):
    """No Docker engine answers at the configured address."""


class ImageError(DockernetError):
    """An image is missing locally and cannot be built or pulled."""


class PrivilegeError(DockernetError):
    """The test process lacks a privilege it needs (entering namespaces, reading the firewall)."""


class ContainerStartError(DockernetError):
    """A container did not reach the running state."""


class FirewallChurnError(DockernetError):
    """Every attempt at a probe overlapped another process rewriting the host firewall."""


class ComposeError(DockernetError):
    """Docker Compose is missing, refused the file, or could not bring the project up."""


class FirewallLockError(DockernetError):
    """The machine-wide firewall lock could not be opened, or was not had in time."""


class WaitTimeout(DockernetError):
    """Something the plugin waited for (a link up, a service healthy, a pool filled) did not
    happen in time: the machine or Docker was slow or stuck, which is not a fact about the
    topology under test, so it is not an ``AssertionError``. Raised by
    :func:`pytest_dockernet.retry.wait_until`; its message names what was awaited, for how
    long, and what the last look saw."""
