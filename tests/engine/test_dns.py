"""DNS assertions both ways, through each container's own resolver and Docker's embedded DNS;
and nothing is ever asked of a resolver off this machine."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import threading

import pytest

from pytest_dockernet import assert_not_resolvable, assert_resolves
from pytest_dockernet.observe.names import read_resolv_conf


@pytest.fixture
def tiers(dockernet, pick_image):
    front = dockernet.network("front")
    back = dockernet.network("back")
    web = dockernet.container("web", [front], image=pick_image)
    api = dockernet.container("api", [front, back], image=pick_image)
    db = dockernet.container("db", [back], image=pick_image)
    return front, back, web, api, db


def test_alias_docker_name_and_network_form(tiers):
    front, back, web, api, db = tiers
    assert assert_resolves(web, "api", to=api) == (api.ip(front),)
    assert_resolves(api, "db", to=db.ip(back))
    assert_resolves(web, api.name, to=api)  # Docker's own name for it
    assert_resolves(web, f"api.{front.name}", to=api)  # name.network


def test_not_on_a_shared_network_is_not_resolvable(tiers):
    front, back, web, api, db = tiers
    found = assert_not_resolvable(web, "db")
    assert [q.name for q in found.queries] == ["db"]  # ndots:0, no search list here
    with pytest.raises(AssertionError) as info:
        assert_resolves(web, "db", timeout=0.3)
    text = str(info.value)
    assert "'db' does not resolve in container 'web'" in text
    assert "'db' asked of 127.0.0.11:" in text


def test_a_wrong_to_names_the_real_answer(tiers):
    front, back, web, api, db = tiers
    with pytest.raises(AssertionError) as info:
        assert_resolves(api, "db", to=web)
    text = str(info.value)
    assert f"'db' resolves in container 'api' to {db.ip(back)}" in text
    assert f"expected an address of container 'web' (front={web.ip(front)})" in text
    with pytest.raises(AssertionError, match="expected no address"):
        assert_not_resolvable(api, "db")


def test_the_container_reads_its_own_resolv_conf(tiers):
    front, back, web, api, db = tiers
    conf = read_resolv_conf(web.pid)
    assert conf.nameservers == ("127.0.0.11",)


def test_within_waits_for_a_container_that_joins_later(dockernet, tiers):
    front, back, web, api, db = tiers
    later = threading.Timer(0.5, dockernet.container, ("late", [front]))
    later.start()
    try:
        assert_resolves(web, "late", within=20)
    finally:
        later.join()
    with pytest.raises(AssertionError) as info:
        assert_resolves(web, "never", timeout=0.2, within=0.5)
    assert "did not hold within 0.5 s" in str(info.value)
    assert "earlier attempts" in str(info.value)


def test_bad_input_names_the_value(dockernet, tiers):
    front, back, web, api, db = tiers
    upstream = dockernet.upstream()
    with pytest.raises(TypeError, match="is an upstream: it has no Docker DNS"):
        assert_resolves(upstream, "web")
    with pytest.raises(TypeError, match="src must be a Container, got str"):
        assert_not_resolvable("web", "db")
    with pytest.raises(ValueError, match="to is not an IPv4 address|'10.0.0.300'"):
        assert_resolves(web, "api", to="10.0.0.300")
    with pytest.raises(ValueError, match="name must be a host name"):
        assert_resolves(web, "")
    with pytest.raises(TypeError, match="to must be a Container, an address or None"):
        assert_resolves(web, "api", to=front)


def test_a_dead_resolver_proves_nothing(dockernet, pick_image):
    """A container taken off its network has no embedded DNS: silence there proves nothing."""
    net = dockernet.network("solo")
    web = dockernet.container("web", [net], image=pick_image)
    dockernet.client.api.disconnect_container_from_network(web.id, net.id, force=True)
    with pytest.raises(AssertionError) as info:
        assert_not_resolvable(web, "anything", timeout=0.3)
    assert "the resolver does not answer for 'web' itself either" in str(info.value)


def _host_resolvers() -> list[str]:
    try:
        with open("/etc/resolv.conf", encoding="utf-8") as conf:
            words = [line.split() for line in conf]
    except FileNotFoundError:
        return []
    found = [w[1] for w in words if len(w) > 1 and w[0] == "nameserver"]
    return [
        a
        for a in found
        if ipaddress.ip_address(a).version == 4 and not ipaddress.ip_address(a).is_loopback
    ]


@pytest.mark.serial
def test_nothing_is_asked_off_this_machine(dockernet):
    """Unknown names go to the plugin's loopback sink, never to the host's resolvers."""
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed: cannot count packets to the host's resolvers")
    resolvers = _host_resolvers()
    if not resolvers:
        pytest.skip("the host's resolv.conf lists no non-loopback IPv4 resolver to watch")
    net = dockernet.network("lan")
    web = dockernet.container("web", [net])
    table = "dockernet_dns_watch"
    rules = (
        f"table inet {table} {{\n  chain out {{\n"
        "    type filter hook postrouting priority 0;\n"
        f"    ip daddr {{ {', '.join(resolvers)} }} counter drop\n  }}\n}}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        for name in ("nosuchname", "no.such.example", "db.back", "web.example.org"):
            assert_not_resolvable(web, name, timeout=0.5)
        listed = subprocess.run(
            ["nft", "list", "table", "inet", table], capture_output=True, text=True, check=True
        ).stdout
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=False)
    assert "counter packets 0 bytes 0" in listed, listed
