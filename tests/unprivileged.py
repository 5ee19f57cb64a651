"""Running code as an unprivileged user, wherever the checkout lies.

A checkout inside a directory of mode 0700 (``mktemp -d`` makes one; so does a home directory
on a recent Debian) cannot be read by uid 65534. The child therefore runs in a private mount
namespace, where the checkout and the interpreter's environment are bind-mounted under a
directory anyone may traverse; the mounts vanish with the child, and the host sees none.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

REPORT = """
import json, os, sys
caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff:')][0]
try:
    exec(sys.argv[1])
except Exception as exc:
    print(json.dumps([os.geteuid(), int(caps, 16), type(exc).__name__, str(exc)]))
else:
    print(json.dumps([os.geteuid(), int(caps, 16), 'no error', '']))
"""


def _inside(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        return None


def run_unprivileged(code: str) -> tuple[int, int, str, str]:
    """Run ``code`` as uid 65534 with no capabilities (setpriv drops them all at exec).

    Returns (uid, effective capabilities, exception class name, message) as the child saw
    them, so a test proves the code really ran without privileges.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to an unprivileged user")
    for tool in ("setpriv", "unshare", "mount"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} (util-linux) is needed to run code without privileges")
    prefix = Path(sys.prefix)
    executable = Path(sys.executable)
    with tempfile.TemporaryDirectory(prefix="dockernet-view-") as view:
        os.chmod(view, 0o755)
        mounts = [(REPO, Path(view, "repo"))]
        if _inside(prefix, REPO) is None:
            mounts.append((prefix, Path(view, "prefix")))
        for _, target in mounts:
            target.mkdir()
        python = str(executable)
        for source, target in mounts:
            rest = _inside(executable, source)
            if rest is not None:
                python = str(target / rest)
                break
        binds = " && ".join(
            f"mount --bind {shlex.quote(str(s))} {shlex.quote(str(t))}" for s, t in mounts
        )
        drop = shlex.join(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                python,
                "-c",
                REPORT,
                code,
            ]
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "PYTHONPATH": str(mounts[0][1]),
        }
        proc = subprocess.run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                f"{binds} && exec {drop}",
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
