"""The README's example is a real test: it runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.serial  # the seed's fixed subnets, as in examples/
def test_readme_example_runs(pytester):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README lost its python example"
    pytester.makepyfile(test_readme="\n\n".join(blocks))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=10)
