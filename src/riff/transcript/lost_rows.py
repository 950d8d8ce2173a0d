"""Where the children of a lost row belong: the evidence a dropped or torn row leaves.

A row that is gone (its line deleted, or torn so it no longer parses) leaves
its children pointing at a uuid no line holds. Each of them should get the
lost row's own parent, the nearest ancestor that survives: then resume loads
the rows it loaded before, minus the lost one. The children share the missing
uuid, and the lost row sat before the first of them in file order; what it
was shows in what it left behind:

- a torn line there: its first bytes survive, and Claude Code writes
  ``parentUuid`` first, so they name the lost row's parent;
- a ``tool_use`` no row answers, just before: the lost row was its
  ``tool_result``, whose parent the session's own tool results show how to
  find (the call's row in 2.1.x, the previous result in 1.x and 2.0.x);
- a child answering (or reporting progress on) a ``tool_use`` no row holds:
  the lost row was the assistant row that made the call, a further row of the
  response before it or the first row of a new one.

Each kind of evidence is a hypothesis about the lost row; the candidates it
names get the probabilities the session's own rows of that kind give
(:meth:`SessionIndex.groups_for`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from riff.transcript.graph import DANGLING
from riff.transcript.records import SIDECHAIN

if TYPE_CHECKING:
    from riff.transcript.suggest import SessionIndex

_TORN_PARENT = re.compile(rb'^[\x00\s]*\{\s*"parentUuid"\s*:\s*"([0-9a-fA-F-]{36})"')
_UUID_FIELD = re.compile(rb'"uuid"\s*:\s*"([0-9a-fA-F-]{36})"')
_FRAGMENT_BYTES = 1 << 16
"""Read of an unreadable line: its leading parentUuid, and its uuid if it survived."""
_FILE_ORDER_RULES = ("previous_row", "previous_non_progress", "previous_message")
_API_TOOL_ID = "toolu_"
"""Prefix of the ids the API gives tool calls; hooks' progress rows carry other ids."""
LOOK_BACK = 128
TORN_NEAR = 8
"""Rows that may lie between a torn line and the first child of the row it held."""
"""Rows searched backwards for an unanswered call or the response before the gap."""

# How much each kind of evidence weighs against the others (normalised per orphan).
WEIGHTS = {
    "torn_line_parent": 8.0,
    "torn_line_near": 3.0,
    "lost_tool_result": 4.0,
    "lost_tool_use_row": 4.0,
    "lost_row": 4.0,
    "own_link_cut": 1.0,
}
BATCH_GAP_S = 1.0
"""Rows written this close together belong to one batch: the results of one
response's parallel calls. A new response takes a model round trip longer."""
CONTINUED_IN_BATCH = 0.9
CONTINUED_AFTER_GAP = 0.3
UNKNOWN_CONTINUATION = 0.5
"""How likely a lost assistant row continued the response before it (vs. began a
new one), when its orphaned children follow the row before them within / after
``BATCH_GAP_S``."""


@dataclass(frozen=True)
class Hypothesis:
    """One account of what happened, and the parents it proposes."""

    name: str
    weight: float
    groups: list[tuple[int, float, list[str]]]
    """(candidate node, probability under this account, rules naming it)."""


def lost_group(idx: SessionIndex, m: int) -> list[int] | None:
    """The orphans sharing node ``m``'s missing parent, in file order (None when
    ``m``'s parent is not a missing uuid)."""
    graph = idx.graph
    if graph.parent_array[m] != DANGLING:
        return None
    if idx.lost_groups is None:
        groups: dict[str | None, list[int]] = {}
        for i in graph.indices_with_parent(DANGLING):
            groups.setdefault(graph.parent_of(graph.uuid_at(i)), []).append(i)
        idx.lost_groups = groups
    return idx.lost_groups.get(graph.parent_of(graph.uuid_at(m)))


def hypotheses(idx: SessionIndex, m: int) -> list[Hypothesis]:
    """Accounts of node ``m``'s break, including its own link being cut."""
    own = _named(idx.group_probabilities(m)) + idx.prompt_written_after(m)
    group = lost_group(idx, m)
    if group is None:
        return [Hypothesis("own_link_cut", 1.0, own)]
    first = group[0]
    found: list[Hypothesis] = []
    missing = idx.graph.parent_of(idx.graph.uuid_at(m))
    assert missing is not None
    torn = torn_parent(idx, first, missing)
    if torn is not None:
        candidate, adjacent = torn
        weight = WEIGHTS["torn_line_parent"] if adjacent else WEIGHTS["torn_line_near"]
        found.append(Hypothesis("torn_line_parent", weight, [candidate]))
    result = lost_tool_result(idx, first)
    if result is not None:
        found.append(Hypothesis("lost_tool_result", WEIGHTS["lost_tool_result"], result))
    holder = lost_tool_use_row(idx, group, first)
    if holder is not None:
        found.append(Hypothesis("lost_tool_use_row", WEIGHTS["lost_tool_use_row"], holder))
    if not found and first != m:
        # Several children of one missing row: it sat before the first of them.
        found.append(
            Hypothesis("lost_row", WEIGHTS["lost_row"], _named(idx.group_probabilities(first)))
        )
    cut_weight = WEIGHTS["own_link_cut"] if len(group) == 1 else WEIGHTS["own_link_cut"] / 10
    return [*found, Hypothesis("own_link_cut", cut_weight, own)]


