"""Docker Compose v2 projects: brought up, checked and taken down; attached to and left running;
bad input refused with nothing left; a killed run's project swept while a user's survives."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from pytest_dockernet import (
    ComposeError,
    assert_bridge_members,
    assert_no_masquerade,
    assert_not_resolvable,
    assert_port_open,
    assert_reachable,
    assert_resolves,
    assert_unreachable,
)
from pytest_dockernet.engine import images, labels
from pytest_dockernet.engine.teardown import sweep
from pytest_dockernet.topology.compose_cli import find_compose
from pytest_dockernet.topology.warm import POOLED

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "compose" / "compose.yaml"
DATA = ROOT / "tests" / "data" / "compose"
PROFILES = DATA / "profiles.yaml"
PROJECT = "com.docker.compose.project"


def project_resources(client: docker.DockerClient, project: str) -> list[str]:
    """Everything on the engine that Compose made for ``project``."""
    filters = {"label": f"{PROJECT}={project}"}
    found = [f"container {c.name}" for c in client.containers.list(all=True, filters=filters)]
    found += [f"network {n.name}" for n in client.networks.list(filters=filters)]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=filters)]
    return found


@pytest.fixture
def image_name(client: docker.DockerClient) -> str:
    return images.ensure_default_image(client)


@pytest.fixture
def users_project(client: docker.DockerClient, image_name: str) -> Iterator[str]:
    """The example brought up with the Compose CLI, as a user would: the plugin did not make it.

    Tests ask for it before ``dockernet``, so it is taken down after the plugin's own things.
    """
    name = f"users-{uuid.uuid4().hex[:8]}"
    compose = [*find_compose(), "-p", name, "-f", str(EXAMPLE)]
    env = {**os.environ, "IMAGE": image_name}
    subprocess.run([*compose, "up", "-d", "--pull", "never"], env=env, check=True, timeout=120)
    try:
        yield name
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "0"], env=env, check=True, timeout=120)


def test_up_check_down(dockernet, client):
    stack = dockernet.compose(EXAMPLE, project="shop", env={"IMAGE": dockernet.image})
    assert stack.project == f"dn-{dockernet.identity.run_id}-{dockernet.scope}-shop"
    assert sorted(stack.services) == ["api", "client", "web"]
    assert sorted(stack.networks) == ["back", "front"]
    web, api, client_ = (stack.services[s] for s in ("web", "api", "client"))
    front, back = stack.networks["front"], stack.networks["back"]
    assert stack.replicas("web") == (web,)
    assert not web.existing and not back.existing
    assert back.internal

    assert_bridge_members(back, [web, api], exact=True)
    assert_bridge_members(front, [web, client_], exact=True)
    assert_reachable(client_, web)
    assert_unreachable(client_, api)
    dockernet.listen(api, 5432)
    assert_port_open(web, api, 5432)
    assert_no_masquerade(back)
    assert_resolves(web, "orders", to=api)  # a network alias from the file
    assert_not_resolvable(client_, "api")  # sent to the DNS sink, never off the machine
    # The run's labels on what Compose made: the sweep of a dead run finds them.
    own = client.containers.get(web.id).labels
    assert own[labels.SESSION] == dockernet.identity.run_id
    assert client.networks.get(back.id).attrs["Labels"][labels.SESSION] == own[labels.SESSION]
    with pytest.raises(ValueError, match=r"no service 'db' running \(it has: api, client, web\)"):
        stack.replicas("db")

    dockernet.close()
    assert project_resources(client, stack.project) == []


def test_volumes_are_labelled_and_removed(dockernet, client):
    stack = dockernet.compose(DATA / "volume.yaml", project="vol", env={"IMAGE": dockernet.image})
    volumes = client.volumes.list(filters={"label": f"{PROJECT}={stack.project}"})
    assert [v.attrs["Labels"][labels.SESSION] for v in volumes] == [dockernet.identity.run_id]
    dockernet.close()
    assert project_resources(client, stack.project) == []


def test_attach_to_a_running_project_and_leave_it_running(users_project, client, dockernet):
    stack = dockernet.compose(project=users_project)
    web, api = stack.services["web"], stack.services["api"]
    assert web.existing and stack.networks["back"].existing
    assert_bridge_members(stack.networks["back"], [web, api], exact=True)
    assert_reachable(web, api)
    assert_unreachable(stack.services["client"], api)
    with pytest.raises(ValueError, match="allow_existing=True"):
        dockernet.add_route(web, "10.250.0.0/24", via=stack.networks["front"].gateway)
    before = sorted(project_resources(client, users_project))
    dockernet.close()
    assert sorted(project_resources(client, users_project)) == before
    for c in client.containers.list(filters={"label": f"{PROJECT}={users_project}"}):
        assert c.status == "running"


def test_bad_input_leaves_nothing_behind(dockernet, client):
    image = dockernet.image
    with pytest.raises(ValueError, match=r"compose file '.*nowhere\.yaml' does not exist"):
        dockernet.compose(DATA / "nowhere.yaml")
    with pytest.raises(
        ComposeError, match=r"(?s)bad\.yaml is not usable:.*undefined network nowhere"
    ):
        dockernet.compose(DATA / "bad.yaml", project="bad", env={"IMAGE": image})
    with pytest.raises(
        ComposeError,
        match=r"needs images this engine does not have \(box: pytest-dockernet-test/not-on-this"
        r"-engine:1\): the plugin never pulls",
    ):
        dockernet.compose(DATA / "missing-image.yaml", project="noimage")
    with pytest.raises(ValueError, match=r"services=\['nope'\] are not in compose.yaml"):
        dockernet.compose(EXAMPLE, services=["nope"], env={"IMAGE": image})
    with pytest.raises(
        ValueError,
        match=r"services=\['sed'\] are not in profiles.yaml \(it has: debug \(profile debug\), "
        r"seed \(profile tools\), web\); profiles=\['tols'\] are declared by no service",
    ):
        dockernet.compose(PROFILES, services=["sed"], profiles=["tols"], env={"IMAGE": image})
    with pytest.raises(TypeError, match=r"profiles= takes a list of names, e.g. \['tools'\]"):
        dockernet.compose(PROFILES, profiles="tools", env={"IMAGE": image})
    with pytest.raises(ValueError, match="services=, profiles= and env= apply when bringing"):
        dockernet.compose(project="anything", profiles=["tools"])
    with pytest.raises(ValueError, match="needs path= .* or project="):
        dockernet.compose()
    with pytest.raises(ValueError, match="no running container belongs to compose project 'no"):
        dockernet.compose(project="no-such-project-here")
    run = dockernet.identity.run_id
    mine = f"dn-{run}-{dockernet.scope}-"  # this test's: an earlier one's may still be going
    made = client.containers.list(all=True, filters={"label": f"{labels.SESSION}={run}"})
    assert [
        c.name for c in made if c.name.startswith(mine) and c.labels[labels.NAME] != POOLED
    ] == []
    nets = client.networks.list(filters={"label": f"{labels.SESSION}={run}"})
    assert [n.name for n in nets if n.name.startswith(mine)] == []


def test_a_service_behind_a_profile_starts_when_named(dockernet, client):
    # As `docker compose up seed`: seed and what it depends on, not the other profile's.
    stack = dockernet.compose(
        PROFILES, project="named", services=["seed"], env={"IMAGE": dockernet.image}
    )
    assert sorted(stack.services) == ["seed", "web"]
    running = client.containers.list(filters={"label": f"{PROJECT}={stack.project}"})
    assert sorted(c.labels["com.docker.compose.service"] for c in running) == ["seed", "web"]
    assert_reachable(stack.services["seed"], stack.services["web"])
    with pytest.raises(ValueError, match=r"no service 'debug' running \(it has: seed, web\)"):
        stack.replicas("debug")


def test_profiles_are_activated_as_compose_profile_does(dockernet):
    plain = dockernet.compose(PROFILES, project="plain", env={"IMAGE": dockernet.image})
    assert sorted(plain.services) == ["web"]
    debug = dockernet.compose(
        PROFILES, project="debug", profiles=["debug"], env={"IMAGE": dockernet.image}
    )
    assert sorted(debug.services) == ["debug", "web"]
    assert_bridge_members(
        debug.networks["default"], [debug.services["debug"], debug.services["web"]], exact=True
    )
    every = dockernet.compose(
        PROFILES, project="every", profiles=["*"], env={"IMAGE": dockernet.image}
    )
    assert sorted(every.services) == ["debug", "seed", "web"]


def test_services_without_a_namespace_of_their_own_load_and_refuse_namespace_checks(
    dockernet, client
):
    stack = dockernet.compose(
        DATA / "network-modes.yaml", project="modes", env={"IMAGE": dockernet.image}
    )
    web, api, sidecar, agent = (stack.services[s] for s in ("web", "api", "sidecar", "agent"))
    assert (agent.network_mode, sidecar.network_mode, web.network_mode) == (
        "host",
        "service:web",
        "",
    )
    assert sorted(stack.networks) == ["default"]
    # The rest of the project is asserted as usual.
    assert_bridge_members(stack.networks["default"], [web, api], exact=True)
    assert_reachable(api, web)
    assert dockernet.trace(api, web).reply_arrived  # listened in every namespace that has one
    # The sidecar runs in web's namespace, the agent in the host's: Docker says so.
    assert (
        client.api.inspect_container(sidecar.id)["HostConfig"]["NetworkMode"]
        == f"container:{web.id}"
    )
    assert client.api.inspect_container(agent.id)["HostConfig"]["NetworkMode"] == "host"
    with pytest.raises(
        ValueError,
        match=r"compose service 'agent' \(dn-.*-modes-agent-1\) has network_mode 'host': "
        r"no network namespace of its own to check; host networking uses the host's own namespace",
    ):
        assert_reachable(agent, web)
    with pytest.raises(ValueError, match=r"compose service 'agent' .* network_mode 'host'"):
        dockernet.add_route(agent, "10.250.0.0/24", via=stack.networks["default"].gateway)
    shares = (
        r"compose service 'sidecar' \(dn-.*-modes-sidecar-1\) has network_mode "
        r"'service:web': no network namespace of its own to check; it shares the network "
        r"namespace of service 'web': run the check on that one \(stack.services\['web'\]\)"
    )
    with pytest.raises(ValueError, match=shares):
        assert_reachable(sidecar, api)
    with pytest.raises(ValueError, match=shares):
        assert_reachable(api, sidecar)  # as a destination: it holds no address of its own
    with pytest.raises(ValueError, match=shares):
        dockernet.listen(sidecar, 7000)
    with pytest.raises(
        AssertionError,
        match=r"agent-1 \(not on '.*_default': it is on no network \(network_mode 'host'\)\)",
    ):
        assert_bridge_members(stack.networks["default"], [web, agent])
    dockernet.close()
    assert project_resources(client, stack.project) == []


def test_a_failed_up_leads_with_composes_error(dockernet, client, tmp_path):
    unset = [f"DN_I20_UNSET_{n}" for n in range(60)]
    assert not set(unset) & set(os.environ)
    environment = "".join(f"      {v}: ${{{v}}}\n" for v in unset)
    (tmp_path / "compose.yaml").write_text(
        "services:\n  broken:\n    image: ${IMAGE}\n"
        '    command: ["/no/such/program"]\n'
        f"    environment:\n{environment}"
    )
    with pytest.raises(ComposeError) as failed:
        dockernet.compose(tmp_path, project="fails", env={"IMAGE": dockernet.image})
    lines = str(failed.value).splitlines()
    assert "/no/such/program" in lines[0], lines[0]
    assert "variable is not set" not in lines[0]
    assert "exited with 1; Compose's other output, in order:)" in lines[1]
    assert [
        v for v in unset if any(f'\\"{v}\\" variable is not set' in line for line in lines[2:])
    ] == unset
    assert (
        project_resources(client, f"dn-{dockernet.identity.run_id}-{dockernet.scope}-fails") == []
    )


def test_wait_for_healthy(dockernet, client):
    stack = dockernet.compose(DATA / "health.yaml", project="slow", env={"IMAGE": dockernet.image})
    state = client.api.inspect_container(stack.services["slow"].id)["State"]
    assert state["Health"]["Status"] == "healthy"


def test_a_service_that_dies_is_named_with_its_logs(dockernet, client, tmp_path):
    # it dies before its first health check (5 s in), so it is never up: without one, a
    # service that dies a moment after Docker starts it may already have been read as running
    file = tmp_path / "compose.yaml"
    file.write_text(
        "services:\n  dies:\n    image: ${IMAGE}\n"
        '    command: ["/bin/sh", "-c", "echo about to fail; exit 3"]\n'
        '    healthcheck: {test: ["CMD", "true"], interval: 5s}\n'
    )
    with pytest.raises(ComposeError, match=r"(?s)exited with code 3.*about to fail"):
        dockernet.compose(file, project="dies", env={"IMAGE": dockernet.image})
    assert project_resources(client, f"dn-{dockernet.identity.run_id}-{dockernet.scope}-dies") == []


KILLED = """
import os, signal

