"""The pytest entry point: options, the engine check, and thin fixtures over DockerNet.

Every side effect of the plugin starts here, in a hook or a fixture, never in a constructor:
the engine is first touched when a test asks for a fixture (so ``--collect-only`` and tests
that use none touch nothing), and that is when the sweep of dead runs happens and SIGTERM is
turned into the Ctrl-C path.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from .engine.client import connect, ipv6_bridges
from .engine.teardown import Removal, interrupt_on_sigterm, sweep
from .errors import DockernetError
from .model import Container, Registry
from .observe.engine_facts import EngineFacts, engine_facts
from .record.compare import RecordCompare, current_engine
from .report.writer import ReportWriter
from .settings import Settings, add_options
from .topology import ComposeProject, DockerNet
from .topology.factory import DockerNetFactory
from .topology.networks import routable_summary

SETTINGS = pytest.StashKey[Settings]()
FACTORY = pytest.StashKey[DockerNetFactory]()
SWEPT = pytest.StashKey[Removal]()
UNDO_SIGTERM = pytest.StashKey[Callable[[], None]]()
USED = pytest.StashKey[DockerNet]()
ENGINE = pytest.StashKey[EngineFacts]()
"""The engine's facts as the report header read them, for a record to reuse."""


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash[SETTINGS] = Settings.from_config(config)
    compared: RecordCompare | None = None
    if settings.record or settings.compare:

        def registries() -> list[Registry]:
            factory = config.stash.get(FACTORY, None)
            return factory.open_registries() if factory is not None else []

        def known_engine() -> EngineFacts | None:
            return config.stash.get(ENGINE, None)

        compared = RecordCompare(
            config, settings.record, settings.compare, registries, known_engine
        )
        config.pluginmanager.register(compared, "dockernet-record-compare")
    html_extras = bool(config.getoption("htmlpath", None))  # pytest-html writes a report
    if settings.report or html_extras:

        def baseline(nodeid: str) -> list[dict[str, Any]] | None:
            record = None if compared is None else compared.baseline
            return None if record is None else record.tests.get(nodeid)

        def engine_line() -> str:
            return f"dockernet engine: {current_engine(config.stash.get(ENGINE, None))['summary']}"

        config.pluginmanager.register(
            ReportWriter(
                settings.report,
                lambda item: _held(config, item),
                engine_line,
                html_extras,
                baseline,
            ),
            "dockernet-report",
        )


def _held(config: pytest.Config, item: pytest.Item) -> list[Registry]:
    """What a test's picture shows: its own DockerNet, and the session's if it used that."""
    factory = config.stash.get(FACTORY, None)
    own = item.stash.get(USED, None)
    if factory is None:
        return []
    shared = "dockernet_session" in getattr(item, "fixturenames", ())
    return [
        r for r in factory.open_registries() if shared or (own is not None and r is own.registry)
    ]


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--dockernet-sweep``: remove what dead runs left, say what, and run no tests."""
    if not Settings.from_config(config).sweep:  # runs before pytest_configure
        return None
    try:
        report = sweep(connect())
    except DockernetError as exc:
        print(f"pytest-dockernet: {exc}")
        return int(pytest.ExitCode.USAGE_ERROR)
    print(f"pytest-dockernet sweep: {report}")
    return 0 if not report.failed else 1  # stuck networks (moby#42119) are Docker's, not ours


def _factory(request: pytest.FixtureRequest) -> DockerNetFactory:
    """The run's factory, made when a test first needs it.

    Without an engine the test errors with the reason, no traceback, and the run stops there
    (under xdist too, where a worker cannot end the whole session).
    """
    config = request.config
    if FACTORY in config.stash:
        return config.stash[FACTORY]
    try:
        factory = DockerNetFactory(connect(), config.stash[SETTINGS])
        factory.check_image()
        config.stash[SWEPT] = sweep(factory.client)
    except DockernetError as exc:
        reason = str(exc)
    else:
        config.stash[UNDO_SIGTERM] = interrupt_on_sigterm()
        config.stash[FACTORY] = factory
        return factory
    request.session.shouldstop = f"pytest-dockernet: {reason.splitlines()[0]}"
    pytest.fail(f"pytest-dockernet: {reason}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The settings, and the engine the run will see (not asked when only collecting)."""
    settings = config.stash[SETTINGS]
    lines = [
        f"dockernet: image={settings.image or 'built-in busybox'} pool={settings.pool}/"
        f"{settings.prefix} keep={settings.keep}"
    ]
    if config.option.collectonly:
        return lines
    try:
        client = connect()
        info = client.info()
    except DockernetError as exc:
        return [*lines, f"dockernet engine: none ({str(exc).splitlines()[0]})"]
    facts = config.stash[ENGINE] = engine_facts(info, ipv6_bridges(client))
    lines.append(f"dockernet engine: {facts}")
    lines.append(f"dockernet: {routable_summary()}")
    return lines


