"""The signatures the documentation writes match the code's, parameter by parameter.

In README.md and every docs/**/*.md, a fenced ``python`` block whose first line is exactly
``# signatures`` holds one signature per line, as Python source without annotations and with
defaults as literals; an optional ``-> ...`` return is not compared::

    # signatures
    dockernet.network(name, *, subnet=None, gateway=None, internal=False, masquerade=True, routable=False, options=None)
    assert_reachable(src, dst, count=1, timeout=1.0, reply_ttl=None)

``dockernet.`` names a DockerNet method, ``container.`` a Container one, ``network.`` a Network
one, ``stack.`` a ComposeProject one; a bare name is an attribute of ``pytest_dockernet``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import pytest_dockernet

ROOT = Path(__file__).resolve().parents[2]
OWNERS: dict[str, object] = {
    "dockernet": pytest_dockernet.DockerNet,
    "container": pytest_dockernet.Container,
    "network": pytest_dockernet.Network,
    "stack": pytest_dockernet.ComposeProject,
}
BLOCK = re.compile(r"^```python\n# signatures\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINE = re.compile(r"^(?:(?P<owner>\w+)\.)?(?P<name>\w+)(?P<rest>\(.*)$")
KINDS = {
    "posonlyargs": inspect.Parameter.POSITIONAL_ONLY,
    "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "vararg": inspect.Parameter.VAR_POSITIONAL,
    "kwonlyargs": inspect.Parameter.KEYWORD_ONLY,
    "kwarg": inspect.Parameter.VAR_KEYWORD,
}


def documented_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def signature_lines(text: str) -> list[tuple[int, str]]:
    """Each signature line of the ``# signatures`` blocks of ``text``, with its line number."""
    found = []
    for block in BLOCK.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        for offset, line in enumerate(block.group(1).splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                found.append((first + offset, line.strip()))
    return found


def _documented(rest: str) -> ast.arguments:
    """The parameters of ``(...) -> ...``, the return left out."""
    try:
        tree = ast.parse(f"def f{rest}: ...")
    except SyntaxError:
        tree = ast.parse(f"def f{rest.rsplit('->', 1)[0]}: ...")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return function.args


def _parameters(args: ast.arguments) -> list[tuple[str, inspect._ParameterKind, object]]:
    """(name, kind, default) of each parameter, in order; a default is a literal."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    result = []
    for arg, default in zip(positional, defaults, strict=True):
        kind = KINDS["posonlyargs" if arg in args.posonlyargs else "args"]
        result.append((arg.arg, kind, _literal(default)))
    if args.vararg is not None:
        result.append((args.vararg.arg, KINDS["vararg"], inspect.Parameter.empty))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        result.append((arg.arg, KINDS["kwonlyargs"], _literal(kw_default)))
    if args.kwarg is not None:
        result.append((args.kwarg.arg, KINDS["kwarg"], inspect.Parameter.empty))
    return result


def _literal(node: ast.expr | None) -> object:
    return inspect.Parameter.empty if node is None else ast.literal_eval(node)


def _shown(default: object) -> str:
    return "no default" if default is inspect.Parameter.empty else f"default {default!r}"


def check_line(line: str) -> list[str]:
    """What differs between one documented signature and the code's (nothing: it matches)."""
    if "..." in line:
        return ["'...' stands for parameters: write every one"]
    match = LINE.match(line)
    if match is None:
        return ["not a signature: write owner.name(parameters) or name(parameters)"]
    owner_name, name = match["owner"], match["name"]
    if owner_name is not None and owner_name not in OWNERS:
        return [f"unknown prefix {owner_name!r}: use one of {sorted(OWNERS)}"]
    owner = OWNERS[owner_name] if owner_name is not None else pytest_dockernet
    target = getattr(owner, name, None)
    if target is None or not callable(target):
        return [f"{owner_name or 'pytest_dockernet'} has no callable {name!r}"]
    try:
        written = _parameters(_documented(match["rest"]))
    except (SyntaxError, ValueError) as exc:
        return [f"cannot read the parameters (defaults must be literals): {exc}"]
    actual = list(inspect.signature(target).parameters.values())
    if owner_name is not None and actual and actual[0].name == "self":
        actual = actual[1:]
    real = [(p.name, p.kind, p.default) for p in actual]
    problems = []
    written_names = [n for n, _, _ in written]
    real_names = [n for n, _, _ in real]
    for missing in [n for n in real_names if n not in written_names]:
        problems.append(f"parameter {missing!r} is missing")
    for extra in [n for n in written_names if n not in real_names]:
        problems.append(f"parameter {extra!r} does not exist")
    if not problems and written_names != real_names:
        problems.append(f"order: the code has {real_names}")
    by_name = {n: (k, d) for n, k, d in real}
    for n, kind, default in written:
        if n not in by_name:
            continue
        real_kind, real_default = by_name[n]
        if kind != real_kind:
            problems.append(
                f"parameter {n!r} is {kind.description}, the code's {real_kind.description}"
            )
        if default != real_default or type(default) is not type(real_default):
            problems.append(
                f"parameter {n!r}: {_shown(default)}, the code's {_shown(real_default)}"
            )
    return problems


@pytest.mark.parametrize("path", documented_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_signatures_match_the_code(path: Path) -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{number}: {line}\n    {problem}"
        for number, line in signature_lines(path.read_text())
        for problem in check_line(line)
    ]
    assert not problems, "documented signatures differ from the code:\n" + "\n".join(problems)


def test_the_readme_documents_signatures() -> None:
    assert signature_lines((ROOT / "README.md").read_text()), (
        "README.md has no ```python block starting '# signatures'"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "assert_reachable(src, dst, count=2, timeout=1.0, reply_ttl=None)",
            "'count': default 2, the code's default 1",
        ),
        ("assert_reachable(src, dst, count=1, timeout=1.0)", "parameter 'reply_ttl' is missing"),
        (
            "assert_reachable(src, dst, count=1, timeout=1.0, reply_ttl=None, ttl=1)",
            "parameter 'ttl' does not exist",
        ),
        (
            "dockernet.network(name, subnet=None, gateway=None, internal=False, masquerade=True, routable=False, options=None)",
            "'subnet' is positional or keyword, the code's keyword-only",
        ),
        ("dockernet.network(name, *, subnet=None, ...)", "'...' stands for parameters"),
        ("dockernet.networks_please(name)", "no callable 'networks_please'"),
        ("router.network(name)", "unknown prefix 'router'"),
        ("container.published(proto='tcp', port)", "cannot read the parameters"),
        (
            "dockernet.upstream(image=None, *, name='internet')",
            "'name' is keyword-only, the code's positional or keyword",
        ),
        (
            "dockernet.listen(container, port, *, proto='tcp', allow_existing=0)",
            "'allow_existing': default 0, the code's default False",
        ),
    ],
)
def test_the_checker_reports_a_wrong_signature(line: str, problem: str) -> None:
    assert any(problem in found for found in check_line(line)), check_line(line)


def test_the_checker_accepts_the_codes_signature() -> None:
    assert (
        check_line("container.published(port, proto='tcp', family=4) -> (IPv4Address, int)") == []
    )
    assert (
        check_line(
            "dockernet.router(name, networks, *, image=None, command=None, cap_add=(), sysctls=None, routes=None, env=None, ports=None, aliases=None)"
        )
        == []
    )
