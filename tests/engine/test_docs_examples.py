"""The documentation's examples are real tests: each page's runs as written.

Every ``python`` block of README.md and of each page under docs/ (the signatures blocks
aside) is joined, page by page, into one test file, run with pytester against the engine:
each of its ``def test_`` must pass, and nothing may fail, error or skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_examples import defined_tests, example_pages, joined, module_name, page_id


@pytest.mark.serial  # the seed's fixed subnets, as in examples/
@pytest.mark.parametrize("page", example_pages(), ids=page_id)
def test_docs_examples_run(pytester: pytest.Pytester, page: Path) -> None:
    source = joined(page)
    pytester.makepyfile(**{module_name(page): source})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(defined_tests(source)))