@pytest.fixture(scope="session")
def dockernet_factory(request: pytest.FixtureRequest) -> DockerNetFactory:
    """The run's factory of DockerNets (engine client, run id, settings).

    Example:
        ```python
        def test_two_topologies(dockernet_factory):
            with dockernet_factory.new("extra") as other:  # removed at the end of the block
                net = other.network("lan")
        ```
    """
    return _factory(request)


def _handed_out(factory: DockerNetFactory, dn: DockerNet) -> Iterator[DockerNet]:
    """Yield ``dn``; then have it removed in the background, and raise the error of a start
    the test never saw (a container it asked for and never used)."""
    unseen: list[BaseException] = []
    try:
        yield dn
        unseen = dn.start_errors()
    finally:
        factory.close(dn)
    if unseen:
        raise unseen[0]


@pytest.fixture
def dockernet(
    dockernet_factory: DockerNetFactory, request: pytest.FixtureRequest
) -> Iterator[DockerNet]:
    """Networks and containers for one test, removed when it ends, whatever its outcome.

    Removal runs in the background while the next test runs, and the run waits for all of it
    before it exits. A failed test's report carries a ``dockernet topology`` section.

    Example:
        ```python
        def test_lan(dockernet):
            net = dockernet.network("lan")
            c1 = dockernet.container("c1", [net])
            c2 = dockernet.container("c2", [net])
            assert_reachable(c1, c2)
        ```
    """
    dn = dockernet_factory.new()
    request.node.stash[USED] = dn  # for the failure report of the call phase
    try:
        yield from _handed_out(dockernet_factory, dn)
    finally:
        del request.node.stash[USED]  # pytest keeps every item for the whole session


@pytest.fixture(scope="session")
def dockernet_session(dockernet_factory: DockerNetFactory) -> Iterator[DockerNet]:
    """Networks and containers shared by the whole run, removed at its end.

    Example:
        ```python
        @pytest.fixture(scope="session")
        def shared_lan(dockernet_session):
            return dockernet_session.network("shared")
        ```
    """
    yield from _handed_out(dockernet_factory, dockernet_factory.new("session"))


@pytest.fixture(scope="session")
def dockernet_compose_file(pytestconfig: pytest.Config) -> str | None:
    """The compose file ``dockernet_compose`` brings up (``--dockernet-compose``); override
    this fixture in a conftest.py to name your own.

    Example:
        ```python
        # conftest.py
        @pytest.fixture(scope="session")
        def dockernet_compose_file(pytestconfig):
            return pytestconfig.rootpath / "deploy" / "compose.yaml"
        ```
    """
    return pytestconfig.stash[SETTINGS].compose


