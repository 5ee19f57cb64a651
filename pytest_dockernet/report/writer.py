"""``--dockernet-report DIR``: the pytest plugin object that writes ``DIR/index.html``, and
puts each test's picture into its row of a pytest-html report (``--html``).

Registered by :mod:`pytest_dockernet.plugin` when either is asked for. Each test's report
carries its entry (``dockernet_report``: topology, probes, traced paths, failure text) as plain
data, so that under pytest-xdist the controller receives every worker's entries with the
reports themselves and writes one page for the run; ``dot`` draws every picture in one run at
the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import graphviz
import pytest

from ..model import Registry
from ..record import snapshot
from ..record.observations import Recorder, recording
from . import page, picture
from .changes import changed_probes

_RECORDER = pytest.StashKey[Recorder]()


def check_dot() -> str:
    """The version of Graphviz's ``dot``; a UsageError naming the install command without it.

    Example::

        check_dot()  # '2.42.2'
    """
    try:
        return ".".join(map(str, graphviz.version()))
    except graphviz.ExecutableNotFound:
        raise pytest.UsageError(picture.without_dot("--dockernet-report")) from None


def _drawable(entry: Mapping[str, Any]) -> bool:
    """Whether a test's entry has anything to draw: a network, or a probe."""
    return bool(entry["topology"]["networks"] or entry["probes"])


class ReportWriter:
    """Collects each test's entry and writes the page when the run ends; with ``html_extras``
    (pytest-html writes a report), also puts each test's picture and matrices into its row.

    Example::

        config.pluginmanager.register(ReportWriter("report", held, engine), "dockernet-report")
    """

    def __init__(
        self,
        directory: str | None,
        held: Callable[[pytest.Item], Sequence[Registry]],
        engine: Callable[[], str],
        html_extras: bool = False,
        baseline: Callable[[str], Sequence[Mapping[str, Any]] | None] = lambda nodeid: None,
    ) -> None:
        check_dot()
        self.baseline = baseline
        """A compared run's record of a test (``--dockernet-compare``): a test whose probes
        changed since then is drawn with the changes marked (:mod:`.changes`)."""
        self.path = None if directory is None else Path(directory) / "index.html"
        self.html_extras = html_extras
        self.held = held
        self.engine = engine
        self.entries: list[dict[str, Any]] = []
        self.written = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with recording(Recorder(context=False)) as recorder:
            item.stash[_RECORDER] = recorder
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "call" or (call.when == "setup" and not report.passed):
            recorder = item.stash.get(_RECORDER, None)
            found = recorder.observations if recorder is not None else []
            entry: dict[str, Any] = {
                "nodeid": item.nodeid,
                "outcome": "error" if call.when == "setup" and report.failed else report.outcome,
                "topology": snapshot.topology(self.held(item)),
                "probes": snapshot.probes(recorder.probes if recorder is not None else []),
                "paths": [
                    {"subject": o["subject"], **{k: o["facts"][k] for k in ("request", "reply")}}
                    for o in found
                    if o["kind"] == "assert_path"
                ],
                "message": report.longreprtext if report.failed else "",
                "changes": "",
            }
            before = self.baseline(item.nodeid)
            marked = [] if before is None else changed_probes(before, found)
            if any(p["change"] for p in marked):
                # the probes this run made come first, in the order they were made: each
                # keeps what the plugin found of its fate
                live = recorder.probes if recorder is not None else []
                for probe, made in zip(marked, live, strict=False):
                    probe["why"] = made.why
                entry["probes"] = marked
                entry["changes"] = "\n".join(
                    text for name, text in report.sections if name == "dockernet compare"
                )
            if self.path is not None:
                report.dockernet_report = entry  # type: ignore[attr-defined]  # xdist carries it
            if self.html_extras and _drawable(entry):
                [drawing] = picture.svg([picture.graph(entry["topology"], entry["probes"])])
                extra = {  # pytest_html.extras.html(), without importing pytest-html
                    "name": "dockernet",
                    "format_type": "html",
                    "content": page.drawn(entry, drawing),
                    "mime_type": None,
                    "extension": None,
                }
                report.extras = [*getattr(report, "extras", []), extra]  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = getattr(report, "dockernet_report", None)
        if entry is not None:
            self.entries.append(entry)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.path is None or hasattr(session.config, "workerinput"):  # xdist: the controller
            return
        drawn = [e for e in self.entries if _drawable(e)]
        pictures = picture.svg([picture.graph(e["topology"], e["probes"]) for e in drawn])
        drawings = dict(zip((e["nodeid"] for e in drawn), pictures, strict=True))
        shown = [drawings.get(e["nodeid"]) for e in self.entries]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(page.page(self.entries, shown, self.engine()), encoding="utf-8")
        self.written = True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.written and self.path is not None:
            terminalreporter.write_sep("-", f"dockernet report: {self.path.resolve().as_uri()}")
