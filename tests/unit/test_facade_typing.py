"""mypy --strict checks calls of DockerNet's methods against the resource functions they bind:
a misspelt keyword or a wrong type is an error, not a ``**kwargs`` that swallows it."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = """
import docker
from pytest_dockernet import DockerNet

dn = DockerNet(docker.from_env())
net = dn.network("a", subnet="10.0.0.0/24")
dn.router("r", [net], sysctls={"net.ipv4.conf.all.rp_filter": "0"})
dn.network("a", subnt="x")
dn.router("r", [net], cap_ad=["X"])
dn.container("c", [net], image=3)
"""


def test_mypy_rejects_a_misspelt_or_mistyped_argument(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "calls.py"
    snippet.write_text(SNIPPET)
    out, _, status = api.run(["--strict", "--no-incremental", "--no-error-summary", str(snippet)])
    errors = [line.split(": error: ")[1] for line in out.splitlines() if ": error: " in line]
    assert errors == [
        'Unexpected keyword argument "subnt"; did you mean "subnet" or "subnet6"?  [call-arg]',
        'Unexpected keyword argument "cap_ad"; did you mean "cap_add"?  [call-arg]',
        'Argument "image" has incompatible type "int"; expected "str | None"  [arg-type]',
    ], out
    assert status == 1
