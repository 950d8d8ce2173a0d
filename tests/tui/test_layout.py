"""The fast outline walk lays out exactly what the plain stack walk does."""

from __future__ import annotations

import random
from array import array

import pytest

from riff.transcript import MessageGraph
from riff.tui.layout import Outline, build_outline


def reference_outline(graph: MessageGraph, collapsed: set[int]) -> Outline:
    """The straightforward walk: every node through the stack, sizes by traversal."""
    n = len(graph)
    roots = [i for i in range(n) if graph.parent_index(i) < 0]
    seen = bytearray(n)
    for root in roots:
        seen[root] = 1
        for d in graph.descendant_indices(root):
            seen[d] = 1
    cycle_starts: list[int] = []
    for i in range(n):
        if not seen[i]:
            cycle_starts.append(i)
            seen[i] = 1
            for d in graph.descendant_indices(i):
                seen[d] = 1
    starts = roots + cycle_starts
    size = array("q", [1]) * n
    order: list[int] = []
    walked = bytearray(n)
    for s in starts:
        stack = [s]
        while stack:
            node = stack.pop()
            if walked[node]:
                continue
            walked[node] = 1
            order.append(node)
            stack.extend(graph.child_indices(node))
    for node in reversed(order):
        parent = graph.parent_index(node)
        if parent >= 0 and node not in starts:
            size[parent] += size[node]
    nodes, depths, row_of = array("q"), array("q"), array("q", [-1]) * n
    visited = bytearray(n)
    for start in starts:
        todo = [(start, 0)]
        while todo:
            node, d = todo.pop()
            if visited[node]:
                continue
            visited[node] = 1
            row_of[node] = len(nodes)
            nodes.append(node)
            depths.append(d)
            if node in collapsed:
                continue
            children = [c for c in graph.child_indices(node) if not visited[c]]
            if not children:
                continue
            main = max(reversed(children), key=size.__getitem__)
            todo.append((main, d))
            todo.extend((c, d + 1) for c in reversed(children) if c != main)
    return Outline(nodes, depths, row_of, frozenset(cycle_starts))


def random_graph(rng: random.Random) -> MessageGraph:
    n = rng.randint(0, 40)
    uuids = [f"m{i}" for i in range(n)]
    pairs: list[tuple[str, str | None]] = []
    for i in range(n):
        r = rng.random()
        if r < 0.1 or i == 0:
            parent: str | None = None
        elif r < 0.15:
            parent = "not-in-file"
        elif r < 0.25:
            parent = uuids[rng.randrange(n)]  # later in the file, itself or a cycle
        else:
            parent = uuids[rng.randrange(max(0, i - 3), i)]
        pairs.append((uuids[i], parent))
    return MessageGraph(pairs)


@pytest.mark.parametrize("seed", range(20))
def test_outline_matches_the_reference_walk(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        graph = random_graph(rng)
        n = len(graph)
        collapsed = set(rng.sample(range(n), min(n, rng.randint(0, 3))))
        got, want = build_outline(graph, collapsed), reference_outline(graph, collapsed)
        assert list(got.nodes) == list(want.nodes)
        assert list(got.depths) == list(want.depths)
        assert list(got.row_of) == list(want.row_of)
        assert got.cycle_starts == want.cycle_starts
