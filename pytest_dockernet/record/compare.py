"""``--dockernet-record`` and ``--dockernet-compare``: one record for the whole run, and each
test compared with the record as it ends.

A plain pytest plugin object, registered by :mod:`pytest_dockernet.plugin` when either option
is set. Under pytest-xdist each worker keeps the observations of its tests and hands them to
the controller at its end (``workeroutput``), which writes the one record and sums the
comparison.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator
from typing import Any

import pytest

from ..engine.client import connect, ipv6_bridges
from ..errors import DockernetError
from ..model import Registry
from ..observe.engine_facts import EngineFacts, engine_facts
from .observations import Recorder, recording
from .records import Record, RecordError, compare_test, engine_line, load
from .snapshot import outline, topology

_OUTPUT = "dockernet_record"


def current_engine(known: EngineFacts | None = None) -> dict[str, str]:
    """The engine's facts as a record holds them (``summary`` is the line a diff shows): those
    already ``known`` (the report header read them), else read now."""
    facts = known
    if facts is None:
        try:
            client = connect()
            facts = engine_facts(client.info(), ipv6_bridges(client))
        except DockernetError as exc:
            return {"summary": f"(no engine: {str(exc).splitlines()[0]})"}
    return {**dataclasses.asdict(facts), "summary": str(facts)}


class RecordCompare:
    def __init__(
        self,
        config: pytest.Config,
        record: str | None,
        compare: str | None,
        registries: Callable[[], list[Registry]],
        known_engine: Callable[[], EngineFacts | None] = lambda: None,
    ) -> None:
        self.config = config
        self.record_path = record
        self.registries = registries
        self.known_engine = known_engine
        self.run = Record()
        self.baseline: Record | None = None
        if compare is not None:
            try:
                self.baseline = load(compare)
            except RecordError as exc:
                raise pytest.UsageError(f"--dockernet-compare: {exc}") from None
        self.compared = 0
        self.differing: dict[str, int] = {}
        self.informing: dict[str, str] = {}
        """Tests whose facts are the same but whose rules changed: what changed, by node."""
        self._engine: dict[str, str] | None = None

    def engine(self) -> dict[str, str]:
        if self._engine is None:
            self._engine = current_engine(self.known_engine())
        return self._engine

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with recording(Recorder(registries=self.registries())) as recorder:
            try:
                return (yield)
            finally:
                self.run.tests[item.nodeid] = recorder.observations
                self.run.outlines[item.nodeid] = outline(topology(recorder.registries))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        baseline = self.baseline
        if call.when != "call" or baseline is None or item.nodeid not in baseline.tests:
            return report
        diff = compare_test(baseline.tests[item.nodeid], self.run.tests.get(item.nodeid, []))
        self.compared += diff.compared
        if not (diff.failing or diff.informing):
            return report
        text = diff.text(engine_line(baseline.engine), engine_line(self.engine()))
        if diff.failing:
            self.differing[item.nodeid] = len(diff.failing)
            if report.passed:
                report.outcome = "failed"
                report.longrepr = f"dockernet compare: what this test observed changed\n{text}"
                return report
        else:
            self.informing[item.nodeid] = "\n".join(text.splitlines()[3:])
        report.sections.append(("dockernet compare", text))
        return report

    # -- the whole run --------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "tests": self.run.tests,
            "outlines": self.run.outlines,
            "compared": self.compared,
            "differing": self.differing,
            "informing": self.informing,
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller: take a finished worker's observations and counts."""
        state = json.loads(getattr(node, "workeroutput", {}).get(_OUTPUT, "null") or "null")
        if state is None:
            return
        self.run.tests.update(state["tests"])
        self.run.outlines.update(state["outlines"])
        self.compared += state["compared"]
        self.differing.update(state["differing"])
        self.informing.update(state["informing"])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the record
            workeroutput[_OUTPUT] = json.dumps(self._state())
            return
        if self.record_path is not None:
            self.run.engine = self.engine()
            self.run.save(self.record_path)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write = terminalreporter.write_line
        if self.record_path is not None:
            terminalreporter.write_sep("-", "dockernet record")
            write(
                f"{self.run.observations()} observations of {len(self.run.tests)} tests "
                f"written to {self.record_path} ({engine_line(self.run.engine)})"
            )
        baseline = self.baseline
        if baseline is None:
            return
        terminalreporter.write_sep("-", "dockernet compare")
        write(f"record: {engine_line(baseline.engine)}")
        write(f"now:    {engine_line(self.engine())}")
        write(
            f"{self.compared} observations compared: {sum(self.differing.values())} differ, in "
            f"{len(self.differing)} tests (failed); {len(self.informing)} tests changed only "
            "underneath (information)"
        )
        for node, changed in sorted(self.informing.items()):
            write(f"changed underneath: {node}")
            write(changed)
        ran = set(self.run.tests)
        for what, nodes in (
            ("in the record, not run now", sorted(set(baseline.tests) - ran)),
            ("run now, not in the record", sorted(ran - set(baseline.tests))),
        ):
            if nodes:
                write(f"{len(nodes)} tests {what}:")
                for node in nodes:
                    write(f"    {node}")
