"""container(aliases=...) against moby's promise (integration-cli TestUserDefinedNetworkAlias):
a container answers to its aliases on the network they were given on, and only there."""

from __future__ import annotations

from pytest_dockernet import assert_not_resolvable, assert_reachable, assert_resolves


def test_user_defined_network_alias(dockernet, client):
    lan = dockernet.network("lan")
    admin = dockernet.network("admin")
    first = dockernet.container("first", [lan, admin], aliases={lan: ["foo1", "foo2"]})
    second = dockernet.container("second", [lan])
    third = dockernet.container("third", [admin])
    endpoints = client.api.inspect_container(first.id)["NetworkSettings"]["Networks"]
    assert {"first", "foo1", "foo2"} <= set(endpoints[lan.name]["Aliases"])
    assert not {"foo1", "foo2"} & set(endpoints[admin.name]["Aliases"] or ())
    for name in ("first", "foo1", "foo2"):
        assert_resolves(second, name, to=first.ip(lan))
    assert_reachable(second, "foo1")
    assert_resolves(third, "first", to=first.ip(admin))
    assert_not_resolvable(third, "foo1")


def test_a_list_of_aliases_holds_on_every_network(dockernet):
    lan = dockernet.network("lan")
    admin = dockernet.network("admin")
    db = dockernet.container("db", [lan, admin], aliases=["postgres"])
    app = dockernet.container("app", [lan])
    ops = dockernet.container("ops", [admin])
    assert_resolves(app, "postgres", to=db.ip(lan))
    assert_resolves(ops, "postgres", to=db.ip(admin))
