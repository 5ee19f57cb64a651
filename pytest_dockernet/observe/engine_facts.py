"""The facts about the engine that decide how a topology behaves, as moby's maintainers ask
reporters for them: Docker's version, the firewall backend it reports and the one where its
rules really are, the iptables variant, the kernel, and whether bridged frames pass the firewall
(``net.bridge.bridge-nf-call-iptables``), which decides what Docker >= 28's direct-routing drop
sees. The report header prints them, so that a run's output says which engine it saw.
"""

from __future__ import annotations

import platform
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..errors import DockernetError
from .firewall import (
    BRIDGE_NF,
    Backend,
    bridge_nf,
    detect_backend,
    ip6tables_rules,
    read_nat_table,
    reported_backend,
)

_VARIANTS = {Backend.IPTABLES_NFT: "nf_tables", Backend.IPTABLES_LEGACY: "legacy"}
"""As ``iptables -V`` names them."""


@dataclass(frozen=True)
class EngineFacts:
    version: str
    reported_backend: str
    """What ``docker info`` says (``FirewallBackend.Driver``), "(not reported)" before 28."""
    rules_found: str
    """Where Docker's nat rules were found: iptables-nft, iptables-legacy or nftables."""
    iptables: str
    """The variant ``iptables`` on PATH is, which is what Docker runs."""
    kernel: str
    bridge_nf: str
    """``bridge-nf-call-iptables=1, bridge-nf-call-ip6tables=1``: bridged frames pass the
    firewall (``absent`` where br_netfilter is not loaded)."""
    ip6tables: str = "(not read)"
    """``on`` when the engine writes IPv6 firewall rules (the daemon's ``ip6tables``), else
    ``off``: then nothing isolates its networks from each other over IPv6, and nothing
    masquerades them."""

    def __str__(self) -> str:
        return (
            f"Docker {self.version}, firewall backend {self.reported_backend} (rules found in "
            f"{self.rules_found}), iptables {self.iptables}, ip6tables rules {self.ip6tables}, "
            f"kernel {self.kernel}, net.bridge: {self.bridge_nf}"
        )


def engine_facts(info: dict[str, Any], ipv6_bridges: Collection[str]) -> EngineFacts:
    """The facts from ``docker info`` and the host; a firewall that cannot be read is named as
    such rather than failing the run, which the assertions that need it will do. Whether the
    engine writes IPv6 rules is read from the rules naming ``ipv6_bridges``, the bridges of its
    networks with IPv6 (:func:`~pytest_dockernet.engine.client.ipv6_bridges`): without one it
    is not known yet.

    Example:
        ```python
        client = connect()
        print(engine_facts(client.info(), ipv6_bridges(client)))
        # Docker 28.5.2, firewall backend iptables (rules found in iptables-nft), ...
        ```
    """
    try:
        found = read_nat_table(info).backend.value
    except DockernetError as exc:
        found = f"(unreadable: {str(exc).splitlines()[0]})"
    try:
        variant = _VARIANTS[detect_backend({})]
    except DockernetError:
        variant = "(not found)"
    try:
        if not ipv6_bridges:
            ip6 = "(not known: no network with IPv6 to read them by)"
        else:
            ip6 = "on" if ip6tables_rules(info, ipv6_bridges) else "off"
    except DockernetError as exc:
        ip6 = f"(unreadable: {str(exc).splitlines()[0]})"
    return EngineFacts(
        version=str(info.get("ServerVersion", "?")),
        reported_backend=reported_backend(info),
        rules_found=found,
        iptables=variant,
        kernel=str(info.get("KernelVersion") or platform.release()),
        bridge_nf=", ".join(f"{name}={bridge_nf(name)}" for name in BRIDGE_NF),
        ip6tables=ip6,
    )
