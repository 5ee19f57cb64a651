"""The report's HTML: one self-contained file (styles inline, pictures as inline SVG, no
script or font fetched from anywhere), a summary of the run, then one section per test."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#1f2328}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:2px 8px}
span.passed,td.passed{color:#1a7f37}span.failed,td.failed,span.error,td.error{color:#cf222e}
span.skipped,td.skipped{color:#6e7781}
section{border-top:1px solid #d0d7de;margin-top:2em}
pre{background:#f6f8fa;padding:.8em;overflow:auto;white-space:pre-wrap}
td.yes{background:#dafbe1}td.no{background:#eaeef2}td.bad{background:#ffebe9;font-weight:bold}
svg{max-width:100%;height:auto}
"""


def _grid(title: str, probes: Sequence[Mapping[str, Any]]) -> str:
    """A reachability matrix as a coloured grid: rows are sources, columns destinations."""
    names = list(dict.fromkeys(n for p in probes for n in (p["source"], p["target"])))
    cells = {(p["source"], p["target"]): p for p in probes}
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for src in names:
        row = []
        for dst in names:
            p = cells.get((src, dst))
            if p is None:
                row.append("<td></td>")
                continue
            css = "bad" if p["failed"] else "yes" if p["answered"] else "no"
            text = "ok" if p["answered"] else "--"
            want = "answer" if p["expected"] else "no answer"
            row.append(f'<td class="{css}" title="expected {want}">{text}</td>')
        rows.append(f"<tr><th>{html.escape(src)}</th>{''.join(row)}</tr>")
    return (
        f"<table class='matrix'><caption>{html.escape(title)}</caption>"
        f"<tr><th>src \\ dst</th>{head}</tr>{''.join(rows)}</table>"
    )


def drawn(entry: Mapping[str, Any], drawing: str | None) -> str:
    """A test's picture and its reachability matrices as coloured grids: its part of the page,
    and what goes into its row of a pytest-html report.

    Example::

        drawn({"probes": [], ...}, "<svg ...>")  # '<div class="picture"><svg ...'
    """
    parts = [] if drawing is None else [f'<div class="picture">{drawing}</div>']
    matrices: dict[str, list[Mapping[str, Any]]] = {}
    for p in entry["probes"]:
        if p["kind"] == "assert_reachability":
            matrices.setdefault(p["detail"], []).append(p)
    parts += [_grid(f"reachability ({how})", found) for how, found in matrices.items()]
    return "\n".join(parts)


def section(entry: Mapping[str, Any], drawing: str | None) -> str:
    """One test's part of the page: outcome, picture, matrices, traced paths, failure.

    Example::

        section({"nodeid": "t.py::test_a", "outcome": "passed", ...}, "<svg ...>")
    """
    nodeid, outcome = entry["nodeid"], entry["outcome"]
    parts = [
        f'<section id="{html.escape(nodeid, quote=True)}" class="test" data-outcome="{outcome}">',
        f'<h2><span class="{outcome}">{outcome}</span> {html.escape(nodeid)}</h2>',
    ]
    if entry.get("changes"):
        parts.append(
            "<p>What changed since the record (<code>--dockernet-compare</code>), marked on the "
            f"picture:</p><pre class='diff'>{html.escape(entry['changes'])}</pre>"
        )
    parts.append(drawn(entry, drawing))
    for path in entry["paths"]:
        hops = "".join(
            f"<li>{html.escape(h)}</li>" for h in [*path["request"], "(reply)", *path["reply"]]
        )
        parts.append(
            f"<div class='path'><h3>{html.escape(path['subject'])}</h3><ol>{hops}</ol></div>"
        )
    if entry["message"]:
        parts.append(f"<pre class='message'>{html.escape(entry['message'])}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n{body}\n"
        "</body></html>\n"
    )


def diff_page(
    heading: Sequence[str],
    tests: Sequence[tuple[str, str, str | None]],
    summary: str,
) -> str:
    """Two records compared: the ``heading`` lines (which records, which engines), then for
    each test that changed its node id, the text diff and its picture with the changed probes
    marked (None for a test whose records hold no outline), then the ``summary``.

    Example::

        diff_page(["before: old.json: Docker 26.1.5"], [(node, text, "<svg ...")], summary)
    """
    head = "".join(f"<p class='records'>{html.escape(line)}</p>" for line in heading)
    sections = "\n".join(
        f'<section id="{html.escape(node, quote=True)}" class="test changed">'
        f"<h2>{html.escape(node)}</h2><pre class='diff'>{html.escape(text)}</pre>"
        + ("" if drawing is None else f'<div class="picture">{drawing}</div>')
        + "</section>"
        for node, text, drawing in tests
    )
    return _document(
        "pytest-dockernet: two records compared",
        f"{head}<p class='summary'>{html.escape(summary)}</p>\n{sections}",
    )


def page(entries: Sequence[Mapping[str, Any]], drawings: Sequence[str | None], engine: str) -> str:
    """The whole report: a summary table of the run, then each test's section.

    Example::

        Path("report/index.html").write_text(page(entries, drawings, "Docker 28.5.2, ..."))
    """
    counts = Counter(e["outcome"] for e in entries)
    summary = ", ".join(f'<span class="{k}">{v} {k}</span>' for k, v in sorted(counts.items()))
    rows = "".join(
        f'<tr><td class="{e["outcome"]}">{e["outcome"]}</td>'
        f'<td><a href="#{html.escape(e["nodeid"], quote=True)}">{html.escape(e["nodeid"])}</a>'
        f"</td><td>{len(e['topology']['networks'])}</td>"
        f"<td>{len(e['topology']['containers'])}</td><td>{len(e['probes'])}</td>"
        f"<td>{sum(p['failed'] for p in e['probes'])}</td></tr>"
        for e in entries
    )
    sections = "\n".join(section(e, d) for e, d in zip(entries, drawings, strict=True))
    return _document(
        "pytest-dockernet report",
        f"<p class='engine'>{html.escape(engine)}</p><p class='counts'>{summary}</p>\n"
        "<table class='summary'><tr><th>outcome</th><th>test</th><th>networks</th>"
        f"<th>containers</th><th>probes</th><th>failed probes</th></tr>{rows}</table>\n"
        f"{sections}",
    )
