"""The plugin's options, resolved once: command line, then environment, then ini file."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from . import addressing

DEFAULT_WARM = 0
MAX_WARM = 64
"""The largest warm pool (``--dockernet-warm``)."""
"""Off: on 2 cores it gained 10% on Docker 20.10, where it is refused (dockerd deadlocked),
and lost 8% on Docker 28.5 (bench suite1)."""
OPTIONS: dict[str, tuple[str, str, str | None]] = {
    # name: (environment variable, help, default)
    "image": (
        "DOCKERNET_IMAGE",
        "image for containers that name none (default: a busybox "
        "image built locally from busybox-static)",
        None,
    ),
    "pool": (
        "DOCKERNET_POOL",
        "IPv4 range that subnets are allocated from",
        addressing.DEFAULT_POOL,
    ),
    "pool6": (
        "DOCKERNET_POOL6",
        "IPv6 range that the /64s of IPv6 networks are allocated from (a ULA /48 by default)",
        addressing.DEFAULT_POOL6,
    ),
    "prefix": (
        "DOCKERNET_PREFIX",
        "prefix length of allocated subnets",
        str(addressing.DEFAULT_PREFIX),
    ),
    "record": (
        "DOCKERNET_RECORD",
        "write what every assertion observed to this JSON file (one record for the run)",
        None,
    ),
    "compare": (
        "DOCKERNET_COMPARE",
        "compare what every assertion observes with this record; a test whose observations "
        "differ fails",
        None,
    ),
    "report": (
        "DOCKERNET_REPORT",
        "write an HTML report of the run to this directory (index.html): each test's networks, "
        "containers and probes drawn by Graphviz's dot, its matrices, paths and failure",
        None,
    ),
    "warm": (
        "DOCKERNET_WARM",
        "containers of the built-in image kept started ahead of need, each handed to one test "
        "(Docker >= 28; 0, the default, turns the warm pool off)",
        str(DEFAULT_WARM),
    ),
    "compose": (
        "DOCKERNET_COMPOSE",
        "compose file that the dockernet_compose fixture brings up for the run (an ini value "
        "is relative to the ini file)",
        None,
    ),
    "compose_project": (
        "DOCKERNET_COMPOSE_PROJECT",
        "running compose project that the dockernet_compose fixture attaches to (and leaves "
        "running)",
        None,
    ),
}
FLAGS: dict[str, tuple[str, str]] = {
    "keep": ("DOCKERNET_KEEP", "keep every network and container after the run, for debugging"),
    "sweep": ("DOCKERNET_SWEEP", "only remove what dead runs left on the engine, then exit"),
    "allow_external": (
        "DOCKERNET_ALLOW_EXTERNAL",
        "allow probes of addresses outside every "
        "Docker network (traffic that may leave this machine)",
    ),
}


def _option(name: str) -> str:
    return "--dockernet-" + name.replace("_", "-")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dockernet", "Docker network topology (pytest-dockernet)")
    for name, (env, text, default) in OPTIONS.items():
        group.addoption(
            _option(name),
            dest=f"dockernet_{name}",
            default=None,
            help=f"{text}; env {env}, ini dockernet_{name}",
        )
        parser.addini(f"dockernet_{name}", text, default=default)
    for name, (env, text) in FLAGS.items():
        group.addoption(
            _option(name),
            dest=f"dockernet_{name}",
            action="store_true",
            default=None,
            help=f"{text}; env {env}=1, ini dockernet_{name}",
        )
        parser.addini(f"dockernet_{name}", text, type="bool", default=False)


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(config: pytest.Config, name: str, env: str) -> bool:
    """A flag: on from the command line; else the environment, when set, either way; else ini."""
    if config.getoption(f"dockernet_{name}"):
        return True
    value = os.environ.get(env)
    if value is not None:
        if value.strip().lower() in TRUE:
            return True
        if value.strip().lower() in FALSE:
            return False
        raise pytest.UsageError(f"{env}={value!r}: use 1/true/yes/on or 0/false/no/off")
    return bool(config.getini(f"dockernet_{name}"))


@dataclass(frozen=True)
class Settings:
    image: str | None
    pool: str
    prefix: int
    keep: bool
    sweep: bool
    allow_external: bool
    record: str | None = None
    compare: str | None = None
    compose: str | None = None
    compose_project: str | None = None
    warm: int = DEFAULT_WARM
    pool6: str = addressing.DEFAULT_POOL6
    report: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        values: dict[str, object] = {}
        for name, (env, _, _) in OPTIONS.items():
            cli = config.getoption(f"dockernet_{name}")
            values[name] = cli or os.environ.get(env) or config.getini(f"dockernet_{name}")
        for name, (env, _) in FLAGS.items():
            values[name] = _flag(config, name, env)
        compose = values["compose"]
        cli_or_env = config.getoption("dockernet_compose") or os.environ.get("DOCKERNET_COMPOSE")
        if compose and not cli_or_env and config.inipath is not None:
            compose = str(config.inipath.parent / str(compose))
        try:
            addressing.parse_subnet(values["pool"], "--dockernet-pool")
            pool6 = addressing.parse_subnet6(values["pool6"], "--dockernet-pool6")
        except (TypeError, ValueError) as exc:
            raise pytest.UsageError(str(exc)) from None
        if pool6.prefixlen > addressing.DEFAULT_PREFIX6:
            raise pytest.UsageError(
                f"--dockernet-pool6 {pool6} is smaller than one /{addressing.DEFAULT_PREFIX6}: "
                f"give a /64 or larger, e.g. the default {addressing.DEFAULT_POOL6}"
            )
        prefix = str(values["prefix"])
        if not (prefix.isascii() and prefix.isdigit()) or not 8 <= int(prefix) <= 30:
            raise pytest.UsageError(
                f"--dockernet-prefix {prefix!r} must be a whole number from 8 to 30"
            )
        warm = str(values["warm"])
        if not (warm.isascii() and warm.isdigit()) or not 0 <= int(warm) <= MAX_WARM:
            raise pytest.UsageError(
                f"--dockernet-warm {warm!r} must be a whole number from 0 (off) to {MAX_WARM}"
            )
        return cls(
            image=str(values["image"]) if values["image"] else None,
            pool=str(values["pool"]),
            prefix=int(prefix),
            keep=bool(values["keep"]),
            sweep=bool(values["sweep"]),
            allow_external=bool(values["allow_external"]),
            record=str(values["record"]) if values["record"] else None,
            compare=str(values["compare"]) if values["compare"] else None,
            compose=str(compose) if compose else None,
            compose_project=str(values["compose_project"]) if values["compose_project"] else None,
            warm=int(warm),
            pool6=str(pool6),
            report=str(values["report"]) if values["report"] else None,
        )
