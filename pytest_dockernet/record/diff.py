"""``dockernet-diff BEFORE.json AFTER.json``: compare two records without running anything.

For CI artefacts: the record of the last green run on the old engine against the new one's.
Exit codes: 0 when every test observed the same (changes underneath are printed as
information), 1 when an observation differs or a test is on one side only, 2 for a file that
is not a record.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .records import RecordError, compare, engine_line, load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dockernet-diff",
        description="Compare two pytest-dockernet records (--dockernet-record files).",
    )
    parser.add_argument("before", help="the record made first (e.g. on the old engine)")
    parser.add_argument("after", help="the record to compare with it")
    args = parser.parse_args(argv)
    try:
        before, after = load(args.before), load(args.after)
    except RecordError as exc:
        print(f"dockernet-diff: {exc}", file=sys.stderr)
        return 2
    result = compare(before, after)
    old, new = engine_line(before.engine), engine_line(after.engine)
    print(f"before: {args.before}: {old}")
    print(f"after:  {args.after}: {new}")
    for node in sorted(result.diffs):
        diff = result.diffs[node]
        if diff.failing or diff.informing:
            print(f"\n{'DIFFERS' if diff.failing else 'same observations'}: {node}")
            print("\n".join(diff.text(old, new).splitlines()[2:]))
    for what, nodes in (
        ("only in before", result.only_before),
        ("only in after", result.only_after),
    ):
        for node in nodes:
            print(f"\n{what}: {node}")
    print(f"\n{result.summary()}")
    return 1 if result.failing or result.only_before or result.only_after else 0


if __name__ == "__main__":
    sys.exit(main())
