"""The plugin's options as ``Settings.from_config`` resolves them: the command line over the
environment over the ini file over the default, and a usage error for a bad pool or prefix.

Each test parses a real command line and a real ini file with ``pytester.parseconfig`` (the
installed plugin adds its options), in a fresh directory; no engine is involved.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from pytest_dockernet import settings
from pytest_dockernet.settings import Settings


@dataclass(frozen=True)
class Option:
    name: str
    cli: str
    env: str
    ini: str
    default: object
    values: dict[str, str]
    """A distinct value for each of "cli", "env" and "ini"."""
    parsed: type = str
    ini_relative: bool = False
    """A path that, from the ini file, is relative to the ini file's directory."""

    def expected(self, source: str | None, inidir: object) -> object:
        if source is None:
            return self.default
        if source == "ini" and self.ini_relative:
            return f"{inidir}/{self.values['ini']}"
        return self.parsed(self.values[source])


OPTIONS = [
    Option(
        "image",
        "--dockernet-image",
        "DOCKERNET_IMAGE",
        "dockernet_image",
        None,
        {"cli": "cli/image:1", "env": "env/image:2", "ini": "ini/image:3"},
    ),
    Option(
        "pool",
        "--dockernet-pool",
        "DOCKERNET_POOL",
        "dockernet_pool",
        "10.199.0.0/16",
        {"cli": "10.30.0.0/16", "env": "10.20.0.0/16", "ini": "10.10.0.0/16"},
    ),
    Option(
        "pool6",
        "--dockernet-pool6",
        "DOCKERNET_POOL6",
        "dockernet_pool6",
        "fd64:6e65:7400::/48",
        {"cli": "fd00:30::/48", "env": "fd00:20::/56", "ini": "fd00:10::/64"},
    ),
    Option(
        "prefix",
        "--dockernet-prefix",
        "DOCKERNET_PREFIX",
        "dockernet_prefix",
        24,
        {"cli": "28", "env": "27", "ini": "26"},
        int,
    ),
    Option(
        "warm",
        "--dockernet-warm",
        "DOCKERNET_WARM",
        "dockernet_warm",
        0,
        {"cli": "4", "env": "2", "ini": "9"},
        int,
    ),
    Option(
        "record",
        "--dockernet-record",
        "DOCKERNET_RECORD",
        "dockernet_record",
        None,
        {"cli": "cli.json", "env": "env.json", "ini": "ini.json"},
    ),
    Option(
        "compare",
        "--dockernet-compare",
        "DOCKERNET_COMPARE",
        "dockernet_compare",
        None,
        {"cli": "a/cli.json", "env": "b/env.json", "ini": "c/ini.json"},
    ),
    Option(
        "report",
        "--dockernet-report",
        "DOCKERNET_REPORT",
        "dockernet_report",
        None,
        {"cli": "cli-report", "env": "env-report", "ini": "ini-report"},
    ),
    Option(
        "compose",
        "--dockernet-compose",
        "DOCKERNET_COMPOSE",
        "dockernet_compose",
        None,
        {"cli": "cli/compose.yaml", "env": "env/compose.yaml", "ini": "deploy/compose.yaml"},
        ini_relative=True,
    ),
    Option(
        "compose_project",
        "--dockernet-compose-project",
        "DOCKERNET_COMPOSE_PROJECT",
        "dockernet_compose_project",
        None,
        {"cli": "shop", "env": "shop-env", "ini": "shop-ini"},
    ),
]
FLAGS = [
    ("keep", "--dockernet-keep", "DOCKERNET_KEEP", "dockernet_keep"),
    ("sweep", "--dockernet-sweep", "DOCKERNET_SWEEP", "dockernet_sweep"),
    (
        "allow_external",
        "--dockernet-allow-external",
        "DOCKERNET_ALLOW_EXTERNAL",
        "dockernet_allow_external",
    ),
]
ENV_VARS = [o.env for o in OPTIONS] + [env for _, _, env, _ in FLAGS]
SOURCES = ("cli", "env", "ini")  # highest precedence first
SUBSETS = [s for n in range(len(SOURCES) + 1) for s in itertools.combinations(SOURCES, n)]


