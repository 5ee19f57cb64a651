"""``dockernet-diff BEFORE.json AFTER.json [--html OUT]``: compare two records without running
anything, in text, and with ``--html`` also as a page that draws each changed test's picture
with what changed on it (:mod:`pytest_dockernet.report.changes`).

For CI artefacts: the record of the last green run on the old engine against the new one's.
Exit codes: 0 when every test observed the same (changes underneath are printed as
information), 1 when an observation differs or a test is on one side only, 2 for a file that
is not a record, or ``--html`` without Graphviz's ``dot``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import graphviz

from ..record.records import Comparison, Record, RecordError, compare, engine_line, load
from . import page, picture
from .changes import changed_probes


def _changed(result: Comparison, old: str, new: str) -> list[tuple[str, str]]:
    """Each test that changed, with the lines the terminal prints for it."""
    found = []
    for node in sorted(result.diffs):
        diff = result.diffs[node]
        if diff.failing or diff.informing:
            heading = "DIFFERS" if diff.failing else "same observations"
            lines = diff.text(old, new).splitlines()[2:]
            found.append((node, "\n".join([f"{heading}: {node}", *lines])))
    found += [(node, f"only in before: {node}") for node in result.only_before]
    found += [(node, f"only in after: {node}") for node in result.only_after]
    return found


def _html(before: Record, after: Record, changed: list[tuple[str, str]]) -> list[str | None]:
    """Each changed test's picture: the newer record's outline (the older one's for a test
    it alone ran) with the probes of both records marked; None without an outline."""
    graphs = {}
    for node, _ in changed:
        outline = after.outlines.get(node) or before.outlines.get(node)
        if outline is not None:
            probes = changed_probes(before.tests.get(node, []), after.tests.get(node, []))
            graphs[node] = picture.graph(outline, probes)
    drawn = dict(zip(graphs, picture.svg(list(graphs.values())), strict=True))
    return [drawn.get(node) for node, _ in changed]


def main(argv: Sequence[str] | None = None) -> int:
    """The command's entry point; returns its exit code.

    Example::

        main(["before.json", "after.json", "--html", "diff.html"])  # 1: an observation differs
    """
    parser = argparse.ArgumentParser(
        prog="dockernet-diff",
        description="Compare two pytest-dockernet records (--dockernet-record files).",
    )
    parser.add_argument("before", help="the record made first (e.g. on the old engine)")
    parser.add_argument("after", help="the record to compare with it")
    parser.add_argument(
        "--html",
        metavar="OUT",
        help="also write OUT, one HTML page drawing each changed test (needs Graphviz's dot)",
    )
    args = parser.parse_args(argv)
    if args.html is not None:
        try:
            graphviz.version()
        except graphviz.ExecutableNotFound:
            print(f"dockernet-diff: {picture.without_dot('--html')}", file=sys.stderr)
            return 2
    try:
        before, after = load(args.before), load(args.after)
    except RecordError as exc:
        print(f"dockernet-diff: {exc}", file=sys.stderr)
        return 2
    result = compare(before, after)
    old, new = engine_line(before.engine), engine_line(after.engine)
    heading = [f"before: {args.before}: {old}", f"after:  {args.after}: {new}"]
    changed = _changed(result, old, new)
    print("\n".join(heading))
    for _, text in changed:
        print(f"\n{text}")
    print(f"\n{result.summary()}")
    if args.html is not None:
        drawings = _html(before, after, changed)
        tests = [(node, text, d) for (node, text), d in zip(changed, drawings, strict=True)]
        Path(args.html).write_text(page.diff_page(heading, tests, result.summary()), "utf-8")
        print(f"dockernet-diff: the page is {Path(args.html).resolve().as_uri()}")
    return 1 if result.failing or result.only_before or result.only_after else 0


if __name__ == "__main__":
    sys.exit(main())
