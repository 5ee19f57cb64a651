"""Pure tests of the static-busybox image pieces in ``engine/images.py`` (no Docker)."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

from pytest_dockernet.engine import images
from pytest_dockernet.engine.images import find_static_busybox, is_static_elf, rootfs_tar
from pytest_dockernet.errors import ImageError

BUSYBOX = "/bin/busybox"
needs_busybox = pytest.mark.skipif(
    not Path(BUSYBOX).is_file(), reason="needs Debian's busybox-static at /bin/busybox"
)


@needs_busybox
def test_busybox_static_is_static() -> None:
    assert is_static_elf(BUSYBOX) is True


@pytest.mark.parametrize("path", [sys.executable, "/bin/ls"])
def test_dynamic_executables_are_not_static(path: str) -> None:
    assert is_static_elf(path) is False


@pytest.mark.parametrize("content", [b"#!/bin/sh\necho hi\n", b"", b"\x7fELF\x01" + bytes(59)])
def test_non_elf64_files_are_not_static(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    assert is_static_elf(str(path)) is False


@needs_busybox
def test_rootfs_tar() -> None:
    with tarfile.open(fileobj=io.BytesIO(rootfs_tar(BUSYBOX))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        busybox = members["bin/busybox"]
        assert busybox.isreg()
        assert busybox.size == Path(BUSYBOX).stat().st_size
        assert busybox.mode & 0o111
        for applet in ("sh", "sleep", "ping", "ip"):
            link = members[f"bin/{applet}"]
            assert link.issym()
            assert link.linkname == "busybox"
        for directory in ("bin", "proc", "sys", "dev", "etc", "tmp"):
            assert members[directory].isdir()


def test_find_static_busybox_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = (str(tmp_path / "bin" / "busybox"), str(tmp_path / "usr" / "bin" / "busybox"))
    monkeypatch.setattr(images, "BUSYBOX_CANDIDATES", missing)
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    with pytest.raises(ImageError, match="busybox-static") as info:
        find_static_busybox()
    assert missing[0] in str(info.value)
    assert missing[1] in str(info.value)


def test_find_static_busybox_skips_dynamic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "BUSYBOX_CANDIDATES", ("/bin/ls",))
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    with pytest.raises(ImageError, match="/bin/ls"):
        find_static_busybox()


@needs_busybox
def test_find_static_busybox_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(images, "BUSYBOX_CANDIDATES", (str(tmp_path / "none"), BUSYBOX))
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    assert find_static_busybox() == BUSYBOX


@needs_busybox
def test_rootfs_tar_from_a_symlinked_busybox(tmp_path: Path) -> None:
    link = tmp_path / "busybox"
    link.symlink_to(BUSYBOX)
    with tarfile.open(fileobj=io.BytesIO(rootfs_tar(str(link)))) as tar:
        assert tar.getmember("bin/busybox").isreg()
