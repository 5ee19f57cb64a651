"""Without an engine: the documentation's examples compile, and every name they use is bound.

tests/engine/test_docs_examples.py runs each page's examples against the engine; these checks
fail first, and anywhere, on what would break that run before a test starts: a syntax error, a
name imported on another page (each page's blocks are a file of their own), an import that
does not exist, two tests of one page under the same name (one would hide the other).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import symtable
from pathlib import Path

import pytest

from tests.docs_examples import (
    defined_tests,
    example_pages,
    joined,
    page_id,
)

PAGES = example_pages()

# The examples the README ran before the manual moved to docs/: each still runs somewhere.
FORMER_README_TESTS = {
    "test_seed",
    "test_router",
    "test_natural",
    "test_service_port",
    "test_published_ports",
    "test_names",
    "test_mesh",
    "test_probe_in_my_network",
    "test_compose_stack",
    "test_testinfra_on_a_container",
}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_examples_compile_with_one_test_name_each(page: Path) -> None:
    source = joined(page)
    compile(source, page_id(page), "exec")
    names = defined_tests(source)
    assert names, f"{page_id(page)}: python blocks but no test; use another fence language"
    assert len(names) == len(set(names)), f"{page_id(page)}: a test name twice: {names}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_name_an_example_uses_is_bound_on_its_page(page: Path) -> None:
    source = joined(page)
    module = symtable.symtable(source, page_id(page), "exec")
    bound = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    fixtures = {"dockernet", "dockernet_session", "dockernet_compose", "tmp_path"}
    unbound: set[str] = set()
    todo = list(module.get_children())
    while todo:
        table = todo.pop()
        todo.extend(table.get_children())
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if symbol.is_global() and name not in bound and not hasattr(builtins, name):
                unbound.add(name)
    assert not unbound - fixtures, f"{page_id(page)}: not imported or defined on the page"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_import_of_an_example_resolves(page: Path) -> None:
    for node in ast.walk(ast.parse(joined(page))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert importlib.util.find_spec(alias.name), f"{page_id(page)}: {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{page_id(page)}: {node.module}.{alias.name}"


def test_the_readme_examples_still_run_somewhere() -> None:
    everywhere = {name for page in PAGES for name in defined_tests(joined(page))}
    assert everywhere >= FORMER_README_TESTS, FORMER_README_TESTS - everywhere
