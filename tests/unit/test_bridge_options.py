"""network()'s bridge keywords: what reaches Docker, and what is refused before it does."""

from __future__ import annotations

import ipaddress

import pytest

from pytest_dockernet.topology.bridge_options import BridgeOptions

D20, D26, D27, D28 = (20, 10), (26, 1), (27, 0), (28, 5)
ICC = "com.docker.network.bridge.enable_icc"
MTU = "com.docker.network.driver.mtu"
BINDING = "com.docker.network.bridge.host_binding_ipv4"
NAME = "com.docker.network.bridge.name"
GW4 = "com.docker.network.bridge.gateway_mode_ipv4"
GW6 = "com.docker.network.bridge.gateway_mode_ipv6"
TRUSTED = "com.docker.network.bridge.trusted_host_interfaces"
D282 = (28, 2)


def test_defaults_pass_nothing() -> None:
    assert BridgeOptions().options(D20, {}) == {}


def test_each_keyword_becomes_dockers_option() -> None:
    keywords = BridgeOptions(icc=False, mtu=1400, host_binding="127.0.0.1", bridge_name="dn-lan0")
    assert keywords.options(D20, {}) == {
        ICC: "false",
        MTU: "1400",
        BINDING: "127.0.0.1",
        NAME: "dn-lan0",
    }
    assert BridgeOptions(host_binding=ipaddress.ip_address("::1")).options(D20, {}) == {
        BINDING: "::1"
    }


def test_gateway_mode_for_both_families_or_each() -> None:
    assert BridgeOptions(gateway_mode="routed").options(D27, {}) == {GW4: "routed", GW6: "routed"}
    assert BridgeOptions(gateway_mode=("nat", "routed")).options(D28, {}) == {
        GW4: "nat",
        GW6: "routed",
    }
    assert BridgeOptions(gateway_mode="isolated").options(D28, {}, internal=True) == {
        GW4: "isolated",
        GW6: "isolated",
    }


@pytest.mark.parametrize(
    ("mode", "version", "since"),
    [
        ("nat", D20, "27.0"),
        ("routed", D26, "27.0"),
        ("nat-unprotected", D27, "28.0"),
        (("nat", "isolated"), D27, "28.0"),
    ],
)
def test_a_mode_the_engine_would_ignore_is_refused_naming_the_version(
    mode: str | tuple[str, str], version: tuple[int, int], since: str
) -> None:
    shown = f"{version[0]}.{version[1]}"
    with pytest.raises(ValueError, match=rf"needs Docker >= {since}; this engine is {shown}"):
        BridgeOptions(gateway_mode=mode).options(version, {}, internal=True)


def test_isolated_needs_an_internal_network() -> None:
    with pytest.raises(ValueError, match="needs internal=True"):
        BridgeOptions(gateway_mode="isolated").options(D28, {})


@pytest.mark.parametrize(
    ("keywords", "error", "match"),
    [
        (BridgeOptions(gateway_mode="bridged"), ValueError, "'bridged' is not one of Docker's"),
        (BridgeOptions(gateway_mode=["nat", "nat"]), TypeError, "mode or \\(ipv4 mode"),  # type: ignore[arg-type]
        (BridgeOptions(icc="no"), TypeError, "icc must be True or False"),  # type: ignore[arg-type]
        (BridgeOptions(mtu=True), TypeError, "mtu must be an int"),
        (BridgeOptions(mtu="1400"), TypeError, "mtu must be an int, got '1400'"),  # type: ignore[arg-type]
        (BridgeOptions(mtu=67), ValueError, "mtu=67 is outside 68..65535"),
        (BridgeOptions(host_binding="localhost"), ValueError, "'localhost' is not an IP"),
        (BridgeOptions(bridge_name="a-name-too-long-for-linux"), ValueError, "1 to 15"),
        (BridgeOptions(bridge_name="br 0"), ValueError, "not a Linux interface name"),
        (BridgeOptions(trusted_host_interfaces="eth1"), TypeError, "a non-empty list"),
        (BridgeOptions(trusted_host_interfaces=[]), TypeError, "a non-empty list"),
        (BridgeOptions(trusted_host_interfaces=["eth1:eth2"]), ValueError, "'eth1:eth2' is not"),
        (BridgeOptions(trusted_host_interfaces=["+"]), ValueError, "trailing \\+ matches"),
    ],
)
def test_bad_values_name_the_value_and_the_fix(
    keywords: BridgeOptions, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        keywords.options(D28, {})


def test_a_keyword_and_the_same_option_are_refused() -> None:
    with pytest.raises(ValueError, match="keep the keyword, drop it from options="):
        BridgeOptions(mtu=1400).options(D28, {MTU: "1500"})
    # another option beside a keyword is the user's own
    assert BridgeOptions(mtu=1400).options(D28, {ICC: "false"}) == {MTU: "1400"}


def test_trusted_host_interfaces_is_dockers_colon_list_from_28_2() -> None:
    keywords = BridgeOptions(trusted_host_interfaces=["eth1", "dnu+"])
    assert keywords.options(D282, {}) == {TRUSTED: "eth1:dnu+"}
    for version in (D20, D26, D27, (28, 1)):
        with pytest.raises(ValueError, match=r"needs Docker >= 28.2; this engine is 2\d\.\d+"):
            keywords.options(version, {})
