"""What messages say of a value from its facts alone: its name (the compose file's beside
Docker's), why a check cannot enter a container (its ``network_mode``), and which ports it
does not publish.

Example::

    no_namespace("compose service 'agent' (dn-1a2b-shop-agent-1)", "host")
    # "compose service 'agent' (...) has network_mode 'host': no network namespace of its own ..."
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..addressing import IPAddress


def no_namespace(who: str, network_mode: str) -> str:
    """Why a check cannot enter the container ``who``, whose ``network_mode`` is ``host``,
    ``service:<name>`` or ``container:<name>``, and what to check instead.

    >>> no_namespace("container 'b'", "container:a")  # doctest: +ELLIPSIS
    "container 'b' has network_mode 'container:a': ... (dockernet.existing_container('a')) instead"
    """
    kind, _, other = network_mode.partition(":")
    if kind == "host":
        instead = (
            "host networking uses the host's own namespace, so it reaches what the host "
            "reaches: check the services it talks to from a container on their networks, "
            "or give it a network of its own (networks:) to check it there"
        )
    else:
        whose = (
            f"stack.services[{other!r}]"
            if kind == "service"
            else f"dockernet.existing_container({other!r})"
        )
        instead = (
            f"it shares the network namespace of {kind} {other!r}: run the check on that "
            f"one ({whose}) instead"
        )
    return (
        f"{who} has network_mode {network_mode!r}: no network namespace of its own "
        f"to check; {instead}"
    )


def not_published(
    who: str,
    port: object,
    proto: str,
    ports: Iterable[Mapping[tuple[int, str], tuple[IPAddress, int]]],
    service: str | None,
) -> str:
    """That ``port``/``proto`` is not published by ``who``, what is (``ports``: the bindings
    of each family), and how to publish it: in the compose file of ``service``, else through
    ``container()``.

    >>> not_published("container 'web'", 9000, "tcp", [{}], None)  # doctest: +ELLIPSIS
    "container 'web' does not publish port 9000/tcp (it publishes: nothing); pass ports=..."
    """
    shown = ", ".join(
        f"{p}/{pr} on {f'[{ip}]' if ip.version == 6 else ip}:{hp}"
        for bound in ports
        for (p, pr), (ip, hp) in sorted(bound.items())
    )
    key = repr(port) if proto == "tcp" else repr(f"{port}/{proto}")
    fix = (
        f"add {port}/{proto} to the `ports:` of service {service!r}"
        if service is not None
        else f"pass ports={{{key}: None}} to container()"
    )
    return (
        f"{who} does not publish port {port!r}/{proto} (it publishes: {shown or 'nothing'}); {fix}"
    )


def shown(alias: str, known_as: str | None, name: str) -> str:
    """A value's name in messages: the test's name, or the compose file's with Docker's beside.

    >>> shown("web", "web", "dn-1a2b-shop-web-1")
    "'web' (dn-1a2b-shop-web-1)"
    """
    if known_as is None:
        return repr(alias)
    return f"{known_as!r} ({name})"
