"""Whether the frames a bridge forwards pass the firewall: the ``net.bridge.bridge-nf-call-*``
sysctls of br_netfilter. With them at 1 (br_netfilter's default, and this kernel's), a packet a
router container sends to another container on the same bridge goes through iptables too, so
Docker >= 28's raw drop of packets arriving on a foreign bridge sees it; at 0 (a typical
Docker 28 host) it does not.
"""

from __future__ import annotations

from pathlib import Path

BRIDGE_NF = ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables")
"""The sysctls (``net.bridge.*``, per network namespace) that send bridged frames through
iptables and ip6tables: 1 where br_netfilter is loaded (its default), 0 on a typical Docker 28
host."""
_SYSCTLS = Path("/proc/sys/net/bridge")


def bridge_nf(name: str = BRIDGE_NF[0]) -> str:
    """The value of ``net.bridge.<name>`` in this process's network namespace (the engine's),
    or ``absent`` where br_netfilter is not loaded (bridged frames then skip the firewall).

    E.g. ``bridge_nf()`` is ``'1'`` on a host where something loaded br_netfilter.
    """
    try:
        return (_SYSCTLS / name).read_text().strip()
    except FileNotFoundError:
        return "absent"


def bridged_frames_filtered(family: int = 4) -> bool:
    """Whether IPv4 frames a bridge forwards pass iptables (``bridge-nf-call-iptables=1``);
    IPv6 frames ip6tables with ``family=6`` (``bridge-nf-call-ip6tables=1``).

    E.g. ``if bridged_frames_filtered(): ...`` on a host with br_netfilter loaded.
    """
    return bridge_nf(BRIDGE_NF[0] if family == 4 else BRIDGE_NF[1]) == "1"
