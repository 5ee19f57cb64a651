"""container(aliases=...): names per network, checked before Docker sees them."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_dockernet.model import Network, Registry
from pytest_dockernet.model.arguments import normalise_aliases


def net(alias: str) -> Network:
    registry = Registry(client=None)  # type: ignore[arg-type]
    return Network(
        alias=alias,
        name=f"dn-x-{alias}",
        id=alias * 4,
        subnet=None,
        gateway=None,
        bridge=f"br-{alias}",
        internal=False,
        masquerade=True,
        registry=registry,
    )


LAN, ADMIN, OTHER = net("lan"), net("admin"), net("other")


def test_a_list_holds_on_every_network_and_a_mapping_on_its_own() -> None:
    assert normalise_aliases(None, [LAN], "c") == {}
    assert normalise_aliases(["db", "pg"], [LAN, ADMIN], "c") == {
        LAN: ("db", "pg"),
        ADMIN: ("db", "pg"),
    }
    assert normalise_aliases({ADMIN: ["db"]}, [LAN, ADMIN], "c") == {ADMIN: ("db",)}


@pytest.mark.parametrize(
    ("aliases", "error", "match"),
    [
        ("db", TypeError, "aliases must be a list of names or"),
        ({LAN: "db"}, TypeError, "the aliases on 'lan' must be a list, got 'db'"),
        ({"lan": ["db"]}, TypeError, "each key of aliases must be a Network"),
        ({OTHER: ["db"]}, ValueError, "network 'other', which it is not on"),
        (["-db"], ValueError, "alias '-db' is not a name Docker's DNS answers"),
        ([""], ValueError, "alias '' is not"),
        ([5], ValueError, "alias 5 is not"),
    ],
)
def test_bad_aliases_name_the_value_and_the_fix(
    aliases: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        normalise_aliases(aliases, [LAN, ADMIN], "container 'c'")
