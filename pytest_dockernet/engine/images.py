"""The default image, built on the machine from a static busybox: no registry is ever asked.

Air-gapped CI runners cannot pull, so the plugin imports a root filesystem holding only the
host's static busybox (Debian's ``busybox-static``) and tags it with the plugin's version.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from typing import Literal

import docker
import docker.errors

from ..errors import ImageError
from ..version import __version__
from . import labels

DEFAULT_IMAGE = f"pytest-dockernet/busybox:{__version__}"
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
APPLETS = ("sh", "sleep", "ping", "ip", "cat", "ls", "nc", "wget", "route", "ifconfig")
_PT_INTERP = 3


def is_static_elf(path: str) -> bool:
    """True when ``path`` is an ELF executable with no program interpreter (statically linked)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if (
            len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2
        ):  # 64-bit only: busybox-static on amd64/arm64
            return False
        order: Literal["little", "big"] = "little" if head[5] == 1 else "big"
        phoff = int.from_bytes(head[32:40], order)
        phentsize = int.from_bytes(head[54:56], order)
        phnum = int.from_bytes(head[56:58], order)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(
        int.from_bytes(table[i * phentsize : i * phentsize + 4], order) != _PT_INTERP
        for i in range(phnum)
    )


def find_static_busybox() -> str:
    candidates = [p for p in (shutil.which("busybox"), *BUSYBOX_CANDIDATES) if p]
    for path in candidates:
        if os.path.isfile(path) and is_static_elf(path):
            return path
    raise ImageError(
        f"no statically linked busybox found (looked at {', '.join(dict.fromkeys(candidates))}): "
        "install it with `apt-get install busybox-static`, or pass an image that exists locally "
        "with --dockernet-image / image="
    )


def rootfs_tar(busybox: str) -> bytes:
    """A root filesystem holding busybox and links to the applets the examples use."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for directory in ("bin", "etc", "tmp", "proc", "sys", "dev"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(os.path.realpath(busybox), arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buf.getvalue()


def ensure_default_image(client: docker.DockerClient, tag: str = DEFAULT_IMAGE) -> str:
    """Return ``tag``, importing it from the host's static busybox if the engine lacks it."""
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    repository, _, version = tag.rpartition(":")
    client.api.import_image_from_data(
        rootfs_tar(find_static_busybox()),
        repository=repository,
        tag=version,
        changes=[
            'CMD ["/bin/sleep", "2147483647"]',
            f'LABEL "{labels.PREFIX}.image"="{__version__}"',
        ],
    )
    return tag


def check_image(client: docker.DockerClient, image: str) -> str:
    """Fail before anything is created when ``image`` is neither local nor pullable."""
    try:
        client.images.get(image)
        return image
    except docker.errors.ImageNotFound:
        pass
    raise ImageError(
        f"image {image!r} is not on this Docker engine and pytest-dockernet never pulls: "
        f"load or build it first (`docker load`, `docker import`, `docker build`), or leave "
        f"image= unset to use the built-in {DEFAULT_IMAGE}"
    )