def _named(groups: list[tuple[int, float, list[int]]]) -> list[tuple[int, float, list[str]]]:
    from riff.transcript.suggest import RULES

    return [(c, p, [RULES[k] for k in rules]) for c, p, rules in groups]


def torn_parent(
    idx: SessionIndex, first: int, missing: str
) -> tuple[tuple[int, float, list[str]], bool] | None:
    """The parent a torn line shortly before node ``first`` names in its surviving
    bytes, and whether the torn line is right before ``first`` (else up to
    ``TORN_NEAR`` rows lie between: a torn call before its response's results)."""
    cols = idx.cols
    bad = idx.bad_lines
    line = cols.line[cols.node_rec[first]]
    k = bisect_left(bad, line) - 1
    if k < 0:
        return None
    before = first
    while before > 0 and cols.line[cols.node_rec[before - 1]] > bad[k]:
        before -= 1
    if first - before > TORN_NEAR:
        return None
    problem = idx.problems[k]
    try:
        with idx.path.open("rb") as handle:
            handle.seek(problem.offset)
            fragment = handle.read(min(problem.length, _FRAGMENT_BYTES))
    except OSError:
        return None
    match = _TORN_PARENT.match(fragment)
    if match is None:
        return None
    uuids = set(_UUID_FIELD.findall(fragment))
    if uuids and missing.encode() not in uuids:
        return None  # the line is whole enough to show it held another row
    node = idx.graph.get_index(match.group(1).decode("ascii"))
    if node is None or node >= first:
        return None
    return (node, 1.0, ["torn_line_parent"]), before == first


def _side(idx: SessionIndex, node: int) -> int:
    return idx.cols.flags(idx.cols.node_rec[node]) & SIDECHAIN


def _previous_rules(idx: SessionIndex, first: int) -> list[int]:
    """A row's rule predictions with only the file-order rules of position ``first``."""
    from riff.transcript.suggest import RULE_INDEX as R
    from riff.transcript.suggest import RULES

    key = [-1] * len(RULES)
    own = idx.key(first)
    for rule in _FILE_ORDER_RULES:
        key[R[rule]] = own[R[rule]]
    return key


def lost_tool_result(idx: SessionIndex, first: int) -> list[tuple[int, float, list[str]]] | None:
    """If a call just before ``first`` has no result, the lost row was that result:
    its parent as the session's tool results place theirs."""
    from riff.transcript.suggest import RULE_INDEX as R

    side = _side(idx, first)
    cols, node_rec, kinds = idx.cols, idx.cols.node_rec, idx.kind_names
    holder = -1
    response: int | None = None
    for j in _back(idx, first, side):
        kind = kinds[idx.kind_of[j]]
        if kind.startswith("prompt"):
            return None  # a new turn began: the call was left unanswered on purpose
        if not kind.startswith("assistant"):
            continue
        # Only the response right before the gap: its result would sit there.
        msg = cols.msg_keys[node_rec[j]]
        if response is None:
            response = msg
        elif msg != response or not msg:
            return None
        if j in idx.unanswered_holders:
            holder = j
            break
    if holder < 0:
        return None
    ref = cols.tool_ref.get(node_rec[first])
    if ref is not None and idx.holder.get(ref) == holder:
        return None  # progress of the call: its result comes later, not before
    msg = cols.msg_keys[node_rec[holder]]
    tail = chain = holder
    if msg:
        for j in range(first - 1, holder, -1):
            if cols.msg_keys[node_rec[j]] == msg:
                tail = chain = j
                break
        for j in range(first - 1, holder, -1):
            tools = cols.tools_of(node_rec[j])
            if tools and tools[1]:
                h = idx.holder.get(tools[1][0], -1)
                # A result whose call is lost too still belongs to the batch.
                if h < 0 or cols.msg_keys[node_rec[h]] == msg:
                    chain = j
                    break
    key = _previous_rules(idx, first)
    key[R["tool_use_holder"]] = holder
    key[R["response_tail"]] = tail
    key[R["result_chain"]] = chain
    result_kind = idx.kind_code("tool_result" + ("/sidechain" if side else ""))
    return _named(idx.groups_for(result_kind, key))


