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

from riff.transcript.graph import MessageGraph
from riff.transcript.records import MessageRecord

ASSUMED_BEHAVIOUR = "Claude Code 2.1.3xx (last-prompt leaf, else leaf of the last chain row)"


def _records(graph: MessageGraph) -> list[MessageRecord]:
    if graph.records is None:
        raise ValueError("resume analysis needs a graph built with MessageGraph.from_records")
    return graph.records


def resume_leaf_index(graph: MessageGraph, last_prompt_leaf: str | None = None) -> int | None:
    """Node index of the leaf resume starts from, or None for an empty session."""
    if last_prompt_leaf is not None:
        i = graph.get_index(last_prompt_leaf)
        if i is not None and graph.child_count(i) == 0:
            return i
    records = _records(graph)
    last = None
    for i in range(len(records) - 1, -1, -1):
        if not records[i].is_sidechain:
            last = i
            break
    if last is None:
        return None
    seen = {last}
    while graph.child_count(last) > 0:
        nxt = graph.child_indices(last)[-1]
        if nxt in seen:  # a cycle below: stop where we are
            break
        seen.add(nxt)
        last = nxt
    return last


def resume_chain_indices(graph: MessageGraph, leaf: int) -> list[int]:
    """Leaf first, then its parents up to a null/unknown parent or a cycle."""
    return [leaf, *graph.ancestor_indices(leaf)]


def kept_indices(graph: MessageGraph, leaf: int | None) -> bytearray:
    """Flags (1 = kept) of messages resume loads or that were compacted away on purpose."""
    kept = bytearray(len(graph))
    if leaf is None:
        return kept
    records = _records(graph)
    node: int | None = leaf
    while node is not None and not kept[node]:
        chain = resume_chain_indices(graph, node)
        for i in chain:
            kept[i] = 1
        top = records[chain[-1]]
        node = None
        if top.logical_parent_uuid is not None and graph.parent_index(chain[-1]) < 0:
            node = graph.get_index(top.logical_parent_uuid)
    return kept


def resume_loss_count(graph: MessageGraph, last_prompt_leaf: str | None = None) -> int:
    """How many conversation messages (user prompts, assistant lines) resume would not load.

    Sidechain messages and bookkeeping lines (progress, tool-result-only user
    lines, meta lines) are not counted: leaving them out is normal.
    """
    records = _records(graph)
    kept = kept_indices(graph, resume_leaf_index(graph, last_prompt_leaf))
    return sum(
        1
        for i, record in enumerate(records)
        if record.is_conversation and not record.is_sidechain and not kept[i]
    )
