"""The rows a conversation tree shows: a flat, foldable outline of a MessageGraph.

Conversations are long chains with a few branches, so a message's only child
is drawn at the same depth as the message (a thread reads top to bottom) and
depth grows only at branch points. The outline is computed from the graph's
integer arrays with an iterative walk: tens of thousands of messages lay out
in milliseconds, and the widget draws only the rows on screen.

Nodes not reachable from any root (parents that form a cycle) are laid out
after the rest, each group starting at its first node in file order.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection
from dataclasses import dataclass

from riff.transcript import MessageGraph


@dataclass
class Outline:
    nodes: array[int]
    """Node index of each visible row."""
    depths: array[int]
    """Indentation of each visible row."""
    row_of: array[int]
    """Visible row of each node, or -1 when folded away."""
    cycle_starts: frozenset[int]
    """Nodes where a group unreachable from any root starts (a cycle)."""

    def __len__(self) -> int:
        return len(self.nodes)


def _starts(graph: MessageGraph) -> tuple[list[int], list[int]]:
    """Roots (any node without a known parent) and, after them, one entry per cycle group."""
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
    return roots, cycle_starts


def subtree_sizes(graph: MessageGraph, starts: list[int]) -> array[int]:
    """Messages in each node's subtree (itself included), cycle-safe."""
    n = len(graph)
    size = array("q", [1]) * n
    order: list[int] = []
    seen = bytearray(n)
    start_set = set(starts)
    for s in starts:
        stack = [s]
        while stack:
            node = stack.pop()
            if seen[node]:
                continue
            seen[node] = 1
            order.append(node)
            stack.extend(graph.child_indices(node))
    for node in reversed(order):
        parent = graph.parent_index(node)
        if parent >= 0 and node not in start_set:
            size[parent] += size[node]
    return size


def build_outline(graph: MessageGraph, collapsed: Collection[int] = ()) -> Outline:
    """Rows in thread order: side branches indented, the biggest branch continues in place."""
    n = len(graph)
    nodes = array("q")
    depths = array("q")
    row_of = array("q", [-1]) * n
    visited = bytearray(n)
    roots, cycle_starts = _starts(graph)
    size = subtree_sizes(graph, roots + cycle_starts)
    for start in roots + cycle_starts:
        stack = [(start, 0)]
        while stack:
            node, d = stack.pop()
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
            stack.append((main, d))
            for child in reversed(children):
                if child != main:
                    stack.append((child, d + 1))
    return Outline(nodes, depths, row_of, frozenset(cycle_starts))


def ancestors_to_unfold(graph: MessageGraph, node: int, collapsed: Collection[int]) -> list[int]:
    """The folded ancestors that hide `node` (unfold them to show it)."""
    return [a for a in graph.ancestor_indices(node) if a in collapsed]
