from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from riff.transcript.graph import DANGLING, EXTERNAL, ROOT, MessageGraph


@st.composite
def parent_maps(draw: st.DrawFn) -> dict[str, str | None]:
    n = draw(st.integers(1, 40))
    ids = [f"m{i}" for i in range(n)]
    targets = st.one_of(st.none(), st.sampled_from([*ids, "ghost"]))
    return {node: draw(targets) for node in ids}


def _naive_ancestors(parents: dict[str, str | None], node: str) -> list[str]:
    out, seen, cur = [], {node}, parents.get(node)
    while cur is not None and cur in parents and cur not in seen:
        out.append(cur)
        seen.add(cur)
        cur = parents[cur]
    return out


@settings(max_examples=150, deadline=None)
@given(parent_maps())
def test_graph_matches_naive_definitions(parents: dict[str, str | None]) -> None:
    graph = MessageGraph.from_parents(parents)
    for node, parent in parents.items():
        assert graph.ancestors(node) == _naive_ancestors(parents, node)
        assert graph.children(node) == [c for c, p in parents.items() if p == node]
        expected = (
            ROOT
            if parent is None
            else DANGLING
            if parent not in parents
            else graph.index_of(parent)
        )
        assert graph.parent_index(graph.index_of(node)) == expected
        below = set(graph.descendants(node))
        assert below == {
            c for c in parents if c != node and node in _naive_ancestors(parents, c)
        } | ({node} & below)
    assert set(graph.roots()) == {n for n, p in parents.items() if p is None}
    assert set(graph.dangling()) == {n for n, p in parents.items() if p == "ghost"}
    assert set(graph.leaves()) == {n for n in parents if n not in set(parents.values())}


@settings(max_examples=150, deadline=None)
@given(parent_maps())
def test_cycles_are_exactly_the_nodes_that_reach_themselves(parents: dict[str, str | None]) -> None:
    graph = MessageGraph.from_parents(parents)
    on_cycle = set()
    for node in parents:
        cur, steps = parents.get(node), 0
        while cur is not None and cur in parents and steps <= len(parents):
            if cur == node:
                on_cycle.add(node)
                break
            cur, steps = parents[cur], steps + 1
    cycles = graph.cycles()
    assert {n for c in cycles for n in c} == on_cycle
    assert sum(len(c) for c in cycles) == len(on_cycle)  # each cycle reported once
    for cycle in cycles:
        for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            assert parents[a] == b


@settings(max_examples=100, deadline=None)
@given(parent_maps())
def test_euler_tour_answers_descendant_queries(parents: dict[str, str | None]) -> None:
    graph = MessageGraph.from_parents(parents)
    tin, tout = graph.euler_tour()
    for a in parents:
        ia = graph.index_of(a)
        if tin[ia] < 0:
            continue
        below = set(graph.descendants(a))
        for b in parents:
            ib = graph.index_of(b)
            if tin[ib] < 0 or a == b:
                continue
            assert (tin[ia] <= tin[ib] < tout[ia]) == (b in below)


def test_overrides_and_external_parents() -> None:
    graph = MessageGraph(
        [("a", None), ("b", "a"), ("c", "elsewhere")], external_uuids={"elsewhere"}
    )
    assert graph.parent_index(graph.index_of("c")) == EXTERNAL
    assert graph.dangling() == []
    assert graph.chain("b") == ["b", "a"]


def test_duplicate_uuid_keeps_first_occurrence() -> None:
    graph = MessageGraph([("a", None), ("b", "a"), ("b", None)])
    assert len(graph) == 2 and graph.parent_of("b") == "a"


def test_million_message_chain_is_linear_and_iterative() -> None:
    n = 1_000_000
    ids = [f"{i:07d}" for i in range(n)]
    graph = MessageGraph(zip(ids, [None, *ids[:-1]], strict=True))
    assert graph.leaves() == [ids[-1]]
    assert graph.roots() == [ids[0]]
    chain = graph.chain(ids[-1])
    assert len(chain) == n and chain[-1] == ids[0]
    assert len(graph.descendant_indices(0)) == n - 1
    assert graph.cycle_indices() == []
    tin, tout = graph.euler_tour()
    assert tin[n - 1] == n - 1 and tout[0] == n
