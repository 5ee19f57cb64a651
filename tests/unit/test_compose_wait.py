"""Waiting for a Compose project to be up, against a stand-in for Docker's API: it returns
once every container runs (healthy where it has a healthcheck), and a project that never gets
there is a ComposeError naming the laggard as the last look saw it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_dockernet.errors import ComposeError
from pytest_dockernet.topology.compose import PROJECT, wait_until_up


def engine(states: list[dict[str, object]]) -> SimpleNamespace:
    """A client whose project has one container, ``shop-web-1``, in each state in turn (the
    last one for good); ``api.looks`` counts the project's listings."""
    current: list[dict[str, object]] = []

    def containers(all: bool, filters: dict[str, str]) -> list[dict[str, object]]:
        assert all and filters == {"label": f"{PROJECT}=shop"}
        api.looks += 1
        current[:] = [states[min(api.looks, len(states)) - 1]]
        return [{"Id": "c1", "Names": ["/shop-web-1"]}]

    def inspect_container(container_id: str) -> dict[str, object]:
        assert container_id == "c1"
        return {"State": current[0]}

    api = SimpleNamespace(containers=containers, inspect_container=inspect_container, looks=0)
    return SimpleNamespace(api=api)


STARTING = {"Status": "running", "Health": {"Status": "starting"}}
HEALTHY = {"Status": "running", "Health": {"Status": "healthy"}}


def test_returns_once_the_healthcheck_passes() -> None:
    client = engine([{"Status": "created"}, STARTING, HEALTHY])
    wait_until_up(client, "shop", 5)  # type: ignore[arg-type]
    assert client.api.looks == 3


def test_a_project_never_up_is_a_compose_error_naming_the_laggard() -> None:
    with pytest.raises(ComposeError) as info:
        wait_until_up(engine([{"Status": "created"}, STARTING]), "shop", 0.3)  # type: ignore[arg-type]
    assert str(info.value).startswith(
        "waited 0.3 s for every container of compose project 'shop' to run (and be healthy "
        "where it has a healthcheck), in vain ("
    )
    assert str(info.value).endswith("; the last saw shop-web-1: running, starting")
