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
  continues through the boundary's ``logicalParentUuid``, and nothing written
  before the file's last ``compact_boundary`` counts as lost (resume never
  sends it, by design);
- parallel tool calls: rows off the chain that belong to a loaded response
  (an assistant row sharing ``message.id`` with a loaded row) or answer a
  loaded ``tool_use`` (a tool_result row) are loaded too, so they are not
  lost either.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import deque
from itertools import compress, repeat
from operator import ge, gt, or_

from riff.transcript.graph import MessageGraph
from riff.transcript.records import SIDECHAIN, Columns

_INVERT = bytes.maketrans(b"\x00\x01", b"\x01\x00")

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

    For chains of millions: 4 bytes a message, walked by C loops
    (:meth:`MessageGraph.walk_up`) once per graph (a scan, the resume rules and
    the command showing it all ask); each caller gets its own copy.
    """
    return array("i", _chain_from(graph, leaf))


def _chain_from(graph: MessageGraph, leaf: int) -> array[int]:
    """The walk up from ``leaf``, made once per graph (the caller must not change it)."""
    cached = graph.memo.get(("chain", leaf))
    if isinstance(cached, array):
        return cached
    chain = graph.walk_up(leaf)
    graph.memo[("chain", leaf)] = chain
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
        # Walk up, marking; a node already kept (an earlier walk's: a chain
        # already followed to its top) ends the walk, as a cycle does.
        if node == leaf:  # the first walk: nothing is kept yet
            walk, met = _chain_from(graph, leaf), -1
        else:
            walk = graph.walk_up(node)
            met = bytes(map(kept.__getitem__, walk)).find(1)
        if met >= 0:
            walk = walk[:met]
        if len(walk) == len(kept):  # one chain through every node (its nodes are distinct)
            kept = bytearray(b"\x01") * len(kept)
            break
        deque(map(kept.__setitem__, walk, repeat(1)), maxlen=0)
        top = walk[-1]
        node = None
        if met < 0 and parents[top] < 0:  # the top of the file's tree: a compaction's seam?
            logical = cols.logical.get(cols.node_rec[top])
            if logical is not None:
                node = graph.get_index(logical)
    graph.memo[("kept", leaf)] = kept
    return bytearray(kept)


def last_compaction_record(cols: Columns) -> int:
    """Record index of the file's last ``compact_boundary`` row (-1 when there is none)."""
    cached = getattr(cols, "_last_compaction", None)
    if isinstance(cached, tuple) and cached[0] == len(cols):
        return int(cached[1])
    boundary_codes = {
        code for code, (_, subtype, _, _) in enumerate(cols.shapes) if subtype == "compact_boundary"
    }
    last = -1
    if boundary_codes:
        shape = cols.shape
        for i in range(len(cols) - 1, -1, -1):
            if shape[i] in boundary_codes:
                last = i
                break
    cols._last_compaction = (len(cols), last)  # type: ignore[attr-defined]
    return last


def lost_if_not_kept(graph: MessageGraph, kept: bytearray) -> bytearray:
    """Flags (1 = counts as lost when resume does not load it) of every node.

    Conversation rows only; not rows before the last compaction (never sent by
    design), nor rows resume loads although they are off its chain (the other
    rows of a loaded response, results of a loaded tool call). Kept per graph
    and ``kept``: the lost-branch rule and the resume-loss count both ask.
    """
    key = ("lost_if_not_kept", bytes(kept))
    cached = graph.memo.get(key)
    if isinstance(cached, bytearray):
        return bytearray(cached)
    cols = _columns(graph)
    counted = bytearray(cols.node_lost)
    last = last_compaction_record(cols)
    node_rec = cols.node_rec
    if last >= 0:  # nodes are in file order: those first written before it
        before = bisect_left(node_rec, last)
        counted[:before] = bytes(before)
    # C loops over the flags (a million nodes must not cost a Python step each;
    # a session cut in the middle has half its rows here).
    candidates = array("i", compress(range(len(counted)), map(gt, counted, kept)))
    if candidates:
        records = array("i", map(node_rec.__getitem__, candidates))
        msg_keys = cols.msg_keys
        kept_msgs = set(map(msg_keys.__getitem__, compress(node_rec, kept)))
        kept_msgs.discard(0)
        of_kept_response = map(kept_msgs.__contains__, map(msg_keys.__getitem__, records))
        answering = _answering_kept_calls(cols, kept)
        loaded = map(or_, of_kept_response, map(answering.__contains__, records))
        deque(map(counted.__setitem__, compress(candidates, loaded), repeat(0)), maxlen=0)
    graph.memo[key] = counted
    return bytearray(counted)


def _answering_kept_calls(cols: Columns, kept: bytearray) -> set[int]:
    """Records with tool results that all answer calls made by kept nodes."""
    is_result = cols.tool_kind
    if not any(is_result):
        return set()
    holders = _tool_use_holders(cols)
    nowhere = len(kept)  # an id no node calls: read past the end, as not kept
    kept_or_not = bytes(kept) + b"\x00"
    result_records = array("i", compress(cols.tool_rec, is_result))
    called_by_kept = bytes(
        map(
            kept_or_not.__getitem__,
            map(holders.get, compress(cols.tool_ids, is_result), repeat(nowhere)),
        )
    )
    unanswered = set(compress(result_records, called_by_kept.translate(_INVERT)))
    return set(result_records) - unanswered


def _tool_use_holders(cols: Columns) -> dict[str, int]:
    """Node of the first record making each tool call (records without a uuid hold none)."""
    is_use = bytes(cols.tool_kind).translate(_INVERT)
    ids = list(compress(cols.tool_ids, is_use))
    nodes = list(map(cols.uid.__getitem__, compress(cols.tool_rec, is_use)))
    named = list(map(ge, nodes, repeat(0)))
    # Reversed, so that the first record of an id is the one a dict keeps.
    named_ids = list(compress(ids, named))
    named_nodes = list(compress(nodes, named))
    return dict(zip(reversed(named_ids), reversed(named_nodes), strict=True))


def resume_loss_count(graph: MessageGraph, last_prompt_leaf: str | None = None) -> int:
    """How many conversation messages (user prompts, assistant lines) resume would not load.

    Sidechain messages and bookkeeping lines (progress, tool-result-only user
    lines, meta lines) are not counted: leaving them out is normal.
    """
    kept = kept_indices(graph, resume_leaf_index(graph, last_prompt_leaf))
    if kept.find(0) < 0:  # resume loads every row: nothing lost
        return 0
    counted = lost_if_not_kept(graph, kept)
    # Both are 0/1 bytes: AND them as big integers and count the bits left.
    both = int.from_bytes(counted, "little") & int.from_bytes(kept, "little")
    return counted.count(1) - both.bit_count()
