"""Giving a pooled container back to the warm pool when its test ends (Docker >= 28).

A container that a test took from the pool is not removed: it leaves every network (its
interfaces, and the routes and neighbour entries on them, go with them; Docker takes its
address out of /etc/hosts), its hostname and connection tracking table are reset to a fresh
container's, it gets a pool name again, and then it is read once more. Only if that reading is
the one taken when it started (``ContainerState``: interfaces, routes, neighbours, hostname,
/etc/hostname, /etc/hosts, processes, tracked connections, changed files) does it go back to
the pool; otherwise the test's ledger removes it, and the pool says why (``WarmPool.refused``).

What a given-back container keeps of its first network is Docker's own and the same for a
fresh container on a user-defined network: /etc/resolv.conf naming the embedded DNS, and the
DNAT rules in its namespace that lead to it. So only requests on user-defined networks take
one (``containers.take_warm``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docker
import docker.errors

from ..engine import netns
from ..engine.lock import machine_lock
from ..observe.container_state import ContainerState, container_state
from .context import BuildContext


def give_back(ctx: BuildContext, container_id: str, alias: str) -> None:
    """Return pooled container ``container_id`` (the test's ``alias``) to ``ctx.warm`` if it
    can be shown to be as it started; else leave it in the ledger, which removes it.

    Example::

        ctx.returns[cid] = functools.partial(give_back, ctx, cid, "web")
    """
    warm = ctx.warm
    assert warm is not None, "only a container taken from a warm pool goes back to one"
    pristine = warm.pristine(container_id)
    if pristine is None:
        warm.lost(container_id, f"{alias}: the pool does not know how it started")
        return
    api = ctx.client.api
    try:
        state = api.inspect_container(container_id)
        pid = state["State"]["Pid"]
        first = state["Config"]["Hostname"]
        if not state["State"]["Running"]:
            raise ValueError("it is not running")
        hosts = Path(state["HostsPath"])  # Docker's name back, for Docker's removal to find
        hosts.write_text(renamed(hosts.read_text(), alias, first))
        for network in state["NetworkSettings"]["Networks"] or {}:
            with machine_lock().writing(f"detach container {state['Name'].lstrip('/')}"):
                api.disconnect_container_from_network(container_id, network)
        netns.set_hostname(pid, first)
        Path(state["HostnamePath"]).write_text(f"{first}\n")
        netns.flush_conntrack(pid)
        api.rename(container_id, warm.next_name())
        differences = read_state(ctx.client, state).differences(pristine)
    except (docker.errors.APIError, OSError, ValueError) as exc:
        differences = [str(exc)]
    if differences:
        warm.lost(container_id, f"{alias}: {'; '.join(differences)}")
    else:
        warm.give_back(container_id, ctx.ledger)


def read_state(client: docker.DockerClient, state: dict[str, Any]) -> ContainerState:
    """What a running container holds now (``container_state``), from Docker's inspect
    ``state`` of it and its ``docker diff``.

    Example::

        read_state(client, client.api.inspect_container(cid)).processes  # 1
    """
    files = [change["Path"] for change in client.api.diff(state["Id"]) or []]
    pid = state["State"]["Pid"]
    return container_state(pid, state["HostnamePath"], state["HostsPath"], files)


def renamed(hosts: str, old: str, new: str) -> str:
    """/etc/hosts with the name ``old`` replaced by ``new`` wherever it stands as a name: a
    pooled container's hostname, Docker's until a test takes it, then the test's.
    (Not a regex built from ``old``: each would stay in ``re``'s cache, one per container.)

    Example::

        renamed("10.0.0.2\tc0ffee\n", "c0ffee", "web")  # '10.0.0.2\tweb\n'
    """
    return "".join(new if word == old else word for word in _WORDS.split(hosts))


_WORDS = re.compile(r"(\s+)")