def test_killed(dockernet):
    dockernet.compose({file!r}, project="{tag}", env={{"IMAGE": dockernet.image}})
    os.kill(os.getpid(), signal.SIGKILL)
"""


# Serial: the sweep removes every dead run's resources on the engine (see test_sweep.py).
@pytest.mark.serial
def test_killed_compose_run_is_swept_and_a_users_project_survives(users_project, pytester, client):
    tag = f"k{uuid.uuid4().hex[:8]}"
    pytester.makepyfile(test_killed=KILLED.format(file=str(DATA / "volume.yaml"), tag=tag))
    assert pytester.runpytest_subprocess().ret == -9
    killed = next(  # summaries: a container removed meanwhile is not inspected
        c["Labels"][PROJECT]
        for c in client.api.containers(all=True, filters={"label": PROJECT})
        if c["Labels"][PROJECT].endswith(f"-{tag}")
    )
    left = sorted(project_resources(client, killed))
    assert [r.split()[0] for r in left] == ["container", "network", "volume"]
    users = sorted(project_resources(client, users_project))

    removed = sweep(client)
    assert f"{killed}-box-1" in removed.containers
    assert f"{killed}_inner" in removed.networks
    assert f"{killed}_data" in removed.volumes
    assert project_resources(client, killed) == []
    assert sorted(project_resources(client, users_project)) == users


STACK_TESTS = """
from pytest_dockernet import assert_reachable, assert_unreachable

