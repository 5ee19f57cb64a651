"""Helpers of the project's own tests. The fixtures they share with examples/ (``client``,
``image``, ``bare_image``) are in the repository's top-level conftest.py."""

from __future__ import annotations

import docker


def labelled(client: docker.DockerClient, key: str, value: str) -> list[str]:
    """Names of every container and network carrying the label ``key=value``."""
    filters = {"label": f"{key}={value}"}
    found = [c.name for c in client.containers.list(all=True, filters=filters)]
    found += [n.name for n in client.networks.list(filters=filters)]
    return found