@pytest.fixture(scope="session")
def dockernet_compose_project(pytestconfig: pytest.Config) -> str | None:
    """A running compose project ``dockernet_compose`` attaches to instead
    (``--dockernet-compose-project``); override it in a conftest.py to name your own.

    Example:
        ```python
        # conftest.py: check the stack that runs now instead of bringing one up
        @pytest.fixture(scope="session")
        def dockernet_compose_project():
            return "shop"
        ```
    """
    return pytestconfig.stash[SETTINGS].compose_project


@pytest.fixture(scope="session")
def dockernet_compose(
    dockernet_session: DockerNet,
    dockernet_compose_file: str | None,
    dockernet_compose_project: str | None,
) -> ComposeProject:
    """The run's compose stack: the running project named by ``dockernet_compose_project``
    (left running), else the file of ``dockernet_compose_file`` brought up once for the run
    and taken down at its end.

    Without a file or a project, a test asking for it fails, saying which option to pass.

    Example:
        ```python
        # pytest --dockernet-compose deploy/compose.yaml
        def test_front_reaches_web(dockernet_compose):
            web = dockernet_compose.services["web"]
            assert_reachable(dockernet_compose.services["client"], web)
        ```
    """
    if dockernet_compose_project:
        return dockernet_session.compose(project=dockernet_compose_project)
    if dockernet_compose_file:
        return dockernet_session.compose(dockernet_compose_file)
    pytest.fail(
        "dockernet_compose needs a stack: pass --dockernet-compose PATH (or "
        "--dockernet-compose-project NAME for one already running), or override the "
        "dockernet_compose_file fixture in a conftest.py",
        pytrace=False,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the test's topology: names, addresses and bridges."""
    report = yield
    dn = item.stash.get(USED, None)
    if dn is not None and report.failed and (dn.networks or dn.containers or dn.upstreams):
        lines = [repr(n) for n in dn.networks.values()]
        lines += [f"{c!r} {_started(c)} docker name={c.name}" for c in dn.containers.values()]
        lines += [
            f"<Upstream {u.name} {u.address} via host {u.host_address} on {u.host_interface}>"
            for u in dn.upstreams.values()
        ]
        report.sections.append(("dockernet topology", "\n".join(lines)))
    return report


def _started(container: Container) -> str:
    """The pid, or why there is none, without waiting for a start still under way."""
    starting = container.starting
    if starting is not None and not starting.done():
        return "(still starting)"
    try:
        return f"pid={container.init_pid}"
    except Exception as exc:
        return f"(did not start: {str(exc).splitlines()[0]})"


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of session-scoped fixtures
def pytest_sessionfinish(session: pytest.Session) -> None:
    factory = session.config.stash.get(FACTORY, None)
    if factory is not None:
        factory.close_all()
    session.config.stash.get(UNDO_SIGTERM, lambda: None)()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    factory = config.stash.get(FACTORY, None)
    if factory is None:
        return
    run = factory.identity.run_id
    swept = config.stash.get(SWEPT, None)
    if swept:
        terminalreporter.write_sep("-", "dockernet: swept what dead runs left")
        terminalreporter.write_line(str(swept))
    if factory.kept:
        terminalreporter.write_sep("-", "dockernet: kept for debugging (--dockernet-keep)")
        terminalreporter.write_line(", ".join(factory.kept))
        terminalreporter.write_line(
            f"remove them with: docker rm -f $(docker ps -aq --filter "
            f"label=pytest-dockernet.session={run}) && docker network rm $(docker network ls "
            f"-q --filter label=pytest-dockernet.session={run})"
        )
    warm = factory.warm
    if warm is not None and warm.failure is not None:
        terminalreporter.write_sep("-", "dockernet: the warm pool stopped")
        terminalreporter.write_line(
            f"starting a pooled container failed, so the rest of the run started every "
            f"container fresh: {warm.failure}"
        )
    if factory.leftovers:
        terminalreporter.write_sep("-", "dockernet: could not remove")
        for line in factory.leftovers:
            terminalreporter.write_line(line)
