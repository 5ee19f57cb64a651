"""container.host: testinfra's modules on the containers of a topology and on the user's own."""

from __future__ import annotations

import uuid

import docker
import pytest

from pytest_dockernet.images import ensure_default_image


def test_testinfra_reads_a_plugin_container(dockernet):
    net = dockernet.network("n")
    c = dockernet.container("c", [net])
    host = c.host
    assert host.backend.NAME == "docker"
    assert host.file("/etc/hostname").content_string.strip() == "c"
    assert str(c.ip(net)) in host.interface("eth0").addresses
    assert host.run("/bin/busybox ping -c1 -W1 %s", str(net.gateway)).rc == 0
    assert host.file("/proc/1/cmdline").content_string.split("\0")[0] == "/bin/sleep"
    assert not host.file("/no/such/file").exists
    assert c.host is host  # testinfra caches one Host per container


def test_testinfra_reads_an_existing_container(dockernet, client: docker.DockerClient):
    image = ensure_default_image(client)
    mine = client.containers.run(
        image,
        name=f"users-ti-{uuid.uuid4().hex[:8]}",
        environment={"APP_MODE": "blue"},
        labels={"pytest-dockernet-test.users-own": "testinfra"},
        detach=True,
    )
    try:
        app = dockernet.existing_container(mine.name)
        assert app.host.run("echo $APP_MODE").stdout.strip() == "blue"
        assert app.host.file("/bin/busybox").is_file
    finally:
        mine.remove(force=True)


def test_an_image_without_a_shell_says_so(dockernet, bare_image):
    c = dockernet.container("bare", [dockernet.network("n")], image=bare_image)
    result = c.host.run("true")
    assert result.rc != 0  # testinfra needs /bin/sh in the image; the plugin's checks do not
    with pytest.raises(AssertionError):
        assert c.host.file("/sleep").is_file
