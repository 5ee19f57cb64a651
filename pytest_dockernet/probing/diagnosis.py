"""Why a probe got no answer: the firewall rule that dropped it, and where a trace lost it.

A failed probe is sent again between two readings of every rule's packet counter (read-only:
no trace or LOG rule is added), and the DROP/REJECT rules whose counters grew by the packets
the probe lost are named, with what they are where known (Docker >= 28's protection against
direct routing, Docker's isolation between bridges). Other traffic may move the same counters:
then the attribution says it is uncertain. The trace's last hop says where the packet was seen
last. All of it runs only after a failure, so a passing probe costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..addressing import IPAddress
from ..engine.lock import machine_lock
from ..errors import DockernetError, FirewallChurnError
from ..model import Container, Network, Registry
from ..model.arguments import Destination
from ..observe import firewall, routes
from ..observe.links import holding, links
from ..observe.ping import ping
from .trace import trace


@dataclass(frozen=True)
class Resent:
    """A lost probe sent again between two readings of the firewall's counters."""

    lines: str
    """What the counters showed, for a failure message."""
    dropped: bool
    """The loss repeated, and rules naming the probe's interfaces or addresses counted exactly
    that many drops: a rule on its path dropped it (other tests' drops at the same moment
    do not count)."""


def lost_again(
    registry: Registry,
    resend: Callable[[], int],
    count: int,
    path: Iterable[str] = (),
    family: int = 4,
) -> Resent:
    """Run ``resend()`` (which sends ``count`` probes again and returns how many got no
    answer) between two readings of every rule's packet counter, and name what dropped them.

    ``path`` holds the words (bridges, addresses) a rule must name to count as proof that it
    dropped this probe rather than another test's packet at the same moment; ``family=6``
    reads the IPv6 rules."""
    # Shared, as a probe holds it: no process of the plugin makes Docker rewrite its rules
    # meanwhile (20.10 re-inserts FORWARD's isolation jump on every network create, and a
    # probe sent again in that gap is answered where the first one was dropped).
    with machine_lock().reading("sending a lost probe again to find what dropped it"):
        try:
            where = firewall.rules_location(registry.engine_info)
            before = firewall.read_counters(where, family)
        except DockernetError as exc:
            return Resent(f"why: the firewall's counters could not be read ({exc})", False)
        try:
            lost = resend()
        except FirewallChurnError as exc:
            return Resent(
                f"why: not found, since the probe sent again met a changing firewall: {exc}",
                False,
            )
        try:
            after = firewall.read_counters(where, family)
        except DockernetError as exc:
            return Resent(f"why: the firewall's counters could not be read ({exc})", False)
    if lost == 0:
        return Resent(
            f"why: sent again to find the rule that dropped it, the probe was answered "
            f"({count} of {count}): the loss did not repeat",
            False,
        )
    attribution = firewall.attribute(before, after, lost)
    words = tuple(path)
    ours = [d for d in attribution.drops if any(word in d.rule.text for word in words)]
    return Resent(
        f"why, from the counters of `{firewall.counters_command(where, family)}`:\n"
        f"{attribution.describe()}",
        bool(ours) and sum(d.packets for d in ours) == lost,
    )


def dropped_by(src: Container, address: IPAddress, count: int, timeout: float) -> str:
    """Send ``count`` echo requests from ``src`` to ``address`` again and name what dropped
    those that got no answer, as lines for a failure message."""

    def resend() -> int:
        return count - ping(src.pid, address, count=count, timeout=timeout).received

    return lost_again(src.registry, resend, count, family=address.version).lines


def ipv6_rules(registry: Registry, networks: Iterable[Network]) -> str:
    """Whether the engine writes IPv6 firewall rules for ``networks`` (those with IPv6 count)
    and the host forwards IPv6, and what follows, for a message about a probe over IPv6."""
    forwards = routes.forwarding(6)
    state = "forwards" if forwards else "does not forward"
    host = f"net.ipv6.conf.all.forwarding={int(forwards)} (the host {state} IPv6)"
    bridges = [net.bridge for net in networks if net.subnet6 is not None]
    named = ", ".join(bridges) or "(no network with IPv6)"
    try:
        on = firewall.ip6tables_rules(registry.engine_info, bridges)
    except DockernetError as exc:
        return f"ip6tables: cannot tell whether the engine writes IPv6 rules ({exc}); {host}"
    if on:
        return (
            f"ip6tables: the engine writes IPv6 rules for {named} (the daemon's ip6tables is "
            f"on); {host}"
        )
    return (
        f"ip6tables: the engine writes no IPv6 rules for {named} (the daemon's ip6tables is "
        "off, the default before Docker 27): nothing isolates its networks from each other or "
        f"masquerades them over IPv6, and only the kernel decides what is forwarded: {host}. "
        '"ip6tables": true in daemon.json turns Docker\'s IPv6 rules on (Docker >= 27 has it on '
        "by default)"
    )


def unheld_gateway(networks: Iterable[Network], address: IPAddress) -> str:
    """Where ``address`` is the gateway of one of ``networks`` and the host holds it nowhere,
    a line saying so; else "". Docker's IPAM reserves a gateway address for every subnet, but
    with ``gateway_mode`` ``isolated`` (or ``inhibit_ipv4``) the bridge is given none, so
    nothing answers there.

    Example::

        unheld_gateway([iso], iso.gateway)
        # "10.199.62.1 is the gateway of network 'iso' in Docker's IPAM, but the host holds
        #  it on no interface (bridge br-566f635240b1 has no address of it) ..."
    """
    net = next(
        (n for n in networks if address in (n.gateway, n.gateway6) and address is not None), None
    )
    if net is None or holding(links(), address) is not None:
        return ""
    return (
        f"{address} is the gateway of network {net.shown} in Docker's IPAM, but the host holds "
        f"it on no interface (bridge {net.bridge} has no address of it): Docker gives the "
        "bridge no address with gateway_mode isolated (or "
        "com.docker.network.bridge.inhibit_ipv4), so nothing answers there. Probe a container "
        "on the network instead, or give the network another gateway mode if the gateway is "
        "meant to answer"
    )


def why_unanswered(
    src: Container, dst: Destination, address: IPAddress, count: int, timeout: float
) -> str:
    """The dropping rule, and the last hop of a trace of the same probe (over IPv6, whether the
    engine writes IPv6 rules at all, too)."""
    lines = [dropped_by(src, address, count, timeout)]
    unheld = unheld_gateway(src.networks, address)
    if unheld:
        lines.append(unheld)
    if address.version == 6:
        lines.append(ipv6_rules(src.registry, src.addresses6))
    try:
        walked = trace(src.registry, src, dst, timeout=timeout, family=address.version)
    except (DockernetError, ValueError) as exc:
        lines.append(f"trace: not available ({exc})")
    else:
        lines.append(f"trace: {walked.last_seen()}")
    return "\n".join(lines)
