"""The documentation's Python examples, page by page: what runs as a test and what is shown.

A page's runnable examples are its fenced ``python`` blocks, joined in order into one test
file. A ``python`` block whose first line is ``# signatures`` lists API signatures and does
not run; a block that is not meant to run (a conftest.py, a fragment, output) uses another
fence language (``py``, ``text``, ``sh``). Used by tests/engine/test_docs_examples.py, which
runs each page's file against the engine, and tests/unit/test_docs_examples_compile.py.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIGNATURES = "# signatures"
# A fence may be indented (inside a list item); its closing fence has the same indentation.
PYTHON_BLOCK = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```[ \t]*$", re.M | re.S)
TEST_DEF = re.compile(r"^def (test_\w+)\(", re.M)


def pages() -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def runnable_blocks(page: Path) -> list[str]:
    """The page's ``python`` blocks that run, dedented, signatures blocks left out."""
    blocks = [textwrap.dedent(body) for _, body in PYTHON_BLOCK.findall(page.read_text())]
    return [b for b in blocks if not b.lstrip().startswith(SIGNATURES)]


def joined(page: Path) -> str:
    """The page's runnable blocks as one module, in the order the page shows them."""
    return "\n\n".join(runnable_blocks(page))


def defined_tests(source: str) -> list[str]:
    """The module-level ``def test_...`` of ``source``, in order (duplicates kept)."""
    return TEST_DEF.findall(source)


def example_pages() -> list[Path]:
    """The pages holding at least one runnable block."""
    return [page for page in pages() if runnable_blocks(page)]


def page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def module_name(page: Path) -> str:
    """A test module's name for the page: ``test_docs_guides_first_test`` for its file."""
    return "test_" + re.sub(r"\W+", "_", page_id(page).removesuffix(".md")).lower()
