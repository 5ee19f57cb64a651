"""The bridge driver's options as keywords of ``network()``: ``icc``, ``gateway_mode``, ``mtu``,
``host_binding``, ``bridge_name`` and ``trusted_host_interfaces``, each checked before Docker
sees it.

An engine ignores a driver option it does not know (Docker 20.10 and 26.1 create a network with
``gateway_mode_ipv4=routed`` as if it were not there): a verdict on such a network would be on
a configuration the user did not get. So an option the running engine does not support is a
``ValueError`` naming the Docker version that added it, and the same option given both as a
keyword and in ``options=`` is refused rather than one of them winning.

Docker's versions, from moby's history: ``gateway_mode`` ``nat`` and ``routed`` from 27.0,
``nat-unprotected`` and ``isolated`` from 28.0, ``trusted_host_interfaces`` from 28.2
(moby#49832); the others are older than 20.10.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..engine.client import BRIDGE_NAME_OPTION, MTU_OPTION
from ..model.arguments import check_mtu

ICC_OPTION = "com.docker.network.bridge.enable_icc"
HOST_BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4"
GATEWAY_MODE_OPTIONS = (
    "com.docker.network.bridge.gateway_mode_ipv4",
    "com.docker.network.bridge.gateway_mode_ipv6",
)
GATEWAY_MODES_SINCE = {
    "nat": (27, 0),
    "routed": (27, 0),
    "nat-unprotected": (28, 0),
    "isolated": (28, 0),
}
"""Each gateway mode and the Docker version that added it."""
TRUSTED_OPTION = "com.docker.network.bridge.trusted_host_interfaces"
TRUSTED_SINCE = (28, 2)
"""Docker 28.2 added the option (moby#49832): an older engine ignores it."""
_IFNAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")
"""A Linux interface name: at most 15 characters (IFNAMSIZ less the NUL), no slash or space."""


@dataclass(frozen=True)
class BridgeOptions:
    """What ``network()``'s bridge keywords ask of Docker, unchecked until :meth:`options`.

    Example:
        ```python
        BridgeOptions(icc=False, mtu=1400).options((28, 5), {})
        # {'com.docker.network.bridge.enable_icc': 'false',
        #  'com.docker.network.driver.mtu': '1400'}
        ```
    """

    icc: bool = True
    gateway_mode: str | tuple[str, str] | None = None
    """One mode for both families, or ``(ipv4 mode, ipv6 mode)``."""
    mtu: int | None = None
    host_binding: str | ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    bridge_name: str | None = None
    trusted_host_interfaces: Sequence[str] | None = None
    """Host interfaces whose packets reach the network's containers directly (a router on the
    host's LAN routing to the subnet), where Docker >= 28 drops them by default."""

    def options(
        self, version: tuple[int, int], given: Mapping[str, str], internal: bool = False
    ) -> dict[str, str]:
        """Docker's driver options for these keywords on an engine of ``version``, for a
        network that is ``internal`` or not, checked against the ``given`` options: a keyword
        and an option that say the same thing twice are refused, as is an option this engine
        would ignore.

        Example:
            ```python
            BridgeOptions(gateway_mode="routed").options((26, 1), {})
            # ValueError: gateway_mode='routed' needs Docker >= 27.0; this engine is 26.1 ...
            ```
        """
        wanted: dict[str, str] = {}
        if not isinstance(self.icc, bool):
            raise TypeError(f"icc must be True or False, got {self.icc!r}")
        if not self.icc:
            wanted[ICC_OPTION] = "false"
        wanted.update(self._gateway_modes(version, internal))
        if self.mtu is not None:
            wanted[MTU_OPTION] = str(check_mtu(self.mtu))
        if self.host_binding is not None:
            wanted[HOST_BINDING_OPTION] = str(self._host_binding())
        if self.bridge_name is not None:
            wanted[BRIDGE_NAME_OPTION] = self._bridge_name()
        if self.trusted_host_interfaces is not None:
            wanted[TRUSTED_OPTION] = self._trusted(version)
        for key, value in wanted.items():
            if key in given:
                raise ValueError(
                    f"options={{{key!r}: {given[key]!r}}} and a keyword both set {key} "
                    f"(to {value!r}): keep the keyword, drop it from options="
                )
        return wanted

    def _gateway_modes(self, version: tuple[int, int], internal: bool) -> dict[str, str]:
        mode = self.gateway_mode
        if mode is None:
            return {}
        modes = (mode, mode) if isinstance(mode, str) else mode
        if not (isinstance(modes, tuple) and len(modes) == 2):
            raise TypeError(f"gateway_mode must be a mode or (ipv4 mode, ipv6 mode), got {mode!r}")
        for each in modes:
            since = GATEWAY_MODES_SINCE.get(each) if isinstance(each, str) else None
            if since is None:
                raise ValueError(
                    f"gateway_mode {each!r} is not one of Docker's: pick "
                    f"{', '.join(map(repr, GATEWAY_MODES_SINCE))}"
                )
            if version < since:
                raise ValueError(
                    f"gateway_mode={each!r} needs Docker >= {since[0]}.{since[1]}; this engine "
                    f"is {version[0]}.{version[1]}, which would ignore the option and make a "
                    "network with the default mode (nat): leave gateway_mode unset on it, or "
                    "skip the test before that version"
                )
        if "isolated" in modes and not internal:
            raise ValueError(
                f"gateway_mode={mode!r} needs internal=True: Docker makes an isolated gateway "
                "only on an internal network (it has no address to leave by)"
            )
        return dict(zip(GATEWAY_MODE_OPTIONS, modes, strict=True))

    def _host_binding(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        try:
            return ipaddress.ip_address(self.host_binding)  # type: ignore[arg-type]
        except ValueError:
            raise ValueError(
                f"host_binding={self.host_binding!r} is not an IP address: give the host "
                "address published ports bind to by default, e.g. '127.0.0.1'"
            ) from None

    def _bridge_name(self) -> str:
        return _interface_name(self.bridge_name, "bridge_name")

    def _trusted(self, version: tuple[int, int]) -> str:
        given = self.trusted_host_interfaces
        if isinstance(given, str) or not isinstance(given, Sequence) or not given:
            raise TypeError(
                "trusted_host_interfaces must be a non-empty list of host interface names, "
                f"e.g. ['eth1'], got {given!r}"
            )
        names = [_interface_name(name, "trusted_host_interfaces", wildcard=True) for name in given]
        if version < TRUSTED_SINCE:
            raise ValueError(
                f"trusted_host_interfaces={list(given)!r} needs Docker >= "
                f"{TRUSTED_SINCE[0]}.{TRUSTED_SINCE[1]}; this engine is {version[0]}.{version[1]}, "
                "which would ignore the option (and before 28.0 protects no network from "
                "direct routing at all): leave it unset on it, or skip the test before that "
                "version"
            )
        return ":".join(names)


def _interface_name(name: object, keyword: str, wildcard: bool = False) -> str:
    """``name`` if it is a Linux interface name (with iptables' ``+`` wildcard at its end where
    ``wildcard``), else a ValueError naming the keyword."""
    bare = name[:-1] if wildcard and isinstance(name, str) and name.endswith("+") else name
    if not isinstance(name, str) or not isinstance(bare, str) or not _IFNAME.fullmatch(bare):
        raise ValueError(
            f"{keyword}: {name!r} is not a Linux interface name: 1 to 15 letters, digits, "
            f"'_', '.' or '-'{' (a trailing + matches every name it begins)' if wildcard else ''}"
        )
    return name
