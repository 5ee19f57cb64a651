"""A test's picture: its networks, containers, routers and upstreams, and every probe it made
as an edge, laid out by Graphviz's ``dot`` and drawn as SVG.

A probe that was answered is a solid green edge, one that went unanswered as expected a grey
dashed one, and one whose outcome the assertion did not expect a thick red one labelled with
what was seen. Every node and edge carries a ``class`` (``network``, ``container``, ``router``,
``upstream``, ``host``, ``address``; ``member``, ``probe answered``, ``probe unanswered``,
``probe failed``, and for two records compared ``flipped``, ``new``, ``gone`` or
``underneath`` beside those: :mod:`pytest_dockernet.report.changes`) and an ``id``, so a page
or a browser test can find them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

INSTALL = "apt-get install graphviz (Debian, Ubuntu), dnf install graphviz, brew install graphviz"


def without_dot(option: str) -> str:
    """What to say when ``dot`` is missing and ``option`` asked for a picture.

    Example::

        without_dot("--html")  # "--html draws with Graphviz's dot, which is not on PATH: ..."
    """
    return (
        f"{option} draws with Graphviz's dot, which is not on PATH: install it ({INSTALL}), "
        f"or leave out {option}"
    )


ANSWERED, UNANSWERED, FAILED, FLIPPED = "#1a7f37", "#6e7781", "#cf222e", "#bc4c00"
_FONT = "Helvetica,Arial,sans-serif"


def _id(kind: str, name: str) -> str:
    return f"{kind}-" + re.sub(r"[^\w.-]", "_", name)


def graph(topology: Mapping[str, Any], probes: Sequence[Mapping[str, Any]]) -> graphviz.Digraph:
    """The picture's Graphviz graph (its ``source`` is DOT; :func:`svg` draws it).

    Example::

        graph(snapshot.topology(dn), snapshot.probes(recorder.probes)).source  # 'digraph {...'
    """
    g = graphviz.Digraph(
        "topology",
        graph_attr={
            "rankdir": "LR",
            "fontname": _FONT,
            "nodesep": "0.35",
            "ranksep": "0.9",
            "forcelabels": "true",
        },
        node_attr={"fontname": _FONT, "fontsize": "11"},
        edge_attr={"fontname": _FONT, "fontsize": "9"},
    )
    nodes: dict[str, str] = {}  # a probe's end -> its node's id
    for net in topology["networks"]:
        lines = [f"network {net['alias']}", *(s for s in (net["subnet"], net["subnet6"]) if s)]
        if net["bridge"] is not None:  # None in a record's outline: no run-specific values
            lines.append(f"bridge {net['bridge']}")
        else:
            lines.append(" + ".join(net.get("families", [])))
        if net["internal"]:
            lines.append("internal: no way out")
        elif not net["masquerade"]:
            lines.append("not masqueraded")
        g.node(
            _id("network", net["alias"]),
            "\n".join(lines),
            shape="box",
            style="rounded,filled",
            fillcolor="#ddf4ff",
            color="#54aeff",
            **{
                "class": "network",
                "id": _id("network", net["alias"]),
                "tooltip": f"Docker network {net['name'] or net['alias']}",
            },
        )
    for c in topology["containers"]:
        kind = "router" if c["router"] else "container"
        node = nodes[c["alias"]] = _id(kind, c["alias"])
        label = c["alias"] + (f"\nservice {c['service']}" if c["service"] else "")
        g.node(
            node,
            label,
            shape="hexagon" if c["router"] else "ellipse",
            style="filled",
            fillcolor="#fff8c5" if c["router"] else "#ffffff",
            **{"class": kind, "id": node, "tooltip": f"{kind} {c['alias']}"},
        )
        for net_alias, ips in c["addresses"].items():
            g.edge(
                node,
                _id("network", net_alias),
                label="\n".join(ips),
                dir="none",
                color="#8c959f",
                **{"class": "member", "id": _id("member", f"{c['alias']}-{net_alias}")},
            )
    for u in topology["upstreams"]:
        node = nodes[u["name"]] = _id("upstream", u["name"])
        label = "\n".join(
            [f"upstream {u['name']}", *(a for a in (u["address"], u["address6"]) if a)]
        )
        g.node(
            node,
            label,
            shape="box3d",
            **{
                "class": "upstream",
                "id": node,
                "tooltip": f"outside the host, via {u['host_interface'] or 'its own link'}",
            },
        )
    for i, probe in enumerate(probes):
        ends = []
        for end in (probe["source"], probe["target"]):
            if end not in nodes:
                host = end == "host"
                nodes[end] = _id("host" if host else "address", end)
                g.node(
                    nodes[end],
                    "the host" if host else end,
                    shape="house" if host else "plaintext",
                    **{"class": "host" if host else "address", "id": nodes[end]},
                )
            ends.append(nodes[end])
        _probe_edge(g, i, ends[0], ends[1], probe)
    return g


def _probe_edge(g: graphviz.Digraph, i: int, src: str, dst: str, probe: Mapping[str, Any]) -> None:
    if probe["failed"]:
        outcome = "answered, expected no answer" if probe["answered"] else "no answer"
        style = {"color": FAILED, "fontcolor": FAILED, "penwidth": "2.5", "style": "bold"}
        label, state = f"FAILED: {outcome}\n{probe['detail']}{_why(probe)}", "failed"
    elif probe["answered"]:
        style = {"color": ANSWERED, "penwidth": "1.4"}
        label, state = probe["detail"], "answered"
    else:
        style = {"color": UNANSWERED, "fontcolor": UNANSWERED, "style": "dashed"}
        label, state = f"{probe['detail']} (no answer, as expected)", "unanswered"
    change = probe.get("change", "")
    if change:  # two records compared (dockernet-diff --html, a compared run's report)
        label = f"{change.upper()}: {probe['was']}\n{label}"
        style = {**style, **_CHANGED[change]}
        state = f"{state} {change}"
    g.edge(
        src,
        dst,
        xlabel=label,  # placed after the layout, where it overlaps nothing else
        constraint="false",
        **style,
        **{
            "class": f"probe {state}",
            "id": f"probe-{i}",
            "tooltip": f"{probe['kind']}: {probe['source']} -> {probe['target']}",
        },
    )


_CHANGED = {
    "flipped": {"color": FLIPPED, "fontcolor": FLIPPED, "penwidth": "3", "style": "bold"},
    "new": {"color": FLIPPED, "fontcolor": FLIPPED, "penwidth": "2"},
    "gone": {"color": UNANSWERED, "fontcolor": UNANSWERED, "style": "dotted"},
    "underneath": {"fontcolor": FLIPPED},
}
"""How a probe that changed between two records is drawn over its outcome's colours."""

