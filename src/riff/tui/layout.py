"""The rows a conversation tree shows: a flat, foldable outline of a MessageGraph.

Conversations are long chains with a few branches, so a message's only child
is drawn at the same depth as the message (a thread reads top to bottom) and
depth grows only at branch points. The outline is computed from the graph's
integer arrays: subtree sizes in one reverse pass when every parent comes
before its child (the usual file), and a walk that follows a chain without
touching the stack. Fifty thousand messages lay out in tens of milliseconds,
and the widget draws only the rows on screen.

Nodes not reachable from any root (parents that form a cycle) are laid out
after the rest, each group starting at its first node in file order.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection
from dataclasses import dataclass
from heapq import merge

from riff.transcript import MessageGraph
from riff.transcript.graph import DANGLING, EXTERNAL, ROOT


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


def _roots(graph: MessageGraph) -> list[int]:
    """Nodes without a known parent (null, missing or in another file), in file order."""
    return list(merge(*(graph.indices_with_parent(value) for value in (ROOT, DANGLING, EXTERNAL))))


def _cycle_starts(graph: MessageGraph, roots: list[int]) -> list[int]:
    """One entry per group unreachable from the roots, at its first node in file order."""
    if not graph.forward_indices:
        return []  # every parent precedes its child: every node hangs from a root
    n = len(graph)
    seen = bytearray(n)
    for root in roots:
        seen[root] = 1
        for d in graph.descendant_indices(root):
            seen[d] = 1
    starts: list[int] = []
    pos = seen.find(0)
    while pos >= 0:
        starts.append(pos)
        seen[pos] = 1
        for d in graph.descendant_indices(pos):
            seen[d] = 1
        pos = seen.find(0, pos + 1)
    return starts


def subtree_sizes(graph: MessageGraph, starts: list[int]) -> array[int]:
    """Messages in each node's subtree (itself included), cycle-safe."""
    n = len(graph)
    size = array("q", [1]) * n
    parents = graph.parent_array
    if not graph.forward_indices:
        # Parents precede children: one pass from the end adds each node to its parent.
        for node in range(n - 1, -1, -1):
            parent = parents[node]
            if parent >= 0:
                size[parent] += size[node]
        return size
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
        parent = parents[node]
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
    roots = _roots(graph)
    cycle_starts = _cycle_starts(graph, roots)
    size = subtree_sizes(graph, roots + cycle_starts)
    child_indices = graph.child_indices
    folded = collapsed if isinstance(collapsed, (set, frozenset)) else set(collapsed)
    add_node, add_depth = nodes.append, depths.append
    for start in roots + cycle_starts:
        stack = [(start, 0)]
        while stack:
            node, d = stack.pop()
            # Follow the thread while it does not branch: no stack traffic per message.
            while not visited[node]:
                visited[node] = 1
                row_of[node] = len(nodes)
                add_node(node)
                add_depth(d)
                if node in folded:
                    break
                children = child_indices(node)
                if len(children) == 1:
                    node = children[0]
                    continue
                children = [c for c in children if not visited[c]]
                if not children:
                    break
                # Side branches first (file order), then the main continuation.
                main = max(reversed(children), key=size.__getitem__)
                stack.append((main, d))
                for child in reversed(children):
                    if child != main:
                        stack.append((child, d + 1))
                break
    return Outline(nodes, depths, row_of, frozenset(cycle_starts))


def ancestors_to_unfold(graph: MessageGraph, node: int, collapsed: Collection[int]) -> list[int]:
    """The folded ancestors that hide `node` (unfold them to show it)."""
    return [a for a in graph.ancestor_indices(node) if a in collapsed]
