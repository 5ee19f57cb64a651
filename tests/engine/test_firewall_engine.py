"""Reading the real host firewall: Docker's masquerade rule for a fresh network is found, and
absent when masquerading is disabled; an unprivileged reader gets a PrivilegeError."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import docker
import pytest

from pytest_dockernet.engine import labels
from pytest_dockernet.errors import PrivilegeError
from pytest_dockernet.observe.firewall import Backend, format_rules, read_nat_table
from tests.unprivileged import run_unprivileged

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    return docker.from_env()


@pytest.fixture
def make_network(engine: docker.DockerClient) -> Iterator[Any]:
    """Create labelled bridge networks; each is removed when the test ends, whatever happens."""
    session = f"fwtest-{uuid.uuid4().hex[:10]}"
    created: list[Any] = []

    def make(suffix: str, options: dict[str, str] | None = None) -> tuple[IPv4Network, str]:
        network = engine.networks.create(
            f"{session}-{suffix}",
            driver="bridge",
            labels={labels.SESSION: session},
            options=options or {},
        )
        created.append(network)
        network.reload()
        subnet = IPv4Network(network.attrs["IPAM"]["Config"][0]["Subnet"])
        assert network.id is not None
        return subnet, "br-" + network.id[:12]

    try:
        yield make
    finally:
        for network in created:
            network.remove()


def test_masquerade_rule_of_a_new_network_is_found(
    engine: docker.DockerClient, make_network: Any
) -> None:
    subnet, bridge = make_network("masq")
    info = engine.info()
    table = read_nat_table(info)
    found = table.masquerade_rules(subnet, bridge)
    assert len(found) == 1, (
        f"no masquerade rule for {subnet} on {bridge} in {table.source}:\n"
        + format_rules(table.rules)
    )
    if table.backend is not Backend.NFTABLES:
        assert found[0].chain == "POSTROUTING"
        assert found[0].text == f"-A POSTROUTING -s {subnet} ! -o {bridge} -j MASQUERADE"
    assert table.masquerade_rules(subnet, "docker0") == ()


def test_network_with_masquerade_disabled_has_none(
    engine: docker.DockerClient, make_network: Any
) -> None:
    subnet, bridge = make_network(
        "nomasq", {"com.docker.network.bridge.enable_ip_masquerade": "false"}
    )
    on_subnet, on_bridge = make_network("control")
    table = read_nat_table(engine.info())
    assert table.masquerade_rules(subnet, bridge) == (), format_rules(table.rules)
    # the same read does see a masquerading network made alongside it
    assert len(table.masquerade_rules(on_subnet, on_bridge)) == 1


def test_unprivileged_reader_gets_a_privilege_error(engine: docker.DockerClient) -> None:
    code = (
        "from pytest_dockernet.observe.firewall import read_nat_table\n"
        f"read_nat_table({engine.info()!r})"
    )
    uid, caps, name, message = run_unprivileged(code)
    assert (uid, caps) == (65534, 0)
    assert name == PrivilegeError.__name__, message
    assert "needs root or CAP_NET_ADMIN: run pytest as root / with sudo" in message
    assert "Permission denied" in message or "Operation not permitted" in message
    # names the command: the iptables reader, or nft looking for Docker's nftables table
    assert "-t nat" in message or "docker-bridges" in message or "`nft list tables`" in message
