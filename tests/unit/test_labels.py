"""Pure tests of names, run identity labels and liveness in ``engine/labels.py``."""

from __future__ import annotations

import io
import os
import re
import socket

import pytest

from pytest_dockernet.engine import labels
from pytest_dockernet.engine.labels import RunIdentity, check_name, is_alive, process_start_ticks

NO_SUCH_PID = 2**22 + 12345  # above the kernel's PID_MAX_LIMIT (2**22)

# --- check_name ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "web", "Web-1", "db_2.internal", "9lives", "a" * 41])
def test_check_name_accepts(name: str) -> None:
    assert check_name(name, "container") == name


@pytest.mark.parametrize("name", ["", "a b", "-x", ".x", "_x", "a/b", "é", "a" * 42])
def test_check_name_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="is not usable") as info:
        check_name(name, "network")
    assert str(info.value).startswith(f"network name {name!r} ")


def test_check_name_rejects_trailing_newline() -> None:
    with pytest.raises(ValueError, match="is not usable"):
        check_name("web\n", "container")


def test_check_name_non_str() -> None:
    with pytest.raises(TypeError, match=r"container name must be a str, got int: 42$"):
        check_name(42, "container")


# --- RunIdentity ---------------------------------------------------------------------------


def test_run_identity_current_labels() -> None:
    me = RunIdentity.current()
    assert re.fullmatch("[0-9a-f]{8}", me.run_id), me.run_id  # 8 lowercase hex digits, exactly
    assert me.pid == os.getpid()
    assert me.host == socket.gethostname()
    assert me.started == process_start_ticks(os.getpid()) != ""
    assert me.labels("web") == {
        "pytest-dockernet.session": me.run_id,
        "pytest-dockernet.host": socket.gethostname(),
        "pytest-dockernet.pid": str(os.getpid()),
        "pytest-dockernet.started": me.started,
        "pytest-dockernet.name": "web",
    }
    assert labels.SESSION == "pytest-dockernet.session"


def test_run_ids_differ() -> None:
    ids = [RunIdentity.current().run_id for _ in range(50)]
    # 32 random bits each: a clash among 50 is about a 1 in 3.5 million event.
    assert len(set(ids)) == len(ids), ids
    first, second = RunIdentity.current(), RunIdentity.current()
    assert first != second
    assert first.labels("web")[labels.SESSION] != second.labels("web")[labels.SESSION]
    assert first.docker_name("web") != second.docker_name("web")


def test_docker_name() -> None:
    me = RunIdentity("c0ffee12", "box", 1, "100")
    assert me.docker_name("web") == "dn-c0ffee12-web"


# --- process_start_ticks -------------------------------------------------------------------


def test_process_start_ticks_of_ourselves() -> None:
    ticks = process_start_ticks(os.getpid())
    assert ticks.isdigit()
    assert process_start_ticks(os.getpid()) == ticks


def test_process_start_ticks_reads_field_22_after_odd_command_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Field 2 (comm) may hold spaces and ")"; field 22 (starttime) is the 20th after it.
    stat = "77 (a) b (c)) S " + " ".join(str(n) for n in range(4, 53)) + "\n"
    monkeypatch.setattr(labels, "open", lambda *a, **k: io.StringIO(stat), raising=False)
    assert process_start_ticks(77) == "22"


def test_process_start_ticks_of_missing_process() -> None:
    assert process_start_ticks(NO_SUCH_PID) == ""


# --- is_alive ------------------------------------------------------------------------------

HOST = socket.gethostname()


@pytest.mark.parametrize(
    ("host", "pid", "started", "alive"),
    [
        (HOST, str(os.getpid()), process_start_ticks(os.getpid()), True),
        (HOST, str(os.getpid()), "", True),  # no start time recorded: pid alone decides
        (HOST, str(NO_SUCH_PID), "12345", False),
        (HOST, str(os.getpid()), "1", False),  # pid reused by another process
        ("some-other-host", str(NO_SUCH_PID), "1", True),  # cannot tell: keep it
        (HOST, "not-a-pid", "1", True),
        (HOST, "", "", True),
    ],
    ids=[
        "ourselves",
        "no-start-time",
        "dead-pid",
        "reused-pid",
        "other-host",
        "garbage-pid",
        "no-pid",
    ],
)
def test_is_alive(host: str, pid: str, started: str, alive: bool) -> None:
    assert is_alive(host, pid, started) is alive
