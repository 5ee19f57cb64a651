"""Argument checks of ``model.py``: each bad value raises the exception a caller can act on
(TypeError for a wrong kind of thing, ValueError for a wrong value of the right kind), with a
message that names what was passed. Real networks and containers, no engine."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network

import pytest

from pytest_dockernet.model import Container, Network
from pytest_dockernet.model.arguments import (
    check_count,
    check_timeout,
    gateway_of,
    need,
    normalise_networks,
    parse_destination,
)
from tests.unit.values import container, network, registry


@pytest.fixture
def nets() -> tuple[Network, Network, Network]:
    reg = registry()
    return (
        network(reg, "front", "10.231.1.0/24"),
        network(reg, "back", "10.231.2.0/24"),
        network(reg, "side", "10.231.3.0/24"),
    )


# --- need ----------------------------------------------------------------------------------


def test_need_accepts_the_kind_and_its_subclasses(nets):
    need(nets[0], Network, "net")
    need(True, int, "flag")  # bool is an int: need() is isinstance, no more


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (3, str, "dev must be a str, got int: 3"),
        ("web", Container, "dev must be a Container, got str: 'web'"),
        (None, Network, "dev must be a Network, got NoneType: None"),
        (["eth0"], str, "dev must be a str, got list: ['eth0']"),
    ],
)
def test_need_names_what_it_got(value, kind, message):
    with pytest.raises(TypeError) as info:
        need(value, kind, "dev")
    assert str(info.value) == message


# --- check_timeout, check_count ------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (0.25, 0.25), (30, 30.0)])
def test_check_timeout_gives_a_float(value, expected):
    found = check_timeout(value)
    assert found == expected
    assert type(found) is float


@pytest.mark.parametrize(
    "value", [0, -1, -0.5, 0.0, True, False, "1", None, [1], float("nan"), float("inf")]
)
def test_check_timeout_rejects(value):
    with pytest.raises(ValueError, match="^timeout must be") as info:
        check_timeout(value)
    assert str(info.value) == f"timeout must be a positive number of seconds, got {value!r}"


@pytest.mark.parametrize("value", [1, 2, 100])
def test_check_count_accepts(value):
    assert check_count(value) == value


@pytest.mark.parametrize("value", [0, -3, True, 1.0, 2.5, "2", None])
def test_check_count_rejects(value):
    with pytest.raises(ValueError, match="^count must be") as info:
        check_count(value)
    assert str(info.value) == f"count must be a positive int, got {value!r}"


# --- parse_destination ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("default", "0.0.0.0/0"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("10.231.0.0/16", "10.231.0.0/16"),
        ("10.231.1.7", "10.231.1.7/32"),  # a bare address is a host route
        (IPv4Address("10.231.1.7"), "10.231.1.7/32"),  # as an address object too
    ],
)
def test_parse_destination(value, expected):
    assert parse_destination(value) == IPv4Network(expected)


def test_parse_destination_passes_a_network_through():
    net = IPv4Network("10.231.4.0/24")
    assert parse_destination(net) is net


@pytest.mark.parametrize("value", [42, None, ["default"]])
def test_parse_destination_wrong_kind(value):
    with pytest.raises(TypeError) as info:
        parse_destination(value)
    assert str(info.value) == f"route destination must be 'default' or a CIDR str, got {value!r}"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("10.231.1.7/24", "has host bits set"),
        ("Default", "Expected 4 octets in 'Default'"),
        ("10.231.1.0/33", "'33' is not a valid netmask"),
        ("", "Address cannot be empty"),
    ],
)
def test_parse_destination_wrong_value(value, detail):
    with pytest.raises(ValueError, match="^route destination ") as info:
        parse_destination(value)
    message = str(info.value)
    assert message.startswith(f"route destination {value!r} is not an IPv4 network: "), message
    assert detail in message


# --- gateway_of ----------------------------------------------------------------------------


def test_gateway_of_an_address(nets):
    assert gateway_of("10.231.1.1", nets, "container 'c'") == IPv4Address("10.231.1.1")
    ip = IPv4Address("10.231.2.1")
    assert gateway_of(ip, None, "the host") is ip


def test_gateway_of_a_bad_address():
    with pytest.raises(ValueError, match="^via ") as info:
        gateway_of("10.231.1.256", None, "the host")
    assert str(info.value) == "via '10.231.1.256' is not an IPv4 address, e.g. '10.231.1.4'"
    with pytest.raises(TypeError) as type_info:
        gateway_of(42, None, "the host")  # type: ignore[arg-type]
    assert str(type_info.value) == "via must be a str like '10.231.1.4', got int"


def test_gateway_of_a_container_is_its_address_on_the_first_shared_network(nets):
    front, back, side = nets
    reg = front.registry
    router = container(reg, "router", {front: "10.231.1.3", back: "10.231.2.3"})
    assert gateway_of(router, [side, back, front], "container 'c'") == IPv4Address("10.231.2.3")
    assert gateway_of(router, [front, back], "container 'c'") == IPv4Address("10.231.1.3")


def test_gateway_of_a_container_for_the_host(nets):
    front, back, _ = nets
    reg = front.registry
    single = container(reg, "single", {back: "10.231.2.9"})
    assert gateway_of(single, None, "the host") == IPv4Address("10.231.2.9")
    router = container(reg, "router", {front: "10.231.1.3", back: "10.231.2.3"})
    with pytest.raises(ValueError, match="is ambiguous") as info:
        gateway_of(router, None, "the host")
    assert str(info.value) == (
        "via=container 'router' is ambiguous for the host: it has 2 addresses; pass the address"
    )
    nowhere = container(reg, "nowhere", {})
    with pytest.raises(ValueError, match=r"^via=container 'nowhere' is ambiguous .* 0 addresses"):
        gateway_of(nowhere, None, "the host")


def test_gateway_of_a_container_sharing_no_network(nets):
    front, back, side = nets
    router = container(front.registry, "router", {front: "10.231.1.3", back: "10.231.2.3"})
    with pytest.raises(ValueError, match="shares no network") as info:
        gateway_of(router, [side], "container 'c'")
    assert str(info.value) == (
        "via=container 'router' shares no network with container 'c' (container 'c' is on "
        "side; 'router' on front, back): put them on a common network, or pass an address"
    )
    with pytest.raises(ValueError, match=r"\(container 'c' is on none; 'router' on front, back\)"):
        gateway_of(router, [], "container 'c'")


# --- normalise_networks --------------------------------------------------------------------


def test_normalise_networks_forms(nets):
    front, back, side = nets
    assert normalise_networks(front, "c") == {front: None}
    as_list = normalise_networks([side, front], "c")
    assert as_list == {side: None, front: None}
    assert list(as_list) == [side, front]  # the order given: the first is eth0
    assert normalise_networks((back,), "c") == {back: None}
    given = {back: "10.231.2.7", front: None, side: ipaddress.IPv4Address("10.231.3.7")}
    found = normalise_networks(given, "c")
    assert found == given
    assert found is not given  # a copy: the caller's dict is not changed later
    assert list(found) == [back, front, side]


def test_normalise_networks_listed_twice(nets):
    front, back, _ = nets
    with pytest.raises(ValueError, match="listed twice") as info:
        normalise_networks([front, back, front], "container 'c'")
    assert str(info.value) == (
        f"container 'c': a network is listed twice in networks={[front, back, front]!r}"
    )
    assert "<Network front 10.231.1.0/24 bridge=br-66726f6e7400>" in str(info.value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [("front", "str"), (None, "NoneType"), (42, "int"), (frozenset(), "frozenset")],
)
def test_normalise_networks_wrong_kind(value, kind):
    with pytest.raises(TypeError) as info:
        normalise_networks(value, "container 'c'")
    assert str(info.value) == (
        "container 'c': networks= takes a Network, a list of them or a dict "
        f"{{Network: ip or None}}, got {kind}"
    )


def test_normalise_networks_a_set_is_refused(nets):
    """A set has no order, and the first network is the container's eth0."""
    with pytest.raises(TypeError, match=r"got set$"):
        normalise_networks({nets[0]}, "container 'c'")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", [["front"], [None], {"front": None}, {"10.231.1.0/24": "10.231.1.5"}]
)
def test_normalise_networks_holding_something_else(nets, value):
    given = [nets[0], *value] if isinstance(value, list) else {nets[0]: None, **value}
    with pytest.raises(TypeError) as info:
        normalise_networks(given, "router 'r'")
    bad = next(iter(value))
    assert str(info.value) == f"router 'r': networks= holds {bad!r}, which is not a Network"


@pytest.mark.parametrize("value", [[], (), {}])
def test_normalise_networks_empty(value):
    with pytest.raises(ValueError, match="is empty") as info:
        normalise_networks(value, "container 'c'")
    assert str(info.value) == "container 'c': networks= is empty; give at least one Network"