def _continued_share(idx: SessionIndex, first: int, response: int, side: int) -> float:
    """How likely the lost assistant row continued ``response`` (the last assistant
    row before ``first``)."""
    from riff.transcript.suggest import epoch

    cols, node_rec = idx.cols, idx.cols.node_rec
    for j in _back(idx, first, side):
        if not idx.kind_names[idx.kind_of[j]].startswith("progress"):
            stamp = epoch(cols.timestamp(node_rec[first]))
            if stamp == epoch(cols.timestamp(node_rec[response])):
                return UNKNOWN_CONTINUATION  # stamped by an importer, not as written
            gap = stamp - epoch(cols.timestamp(node_rec[j]))
            return CONTINUED_IN_BATCH if gap < BATCH_GAP_S else CONTINUED_AFTER_GAP
    return CONTINUED_AFTER_GAP


def _back(idx: SessionIndex, first: int, side: int) -> Iterator[int]:
    """Nodes of ``side`` before ``first``, nearest first: up to ``LOOK_BACK`` rows
    besides progress rows (a long call writes thousands of those), without a first
    prompt written after its answer (see ``SessionIndex.late_prompt``)."""
    kinds, kind_of = idx.kind_names, idx.kind_of
    budget = LOOK_BACK
    for j in range(first - 1, -1, -1):
        if _side(idx, j) != side or j == idx.late_prompt:
            continue
        yield j
        if not kinds[kind_of[j]].startswith("progress"):
            budget -= 1
            if budget == 0:
                return


def _batched_share(idx: SessionIndex, last: int, first: int, side: int) -> float:
    """How likely the response whose last row before ``first`` is ``last`` wrote all
    its rows before any of its calls' results (parallel calls), rather than a row
    after each result (calls run while the response streams)."""
    cols, node_rec = idx.cols, idx.cols.node_rec
    msg = cols.msg_keys[node_rec[last]]
    for j in _back(idx, last, side):
        if cols.msg_keys[node_rec[j]] == msg:
            continue
        tools = cols.tools_of(node_rec[j])
        if tools and tools[1]:
            h = idx.holder.get(tools[1][0], -1)
            if h >= 0 and cols.msg_keys[node_rec[h]] == msg:
                return 0.0  # a result of the response sits between its rows: streamed
            continue
        if idx.kind_names[idx.kind_of[j]].startswith(("progress", "attachment", "system")):
            continue
        break  # reached the row before the response
    return (idx.batched_calls + 1) / (idx.batched_calls + idx.streamed_calls + 2)


def lost_tool_use_row(
    idx: SessionIndex, group: list[int], first: int
) -> list[tuple[int, float, list[str]]] | None:
    """If a child answers or reports on a call no row holds, the lost row was the
    assistant row holding it: a further row of the response before ``first``, or
    the first row of a new response."""
    from riff.transcript.suggest import RULE_INDEX as R

    cols, node_rec = idx.cols, idx.cols.node_rec
    orphaned_call = False
    for g in group:
        r = node_rec[g]
        tools = cols.tools_of(r)
        if tools and any(t not in idx.holder for t in tools[1]):
            orphaned_call = True
            break
        ref = cols.tool_ref.get(r)
        if (
            ref is not None
            and ref.startswith(_API_TOOL_ID)
            and ref not in idx.holder
            and idx.kind_names[idx.kind_of[g]].startswith("progress")
        ):
            orphaned_call = True
            break
    if not orphaned_call:
        return None
    side = _side(idx, first)
    suffix = "/sidechain" if side else ""
    key = _previous_rules(idx, first)
    out: dict[int, tuple[float, list[str]]] = {}
    continued_share = 0.0
    for j in _back(idx, first, side):
        if not idx.kind_names[idx.kind_of[j]].startswith("assistant"):
            continue
        if cols.msg_keys[node_rec[j]]:
            continued_share = _continued_share(idx, first, j, side)
            # Batched: the response wrote all its rows before its calls' results, so
            # the lost row sat right after its last row. Streamed: it came after the
            # previous result, right before the gap. The response itself, else the
            # session's other responses, say which.
            batched = _batched_share(idx, j, first, side)
            more = list(key)
            more[R["same_response"]] = j
            after_last = list(more)
            for rule in _FILE_ORDER_RULES:
                after_last[R[rule]] = j
            more_kind = idx.kind_code("assistant_more" + suffix)
            for share, k in ((batched, after_last), (1 - batched, more)):
                for c, p, rules in _named(idx.groups_for(more_kind, k)):
                    q, names = out.get(c, (0.0, []))
                    out[c] = (q + p * share * continued_share, sorted({*names, *rules}))
        break
    began = idx.groups_for(idx.kind_code("assistant" + suffix), key)
    for c, p, rules in _named(began):
        q, names = out.get(c, (0.0, []))
        out[c] = (q + p * (1 - continued_share), sorted({*names, *rules}))
    return [(c, p, rules) for c, (p, rules) in out.items()]
