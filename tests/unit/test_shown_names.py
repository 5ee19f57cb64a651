"""How messages name values: the test's name, or a compose file's name with Docker's beside;
and what a missing published port's message offers as the fix."""

from __future__ import annotations

import ipaddress

import pytest

from pytest_dockernet.model import Started, shown
from pytest_dockernet.observe.names import check_name
from tests.unit import values


def test_a_plugin_value_is_named_as_the_test_named_it() -> None:
    reg = values.registry()
    net = values.network(reg, "lan", "10.1.0.0/24")
    web = values.container(reg, "web", {net: "10.1.0.2"})
    assert str(web) == "container 'web'"
    assert str(net) == f"network 'lan' (10.1.0.0/24, bridge {net.bridge})"
    assert shown("web", None, "dn-c0ffee12-web") == "'web'"


def test_a_compose_value_is_named_by_the_file_with_dockers_name_beside() -> None:
    reg = values.registry()
    net = values.network(reg, "dn-1a2b-shop_back", "10.1.0.0/24")
    net.known_as = "back"
    web = values.container(reg, "dn-1a2b-shop-web-1", {net: "10.1.0.2"})
    web.known_as = "web"
    assert str(web) == "container 'web' (dn-c0ffee12-dn-1a2b-shop-web-1)"
    assert str(net).startswith("network 'back' (dn-c0ffee12-dn-1a2b-shop_back) (10.1.0.0/24")
    with pytest.raises(ValueError, match=r"'web' \(.*\) is not on network 'other'"):
        web.ip(values.network(reg, "other", "10.2.0.0/24"))


def test_a_port_not_published_names_what_is_and_the_fix_where_it_is_made() -> None:
    reg = values.registry()
    net = values.network(reg, "lan", "10.1.0.0/24")
    web = values.container(reg, "web", {net: "10.1.0.2"})
    assert web.not_published(9000, "udp") == (
        "container 'web' does not publish port 9000/udp (it publishes: nothing); "
        "pass ports={'9000/udp': None} to container()"
    )
    web.known_as = "web"
    web.state = Started("web-id", 0, {(8080, "tcp"): (ipaddress.IPv4Address("0.0.0.0"), 32769)})
    assert web.not_published(80, "tcp").endswith(
        "(it publishes: 8080/tcp on 0.0.0.0:32769); add 80/tcp to the `ports:` of service 'web'"
    )
    web.state.ports6[(8080, "tcp")] = (ipaddress.IPv6Address("::1"), 32770)
    assert "(it publishes: 8080/tcp on 0.0.0.0:32769, 8080/tcp on [::1]:32770); " in (
        web.not_published(80, "tcp")
    )


@pytest.mark.parametrize("name", ["", ".", " . ", None, 42])
def test_a_name_that_cannot_be_asked_is_refused(name: object) -> None:
    with pytest.raises(ValueError, match=r"^dst must be a host name \(a non-empty str\), got "):
        check_name(name, "dst")
    assert check_name("web.front") == "web.front"
