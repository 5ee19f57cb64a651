"""Routers: containers on two or more networks that forward between them, as the seed builds
them (NET_ADMIN and a namespaced ``net.ipv4.ip_forward=1``, nothing outside the container).

Example::

    r = dockernet.router("r", [a, b])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec

from ..model import Container
from ..model.arguments import NetworksArg, normalise_networks
from .containers import container
from .context import BuildContext

P = ParamSpec("P")


def _parameters_of(
    like: Callable[P, Container],
) -> Callable[[Callable[..., Container]], Callable[P, Container]]:
    """Give the decorated function the parameters of ``like``, for mypy and for
    ``inspect.signature``: they are written once, on ``like``."""

    def decorate(function: Callable[..., Container]) -> Callable[P, Container]:
        setattr(function, "__signature__", inspect.signature(like))  # noqa: B010  (mypy: no attribute)
        return function

    return decorate


@_parameters_of(container)
def router(ctx: BuildContext, name: str, networks: NetworksArg, **options: Any) -> Container:
    """A container on two or more networks that forwards between them: ``container()``'s
    parameters, and it gets NET_ADMIN and ``net.ipv4.ip_forward=1`` (namespaced: the host's
    sysctl is untouched) beside the ``cap_add`` and ``sysctls`` given, as the seed's router
    does; on networks with IPv6, ``net.ipv6.conf.all.forwarding=1`` too.

    Example::

        r = dockernet.router("r", [a, b], sysctls={"net.ipv4.conf.all.rp_filter": "0"})
    """
    wanted = normalise_networks(networks, f"router {name!r}")
    if len(wanted) < 2:
        raise ValueError(
            f"router {name!r} is on {len(wanted)} network: a router needs two or more "
            "networks to forward between"
        )
    cap_add = {"NET_ADMIN", *options.pop("cap_add", ())}
    forwarding = {"net.ipv4.ip_forward": "1"}
    if any(net.subnet6 is not None for net in wanted):
        forwarding["net.ipv6.conf.all.forwarding"] = "1"
    sysctls = {**forwarding, **(options.pop("sysctls", None) or {})}
    made = container(ctx, name, wanted, cap_add=cap_add, sysctls=sysctls, **options)
    made.is_router = True
    return made
