"""The reachability matrix: all pairs probed at once, the whole matrix shown on failure."""

from __future__ import annotations

import re

import pytest

from pytest_dockernet.assertions.matrix import assert_reachability
from pytest_dockernet.probing.matrix import reachability


@pytest.fixture
def ten(dockernet):
    net = dockernet.network("mesh")
    with dockernet.parallel():
        members = [dockernet.container(f"m{i}", networks=[net]) for i in range(10)]
    return net, members


def test_full_mesh_of_ten(ten):
    """Every ordered pair is probed once, from its source to its destination's address.

    How long the 90 concurrent probes take is a benchmark's question, not a test's:
    ``python -m bench --only matrix10`` measures it against the docker CLI and docker-py.
    """
    net, members = ten
    observed = assert_reachability(members)
    assert observed.containers == tuple(members)
    expected_pairs = [(s, d) for s in members for d in members if s is not d]
    assert list(observed.results) == expected_pairs
    assert observed.pairs(reachable=False) == []
    for (src, dst), result in observed.results.items():
        assert result is not None
        assert (result.source, result.destination) == (src.alias, dst.ip(net))
        assert (result.sent, result.errors) == (1, ())
        assert [(r.seq, r.source) for r in result.replies] == [(1, dst.ip(net))]


def test_failure_shows_the_whole_matrix(ten, dockernet):
    net, members = ten
    lonely = dockernet.container("lonely", networks=[dockernet.network("island")])
    with pytest.raises(AssertionError) as info:
        assert_reachability([*members[:3], lonely], timeout=0.3)
    text = str(info.value)
    assert text.startswith("6 of 12 pairs differ from what was expected")
    assert re.search(r"^m0 +\. +ok +ok +--!$", text, re.M), text
    assert re.search(r"^lonely +--! +--! +--! +\.$", text, re.M), text
    assert "m0 -> lonely: expected reachable; ping from m0 to" in text


def test_expected_mapping_checks_only_those_pairs(ten, dockernet):
    net, members = ten
    a, b = members[0], members[1]
    lonely = dockernet.container("lonely", networks=[dockernet.network("island")])
    nobody_path = {(a, b): True, (b, a): True}
    observed = assert_reachability(nobody_path)
    assert set(observed.results) == {(a, b), (b, a)}
    with pytest.raises(AssertionError, match=r"1 of 2 pairs differ") as info:
        assert_reachability({(a, b): False, (a, lonely): False}, timeout=0.3)
    assert f"{a.alias} -> lonely" not in str(info.value)  # that pair is as expected
    assert f"{a.alias} -> {b.alias}: expected unreachable" in str(info.value)


def test_misuse(ten):
    net, members = ten
    with pytest.raises(ValueError, match="needs two or more containers"):
        reachability(members[:1])
    with pytest.raises(TypeError, match="takes a list of Containers or a mapping"):
        assert_reachability(members[0])
    with pytest.raises(ValueError, match="probes a container from itself"):
        assert_reachability({(members[0], members[0]): True})