_RULE = re.compile(r"^(dropped by .*?`[^`]*`(?: \(\+\d+ packets?\))?):.*$")
"""A dropping rule's line without the explanation after it (the failure message has that)."""


def _why(probe: Mapping[str, Any]) -> str:
    """The lines of a failed probe's diagnosis that name its fate (the rule that dropped it,
    where its trace last saw it), wrapped for an edge label."""
    fate = [
        _RULE.sub(r"\1", line.strip())
        for line in probe.get("why", "").splitlines()
        if line.strip().startswith(("dropped by", "trace:"))
    ]
    return "".join("\n" + textwrap.fill(line, 60) for line in fate[:2])


_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)


def svg(graphs: Sequence[graphviz.Digraph]) -> list[str]:
    """Each graph drawn as an inline ``<svg>`` element, by one run of ``dot`` for them all (a
    process per test would cost more than the probes).

    Example::

        [drawing] = svg([graph(topology, probes)])  # '<svg width="..." ...'
    """
    if not graphs:
        return []
    source = "".join(g.source for g in graphs)
    out = graphviz.pipe_string("dot", "svg", source, encoding="utf-8")
    drawings = [_PROLOG.sub("", part) for part in out.split("<?xml")[1:]]
    if len(drawings) != len(graphs):
        raise RuntimeError(f"dot drew {len(drawings)} pictures of {len(graphs)} graphs")
    return drawings