@pytest.fixture(autouse=True)
def no_dockernet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the environment running these tests sets, each test starts from none of it."""
    for env in ENV_VARS:
        monkeypatch.delenv(env, raising=False)


def resolve(
    pytester: pytest.Pytester, args: list[str], ini: dict[str, str] | None = None
) -> Settings:
    if ini:
        pytester.makeini("[pytest]\n" + "".join(f"{k} = {v}\n" for k, v in ini.items()))
    return Settings.from_config(pytester.parseconfig(*args))


def test_these_tests_cover_every_option_and_flag() -> None:
    assert {o.name for o in OPTIONS} == set(settings.OPTIONS)
    assert {name for name, *_ in FLAGS} == set(settings.FLAGS)
    assert {o.name: o.env for o in OPTIONS} == {k: v[0] for k, v in settings.OPTIONS.items()}
    assert {n: env for n, _, env, _ in FLAGS} == {k: v[0] for k, v in settings.FLAGS.items()}


def test_defaults(pytester: pytest.Pytester) -> None:
    assert resolve(pytester, []) == Settings(
        image=None,
        pool="10.199.0.0/16",
        prefix=24,
        keep=False,
        sweep=False,
        allow_external=False,
    )


@pytest.mark.parametrize("given", SUBSETS, ids=lambda s: "+".join(s) or "none")
@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_option_precedence(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    option: Option,
    given: tuple[str, ...],
) -> None:
    """Of the sources that set the option, the first of command line, environment, ini wins."""
    args = [f"{option.cli}={option.values['cli']}"] if "cli" in given else []
    if "env" in given:
        monkeypatch.setenv(option.env, option.values["env"])
    ini = {option.ini: option.values["ini"]} if "ini" in given else None
    found = getattr(resolve(pytester, args, ini), option.name)
    winner = next((s for s in SOURCES if s in given), None)
    assert found == option.expected(winner, pytester.path)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_an_empty_environment_value_counts_as_unset(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, option: Option
) -> None:
    monkeypatch.setenv(option.env, "")
    found = resolve(pytester, [], {option.ini: option.values["ini"]})
    assert getattr(found, option.name) == option.expected("ini", pytester.path)


def test_options_do_not_leak_into_each_other(pytester: pytest.Pytester) -> None:
    found = resolve(pytester, ["--dockernet-image=only/this:1"])
    assert (found.image, found.pool, found.prefix) == ("only/this:1", "10.199.0.0/16", 24)


@pytest.mark.parametrize("source", ["cli", "env", "ini", None])
@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_each_source_alone_turns_a_flag_on(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    cli: str,
    env: str,
    ini: str,
    source: str | None,
) -> None:
    if source == "env":
        monkeypatch.setenv(env, "1")
    found = resolve(
        pytester, [cli] if source == "cli" else [], {ini: "true"} if source == "ini" else None
    )
    assert getattr(found, name) is (source is not None)
    others = [f for f, *_ in FLAGS if f != name]
    assert [getattr(found, other) for other in others] == [False] * len(others)


@pytest.mark.parametrize(
    ("value", "on"),
    [
        *[(on, True) for on in ("1", "true", "TRUE", "yes", "Yes", "on")],
        *[(off, False) for off in ("0", "false", "no", "", "off", " No ")],
    ],
)
@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_flag_values_in_the_environment(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    cli: str,
    env: str,
    ini: str,
    value: str,
    on: bool,
) -> None:
    monkeypatch.setenv(env, value)
    assert getattr(resolve(pytester, []), name) is on


@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_the_environment_turns_off_what_the_ini_turns_on(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    cli: str,
    env: str,
    ini: str,
) -> None:
    monkeypatch.setenv(env, "0")
    assert getattr(resolve(pytester, [], {ini: "true"}), name) is False


@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_an_unreadable_flag_in_the_environment_is_a_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    cli: str,
    env: str,
    ini: str,
) -> None:
    monkeypatch.setenv(env, "2")
    with pytest.raises(
        pytest.UsageError, match=f"^{env}='2': use 1/true/yes/on or 0/false/no/off$"
    ):
        resolve(pytester, [])


@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_an_ini_flag_set_false_stays_off(
    pytester: pytest.Pytester, name: str, cli: str, env: str, ini: str
) -> None:
    assert getattr(resolve(pytester, [], {ini: "false"}), name) is False


@pytest.mark.parametrize(("name", "cli", "env", "ini"), FLAGS, ids=[f[0] for f in FLAGS])
def test_the_command_line_turns_a_flag_on_over_a_false_environment_and_ini(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    cli: str,
    env: str,
    ini: str,
) -> None:
    monkeypatch.setenv(env, "0")
    assert getattr(resolve(pytester, [cli], {ini: "false"}), name) is True


# --- usage errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "detail"),
    [
        ("10.199.0.1/16", "has host bits set"),
        ("10.199.0.0/33", "'33' is not a valid netmask"),
        ("not-a-network", "Expected 4 octets in 'not-a-network'"),
        ("fd00::/64", "Expected 4 octets in 'fd00::'"),
    ],
)
@pytest.mark.parametrize("source", ["cli", "env", "ini"])
def test_a_bad_pool_is_a_usage_error_naming_it(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    pool: str,
    detail: str,
) -> None:
    if source == "env":
        monkeypatch.setenv("DOCKERNET_POOL", pool)
    args = [f"--dockernet-pool={pool}"] if source == "cli" else []
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, args, {"dockernet_pool": pool} if source == "ini" else None)
    message = str(info.value)
    assert message.startswith(f"--dockernet-pool {pool!r} is not an IPv4 network: "), message
    assert detail in message
    assert message.endswith(
        "write it as address/prefix with no host bits set, e.g. '10.231.1.0/24'"
    )


@pytest.mark.parametrize(
    ("pool6", "detail"),
    [
        ("fd00::1/48", "is not an IPv6 network: "),
        ("10.0.0.0/16", "is not an IPv6 network: "),
        ("fd00::/65", "is smaller than one /64: give a /64 or larger"),
    ],
)
def test_a_bad_ipv6_pool_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, pool6: str, detail: str
) -> None:
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, [f"--dockernet-pool6={pool6}"])
    assert str(info.value).startswith(
        f"--dockernet-pool6 {pool6!r}" if "not" in detail else "--dockernet-pool6 fd00::/65"
    )
    assert detail in str(info.value)


# The last two: full-width "24", and "2" squared (isdigit() accepts both).
BAD_PREFIXES = ["7", "31", "0", "-1", "24.0", "/24", "twenty", "\uff12\uff14", "2\u00b2"]


@pytest.mark.parametrize(
    ("source", "prefix"),
    [(source, prefix) for source in ("cli", "env", "ini") for prefix in BAD_PREFIXES]
    # An ini file strips the spaces around a value; the command line and environment do not.
    + [("cli", " 24"), ("env", "24 ")],
)
def test_a_bad_prefix_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, prefix: str
) -> None:
    if source == "env":
        monkeypatch.setenv("DOCKERNET_PREFIX", prefix)
    args = [f"--dockernet-prefix={prefix}"] if source == "cli" else []
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, args, {"dockernet_prefix": prefix} if source == "ini" else None)
    assert str(info.value) == f"--dockernet-prefix {prefix!r} must be a whole number from 8 to 30"


@pytest.mark.parametrize("prefix", ["8", "30"])
def test_the_prefix_bounds_are_allowed(pytester: pytest.Pytester, prefix: str) -> None:
    assert resolve(pytester, [f"--dockernet-prefix={prefix}"]).prefix == int(prefix)


def test_a_bad_pool_is_reported_even_when_the_command_line_sets_other_options(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment's pool is checked although the command line sets the prefix."""
    monkeypatch.setenv("DOCKERNET_POOL", "10.1.2.3/8")
    with pytest.raises(pytest.UsageError, match=r"^--dockernet-pool '10\.1\.2\.3/8' "):
        resolve(pytester, ["--dockernet-prefix=26"])


@pytest.mark.parametrize("value", ["-1", "many", "65", "1.5"])
def test_a_bad_warm_pool_size_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, value: str
) -> None:
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, [f"--dockernet-warm={value}"])
    assert (
        str(info.value) == f"--dockernet-warm {value!r} must be a whole number from 0 (off) to 64"
    )
