"""container.host: testinfra's modules on the containers of a topology and on the user's own.

testinfra runs ``docker exec ... /bin/sh -c`` and the image's own tools. On the built-in busybox
image (Debian's busybox-static 1.35, whose shell runs any applet by name) file, interface,
socket (busybox netstat), addr, sysctl and run work; process does not (below), nor do user and
group (no /etc/passwd, no getent). These tests pin both halves, so that the list in
docs/guides/your-stacks.md stays true.
"""

from __future__ import annotations

import uuid

import docker
import pytest

from pytest_dockernet.engine.images import ensure_default_image


def test_testinfra_reads_a_plugin_container(dockernet):
    net = dockernet.network("n")
    c = dockernet.container("c", [net])
    host = c.host
    assert host.backend.NAME == "docker"
    assert host.backend.name == c.id
    assert host.file("/etc/hostname").content_string.strip() == "c"
    assert str(c.ip(net)) in host.interface("eth0").addresses
    assert host.addr(str(net.gateway)).is_reachable
    assert host.run("/bin/busybox ping -c1 -W1 %s", str(net.gateway)).rc == 0
    assert host.file("/proc/1/cmdline").content_string.split("\0")[0] == "/bin/sleep"
    assert not host.file("/no/such/file").exists
    assert host.sysctl("net.ipv4.ip_forward") in (0, 1)
    assert c.host is host  # testinfra caches one Host per container


def test_testinfra_sees_the_plugins_listeners(dockernet):
    """The plugin's listeners are served from the host, in the container's namespace: busybox
    netstat inside the container sees them as listening sockets."""
    c = dockernet.container("c", [dockernet.network("n")])
    dockernet.listen(c, 7000)
    dockernet.listen(c, 7001, proto="udp")
    assert c.host.socket("tcp://0.0.0.0:7000").is_listening
    assert c.host.socket("udp://0.0.0.0:7001").is_listening
    assert not c.host.socket("tcp://0.0.0.0:7002").is_listening
    listening = c.host.socket.get_listening_sockets()
    assert {"tcp://0.0.0.0:7000", "udp://0.0.0.0:7001"} <= set(listening), listening


def test_process_needs_a_ps_the_default_image_lacks(dockernet):
    """testinfra's process module wants /bin/ps, and from busybox a ps with ``-o time``: the
    built-in image links no ps, and Debian's busybox ps has no ``time``. Either way it fails."""
    c = dockernet.container("c", [dockernet.network("n")])
    assert not c.host.file("/bin/ps").exists
    with pytest.raises(AssertionError):
        c.host.process.filter()


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
        assert app.existing
        assert app.host.backend.name == mine.id
        assert app.host.run("echo $APP_MODE").stdout.strip() == "blue"
        assert app.host.file("/bin/busybox").is_file
        (net,) = app.networks  # Docker's default bridge
        assert str(app.ip(net)) in app.host.interface("eth0").addresses
        assert app.host.socket.get_listening_sockets() == []  # it serves nothing
    finally:
        mine.remove(force=True)


def test_an_image_without_a_shell_says_so(dockernet, bare_image):
    c = dockernet.container("bare", [dockernet.network("n")], image=bare_image)
    result = c.host.run("true")
    assert result.rc != 0  # testinfra needs /bin/sh in the image; the plugin's checks do not
    assert "/bin/sh" in result.stdout + result.stderr, result  # docker's own message
    with pytest.raises(AssertionError):
        assert c.host.file("/sleep").is_file
