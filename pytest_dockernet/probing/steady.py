"""Probes that stand as verdicts: a probe is repeated while the firewall rules on its path were
rewritten under it (the churn re-probe), and reported when that never stops.

Example::

    result = steady(src, resolve(src, dst), lambda: ping(...), lambda r: r.received > 0)
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TypeVar

from ..engine.lock import machine_lock
from ..errors import FirewallChurnError
from ..model import Container
from ..observe.firewall import churn
from .destinations import Target, path_interfaces

CHURN_ATTEMPTS = 5
"""How often a probe is tried while rules it depends on keep being deleted under it."""
T = TypeVar("T")


def steady(
    src: Container,
    target: Target,
    observe: Callable[[], T],
    answered: Callable[[T], bool],
    *,
    read_rules: Callable[[], dict[tuple[str, str, int], churn.RuleRef]] | None = None,
    read_events: Callable[[float, float], list[churn.NetworkEvent] | None] | None = None,
) -> T:
    """``observe()`` once no firewall rule its packets depend on was rewritten while it ran.

    A network created or removed makes Docker rewrite its rules (20.10 deletes and re-inserts
    FORWARD's jump to its isolation chain on every create), and a packet that meets the gap
    passes where it should not. Only an answer can come from such a gap (Docker's rules drop;
    a missing rule lets through), so an observation that got none stands; one that got answers
    is repeated while rules that could decide its path changed under it, and is never reported
    as a verdict. The repeats hold the machine's firewall lock shared (``firewall_lock``):
    every process of the plugin waits with its network changes meanwhile, so what still
    changes comes from outside, and ``read_events(since, until)`` (Docker's network events;
    ``churn.network_events`` by default) names where.
    """
    interfaces = path_interfaces(src, target)
    if interfaces is None:
        return observe()
    v6 = target.address is not None and target.address.version == 6
    own = src.addresses6.values() if v6 else src.addresses.values()
    endpoints = [*own, *([target.address] if target.address else [])]
    if read_rules is None:  # the rules of the probe's family (ip6tables' over IPv6)
        read_rules = functools.partial(churn.rules, 6 if v6 else 4)
    changed: list[churn.Change] = []
    # The first attempt holds nothing: what observe() waits for (a container's start, which
    # may itself wait to write) is done before any attempt holds the lock.
    for attempt in range(CHURN_ATTEMPTS):
        with machine_lock().reading(f"probing {target.label} from {src}", when=attempt > 0):
            started = time.time()
            before = read_rules()
            result = observe()
            if not answered(result):
                return result
            changed = churn.changes_between(before, read_rules(), interfaces, endpoints)
        if not changed:
            return result
        src.registry.repeated_probes += 1
    events = (read_events or functools.partial(churn.network_events, src.registry.client))(
        started, time.time()
    )
    rules = "\n".join(f"    {change}" for change in changed)
    where = "\n".join(f"    {source}" for source in churn.sources(changed, events))
    raise FirewallChurnError(
        f"the engine's firewall changed while probing {target.label} from {src}, in each of "
        f"{CHURN_ATTEMPTS} attempts, and the last {CHURN_ATTEMPTS - 1} held the firewall lock "
        f"that every process of pytest-dockernet on this machine takes to change networks: "
        f"something outside them rewrote rules that decide this path while the probe ran, so "
        f"its answer cannot be trusted as a verdict. Seen in the last attempt:\n{rules}\n"
        f"Where it came from:\n{where}\n"
        "Stop that while isolation is checked, or make its networks through pytest-dockernet "
        "(which takes the lock)."
    )
