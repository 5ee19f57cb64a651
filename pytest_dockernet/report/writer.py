"""``--dockernet-report DIR``: the pytest plugin object that writes ``DIR/index.html``.

Registered by :mod:`pytest_dockernet.plugin` when the option is set. Each test's report
carries its entry (``dockernet_report``: topology, probes, traced paths, failure text) as plain
data, so that under pytest-xdist the controller receives every worker's entries with the
reports themselves and writes one page for the run; ``dot`` draws every picture in one run at
the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import graphviz
import pytest

from ..model import Registry
from ..record.observations import Recorder, recording
from . import page, picture, snapshot

_RECORDER = pytest.StashKey[Recorder]()
INSTALL = "apt-get install graphviz (Debian, Ubuntu), dnf install graphviz, brew install graphviz"


def check_dot() -> str:
    """The version of Graphviz's ``dot``; a UsageError naming the install command without it.

    Example::

        check_dot()  # '2.42.2'
    """
    try:
        return ".".join(map(str, graphviz.version()))
    except graphviz.ExecutableNotFound:
        raise pytest.UsageError(
            "--dockernet-report draws with Graphviz's dot, which is not on PATH: install it "
            f"({INSTALL}), or leave out --dockernet-report"
        ) from None


class ReportWriter:
    """Collects each test's entry and writes the page when the run ends.

    Example::

        config.pluginmanager.register(ReportWriter("report", held, engine), "dockernet-report")
    """

    def __init__(
        self,
        directory: str,
        held: Callable[[pytest.Item], Sequence[Registry]],
        engine: Callable[[], str],
    ) -> None:
        check_dot()
        self.path = Path(directory) / "index.html"
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
            report.dockernet_report = {  # type: ignore[attr-defined]  # carried by xdist
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
            }
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = getattr(report, "dockernet_report", None)
        if entry is not None:
            self.entries.append(entry)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes
            return
        drawn = [e for e in self.entries if e["topology"]["networks"] or e["probes"]]
        pictures = picture.svg([picture.graph(e["topology"], e["probes"]) for e in drawn])
        drawings = dict(zip((e["nodeid"] for e in drawn), pictures, strict=True))
        shown = [drawings.get(e["nodeid"]) for e in self.entries]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(page.page(self.entries, shown, self.engine()), encoding="utf-8")
        self.written = True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.written:
            terminalreporter.write_sep("-", f"dockernet report: {self.path.resolve().as_uri()}")
