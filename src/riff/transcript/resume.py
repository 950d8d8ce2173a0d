"""What ``claude --resume`` would load, as riff assumes it.

ASSUMED_BEHAVIOUR names the Claude Code version whose behaviour is modelled
(see the spec, "How claude --resume loads a session"):

- the leaf: the ``leafUuid`` of the last ``last-prompt`` line if it names a
  real leaf (a known message without children); otherwise the leaf reached
  from the last non-sidechain message in file order (following its last
  child in file order while it has children);
- the chain: from that leaf up through ``parentUuid`` to a null or unknown
  parent. Compaction is intentional: messages before a ``compact_boundary``
  are not sent, but they are not *lost*, so for loss accounting the walk
  continues through the boundary's ``logicalParentUuid``.
"""

from __future__ import annotations

from array import array

from riff.transcript.graph import MessageGraph
from riff.transcript.records import SIDECHAIN, Columns

ASSUMED_BEHAVIOUR = "Claude Code 2.1.3xx (last-prompt leaf, else leaf of the last chain row)"


def _columns(graph: MessageGraph) -> Columns:
    cols = graph.columns
    if cols is None:
        raise ValueError("resume analysis needs a graph built with MessageGraph.from_records")
    return cols


def resume_leaf_index(graph: MessageGraph, last_prompt_leaf: str | None = None) -> int | None:
    """Node index of the leaf resume starts from, or None for an empty session."""
    cols = _columns(graph)
    if last_prompt_leaf is not None:
        i = graph.get_index(last_prompt_leaf)
        if i is not None and not graph.has_children(i):
            return i
    node_rec, shape, shapes = cols.node_rec, cols.shape, cols.shapes
    last = None
    for i in range(len(graph) - 1, -1, -1):
        if not shapes[shape[node_rec[i]]][3] & SIDECHAIN:
            last = i
            break
    if last is None:
        return None
    seen = {last}
    while (nxt := graph.last_child(last)) is not None:
        if nxt in seen:  # a cycle below: stop where we are
            break
        seen.add(nxt)
        last = nxt
    return last


def resume_chain_indices(graph: MessageGraph, leaf: int) -> list[int]:
    """Leaf first, then its parents up to a null/unknown parent or a cycle."""
    return [leaf, *graph.ancestor_indices(leaf)]


def resume_chain_array(graph: MessageGraph, leaf: int) -> array[int]:
    """Leaf first, then its parents up to a null/unknown parent or a cycle, as a compact array.

    For chains of millions: 4 bytes a message and one bit-sized mark per node
    (no set of visited ints).
    """
    parents = graph.parent_array
    seen = bytearray(len(parents))
    chain = array("i")
    j = leaf
    while j >= 0 and not seen[j]:
        seen[j] = 1
        chain.append(j)
        j = parents[j]
    return chain


def kept_indices(graph: MessageGraph, leaf: int | None) -> bytearray:
    """Flags (1 = kept) of messages resume loads or that were compacted away on purpose."""
    cached = graph.memo.get(("kept", leaf))
    if isinstance(cached, bytearray):
        return bytearray(cached)
    kept = bytearray(len(graph))
    if leaf is None:
        return kept
    cols = _columns(graph)
    parents = graph.parent_array
    node: int | None = leaf
    while node is not None and not kept[node]:
        # Walk up, marking; a node already kept (this walk: a cycle; an earlier
        # one: a chain already followed to its top) ends the walk.
        top = node
        j = node
        while j >= 0 and not kept[j]:
            kept[j] = 1
            top = j
            j = parents[j]
        node = None
        if j < 0:
            logical = cols.logical.get(cols.node_rec[top])
            if logical is not None:
                node = graph.get_index(logical)
    graph.memo[("kept", leaf)] = kept
    return bytearray(kept)


def resume_loss_count(graph: MessageGraph, last_prompt_leaf: str | None = None) -> int:
    """How many conversation messages (user prompts, assistant lines) resume would not load.

    Sidechain messages and bookkeeping lines (progress, tool-result-only user
    lines, meta lines) are not counted: leaving them out is normal.
    """
    cols = _columns(graph)
    kept = kept_indices(graph, resume_leaf_index(graph, last_prompt_leaf))
    counted = cols.node_lost
    # Both are 0/1 bytes: AND them as big integers and count the bits left.
    both = int.from_bytes(counted, "little") & int.from_bytes(kept, "little")
    return counted.count(1) - both.bit_count()
