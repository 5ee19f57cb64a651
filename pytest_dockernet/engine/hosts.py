"""testinfra hosts for containers, so that testinfra's whole module set (file, package, process,
socket, interface, ...) checks each container of a topology or a Compose project.

testinfra is an optional extra (``pytest-dockernet[testinfra]``) and is imported only when a
test asks for a host. Its docker backend runs ``docker exec`` with the image's ``/bin/sh``: an
image holding one binary cannot serve most modules, unlike the plugin's own checks, which read
everything from the host.
"""

from __future__ import annotations

from typing import Any

INSTALL = "pip install 'pytest-dockernet[testinfra]'"


def host_over(container_id: str) -> Any:
    """testinfra's ``Host`` for the container ``container_id`` (its docker backend; testinfra
    caches one per container)."""
    try:
        import testinfra
    except ImportError as exc:
        raise ImportError(f"container.host needs testinfra, an optional extra: {INSTALL}") from exc
    return testinfra.get_host(f"docker://{container_id}")