def test_front(dockernet_compose):
    with open("project.txt", "a") as f:  # for the outer test to check it is gone
        f.write(dockernet_compose.project + "\\n")
    assert_reachable(dockernet_compose.services["client"], dockernet_compose.services["web"])

def test_back(dockernet_compose):
    assert_unreachable(dockernet_compose.services["client"], dockernet_compose.services["api"])
"""


def test_session_fixture_from_option_env_and_ini(pytester, client, image_name, monkeypatch):
    monkeypatch.setenv("IMAGE", image_name)
    pytester.makepyfile(test_stack=STACK_TESTS)
    result = pytester.runpytest_subprocess(f"--dockernet-compose={EXAMPLE}", "-v")
    result.assert_outcomes(passed=2)
    (project,) = (pytester.path / "project.txt").read_text().split()
    assert project_resources(client, project) == []  # one project for the run, gone at its end

    (pytester.path / "stack").mkdir()
    (pytester.path / "stack" / "compose.yaml").write_text(EXAMPLE.read_text())
    pytester.makeini("[pytest]\ndockernet_compose = stack/compose.yaml\n")
    monkeypatch.chdir(pytester.path / "stack")
    result = pytester.runpytest_subprocess(pytester.path / "test_stack.py")
    result.assert_outcomes(passed=2)  # the path was relative to the ini file, not to the cwd


def test_session_fixture_attaches_to_a_running_project(users_project, pytester, client):
    pytester.makepyfile(test_stack=STACK_TESTS)
    before = sorted(project_resources(client, users_project))
    result = pytester.runpytest_subprocess(f"--dockernet-compose-project={users_project}")
    result.assert_outcomes(passed=2)
    assert sorted(project_resources(client, users_project)) == before


def test_session_fixture_without_a_stack_says_how_to_give_one(pytester):
    pytester.makepyfile(test_stack=STACK_TESTS)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["*dockernet_compose needs a stack: pass --dockernet-compose PATH*dockernet_compose_file*"]
    )


def test_overriding_the_compose_file_fixture(pytester, image_name, monkeypatch):
    monkeypatch.setenv("IMAGE", image_name)
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture(scope="session")
        def dockernet_compose_file():
            return {str(EXAMPLE)!r}
        """
    )
    pytester.makepyfile(test_stack=STACK_TESTS)
    pytester.runpytest_subprocess().assert_outcomes(passed=2)
