"""Ranked parent candidates for orphaned messages, from the transcript's structure.

Claude Code gives each row its ``parentUuid`` by a few mechanical rules that
depend on the row's kind and on the Claude Code version: a ``tool_result``
hangs under the row holding its ``tool_use`` (2.1.x), or under the last
``tool_use`` row of the response and then under the previous result (1.x,
2.0.x parallel calls); a further line of one API response (same
``message.id``) hangs under the previous line of that response; most other
rows hang under the row written just before them in their own chain
(sidechain rows under sidechain rows), which may be a progress row in 2.x.

riff does not hard-code which rule a version follows. Each rule (``RULES``)
predicts one parent for every row; the session's own healthy rows of the same
kind show how often each rule, and each way the rules can agree or disagree,
named the real parent. An orphan's candidates are the rows its rules name;
a candidate's raw probability is the share of same-kind healthy rows whose
parent fell in the same agreement group (smoothed towards a prior), and its
score is that probability passed through the calibration table measured on
real transcripts (``bench/real_accuracy.py``; see docs/findings.md). Text is
not used: tool calls and stubs repeat across a session. A timestamp lowers a
score (a parent much later than its child) but never removes a candidate.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from array import array
from bisect import bisect_right
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, islice
from typing import Any

from riff.transcript.detect import (
    file_start,
    first_main_node,
    orphan_findings,
    unexpected_root_findings,
)
from riff.transcript.graph import MessageGraph
from riff.transcript.lost_rows import hypotheses
from riff.transcript.records import (
    CONVERSATION,
    SIDECHAIN,
    Columns,
    MessageRecord,
    Transcript,
)

RULES: tuple[str, ...] = (
    "same_response",
    "tool_use_holder",
    "result_chain",
    "response_tail",
    "previous_row",
    "previous_non_progress",
    "previous_message",
    "same_tool_progress",
)
"""Each rule names at most one parent per row; the order breaks ties between groups."""
RULE_INDEX = {name: k for k, name in enumerate(RULES)}
_NONE = -1

DEFAULT_WINDOW = 128
"""Preceding rows offered (at a low score) besides the rows the rules name."""
LEARN_ROWS = 8192
"""Rows of one kind a session's shares are learnt from at most (a huge session's
shares settle long before; learning stays bounded)."""
SMOOTHING = 2.0
"""Weight of the prior against the session's own rows (in rows)."""
LATE_PARENT_S = 60.0
"""A candidate this much later than the child is suspicious (clock skew is smaller)."""
LATE_PARENT_FACTOR = 0.5

# Prior probability that a rule names the parent where the rules disagree, by kind of
# child, used when the session has no such rows of that kind: the share measured on
# the real development transcripts (1.0.x-2.1.x, 25 files), kept within [0.02, 0.95].
_PRIORS: dict[str, dict[str, float]] = {
    "tool_result": {
        "tool_use_holder": 0.8,
        "result_chain": 0.71,
        "response_tail": 0.76,
        "previous_row": 0.26,
        # Measured 0.85, but only where they coincide with the call's row (2.1.x
        # hooks): alone they name a hook's row before the result, never the parent.
        "previous_non_progress": 0.5,
        "previous_message": 0.5,
    },
    "assistant_more": {"same_response": 0.05, "previous_row": 0.95},
    "progress": {"previous_row": 0.95, "same_tool_progress": 0.95, "tool_use_holder": 0.02},
}
_DEFAULT_PRIOR = {"previous_row": 0.95, "previous_non_progress": 0.5, "previous_message": 0.05}

# Raw probability -> measured probability of being right: an isotonic fit on breaks
# injected into the real development transcripts (bench/real_accuracy.py --fit,
# seed 1; checked on other seeds), each bin's precision shrunk towards the raw
# probability with the weight of 20 cases, since errors are rare.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.6114, 0.8538),
    (0.7411, 0.9137),
    (0.8058, 0.9353),
    (0.8667, 0.9556),
    (0.9019, 0.9673),
    (0.9231, 0.9744),
    (0.9394, 0.9798),
    (0.9519, 0.984),
    (0.995, 0.9997),
    (1.0, 0.9997),
)

AUTO_APPLY_SCORE = 0.95
"""``repair --yes`` applies a suggestion only at or above this score: the lowest
score at which the measured precision on real transcripts stays >= 99.5%."""

FIRST_PROMPT_WRITTEN_AFTER = 0.95
"""Raw probability that a file's first main row, written before the file's first
prompt, hangs under that prompt (the 2.1.x REPL's order; it holds for every such
row of the real recordings, and nothing else is written before it to hang under)."""

_UNKNOWN, _BELOW, _NOT_BELOW, _ON_PATH = 0, 1, 2, 3
"""A node's mark in SessionIndex.is_descendant's answers for one ancestor."""


def _pattern(key: Sequence[int]) -> tuple[int, ...]:
    """Each rule's label: the first rule naming the same parent (-1: it names none)."""
    return tuple([key.index(v) if v >= 0 else -1 for v in key])


def calibrate(raw: float) -> float:
    """The calibrated score of a raw probability (piecewise linear between the fit points)."""
    points = CALIBRATION
    xs = [x for x, _ in points]
    k = bisect_right(xs, raw)
    if k == 0:
        return points[0][1]
    if k == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[k - 1], points[k]
    return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1


@dataclass(frozen=True)
class Candidate:
    """A proposed parent, with the evidence behind its score."""

    parent_uuid: str
    score: float
    """In [0, 1]: the calibrated probability that this is the true parent."""
    signals: dict[str, float] = field(default_factory=dict)
    line: int | None = None
    preview: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "parent_uuid": self.parent_uuid,
            "score": round(self.score, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
        }


@dataclass(frozen=True)
class OrphanSuggestions:
    """An orphaned message and its candidates, shaped like ``riff suggest --json``."""

    message_id: str
    line: int
    candidates: list[Candidate]

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "line": self.line,
            "candidates": [c.to_json() for c in self.candidates],
        }


def epoch(ts: str | None) -> float:
    if ts is None:
        return math.nan
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.nan


class SessionIndex:
    """Every rule's prediction for every row, and how often each was right here.

    Built in one forward pass over flat arrays (a 50,000-row session: one
    loop, no object per row); what a suggestion needs beyond that (the lost
    rows' groups, the Euler tour for the cycle check) is built on first use.
    """

    def __init__(
        self,
        transcript: Transcript,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> None:
        self.graph = MessageGraph.from_records(
            transcript.records, parent_overrides, external_uuids=known_uuids
        )
        records = self.graph.records
        assert records is not None
        self.records = records
        cols = self.graph.columns
        assert cols is not None
        self.cols = cols
        self.path = transcript.path
        self.problems = sorted(transcript.problems, key=lambda p: p.line)
        self.bad_lines = [p.line for p in self.problems]
        self.kind_names: list[str] = []
        self._kind_codes: dict[str, int] = {}
        self.kind_of = array("H")
        """Kind code of each node (see :attr:`kind_names`)."""
        self.predictions = array("i")
        """Flat: node ``i``'s parent by rule ``k`` is ``predictions[i * len(RULES) + k]``."""
        self.stats: dict[tuple[int, tuple[int, ...]], dict[int, int]] = {}
        """(kind, agreement pattern) -> which group held the real parent (-2: none) -> rows."""
        self.holder: dict[str, int] = {}
        """tool_use id -> the (first) node holding it."""
        self.answered: set[str] = set()
        """tool_use ids some tool_result answers."""
        self.streamed_calls = 0
        """Further calls of a response written after a result of its earlier call."""
        self.batched_calls = 0
        """Further calls of a response written before any of its calls' results."""
        self._file_start = file_start(self.graph)
        """The node that starts the file's main chain (see riff.transcript.detect)."""
        self.late_prompt = self._file_start if self._file_start > first_main_node(cols) else _NONE
        """The file's first prompt when written after rows answering it (the 2.1.x
        REPL), else -1: it stands logically before them, so no rule or walk back in
        file order takes it for the row written just before a later one."""
        self._build(cols)
        self.rule_hits: dict[int, list[list[int]]] = {}
        """Per kind and rule: [rows it named the parent of, rows it named one for]."""
        self._learned: set[int] = set()
        self.unanswered_holders = {
            node for tool_id, node in self.holder.items() if tool_id not in self.answered
        }
        self._below: dict[int, bytearray] = {}
        """Per ancestor asked about, each node's answer: _UNKNOWN, _BELOW, _NOT_BELOW."""
        """Per ancestor asked about: nodes known to have it on their chain, or not."""
        self.lost_groups: dict[str | None, list[int]] | None = None
        """Orphans by the missing uuid they name (see riff.transcript.lost_rows)."""

    # -- building ---------------------------------------------------------

    def kind_code(self, name: str) -> int:
        code = self._kind_codes.get(name)
        if code is None:
            code = self._kind_codes[name] = len(self.kind_names)
            self.kind_names.append(name)
        return code

    def _shape_info(self, cols: Columns) -> list[tuple[int, int, int, int, bool, bool]]:
        """Per shape code: (class, side, kind code, alternative kind code, is a
        user/assistant/system row, is a progress row). Classes: 0 assistant (the
        alternative: a further row of a response), 1 user tool result or other
        (the alternative: a tool result), 2 anything else."""
        info = []
        for line_type, subtype, _, flags in cols.shapes:
            side = 1 if flags & SIDECHAIN else 0
            suffix = "/sidechain" if side else ""
            if line_type == "assistant":
                cls, kind, alt = 0, "assistant", "assistant_more"
            elif line_type == "user" and not flags & CONVERSATION:
                cls, kind, alt = 1, "user_other", "tool_result"
            elif line_type == "user":
                cls, kind, alt = 2, "prompt", "prompt"
            elif line_type == "system":
                cls, kind, alt = 2, f"system:{subtype}", f"system:{subtype}"
            else:
                cls, kind, alt = 2, str(line_type), str(line_type)
            info.append(
                (
                    cls,
                    side,
                    self.kind_code(kind + suffix),
                    self.kind_code(alt + suffix),
                    line_type in ("user", "assistant", "system"),
                    line_type == "progress",
                )
            )
        return info

    def _build(self, cols: Columns) -> None:
        """One forward pass: each rule's parent for each node (nodes are in file order),
        and, for rows whose parent is known, which rule group named it."""
        node_rec, shape = cols.node_rec, cols.shape
        # Progress rows' tool ids, walked along with the nodes (both in file order).
        ref_rows, ref_ids = cols.tool_ref.rows, cols.tool_ref.values
        n_refs, q = len(ref_rows), 0
        msg_keys = cols.msg_keys
        tool_rec, tool_ids, tool_kind = cols.tool_rec, cols.tool_ids, cols.tool_kind
        n_tools = len(tool_rec)
        info = self._shape_info(cols)
        holder, answered = self.holder, self.answered
        holder_msg: dict[int, int] = {}
        last_by_msg: dict[int, int] = {}
        last_result_by_msg: dict[int, int] = {}
        calling: set[int] = set()
        last_progress_by_tool: dict[str, int] = {}
        last_any = [_NONE, _NONE]
        last_non_progress = [_NONE, _NONE]
        last_message = [_NONE, _NONE]
        preds, kind_of = self.predictions, self.kind_of
        blank = [_NONE] * len(RULES)
        same_response, tool_use_holder, result_chain, response_tail = 0, 1, 2, 3
        previous_row, previous_non_progress, previous_message, same_tool_progress = 4, 5, 6, 7
        # A first prompt written after the rows answering it (the 2.1.x REPL) stands
        # logically before them: no rule names it as the row written just before.
        late_prompt = self.late_prompt
        t = 0
        for i, r in enumerate(node_rec):
            cls, side, kind, alt, is_message, is_progress = info[shape[r]]
            uses: list[str] = []
            first_result: str | None = None
            while t < n_tools and tool_rec[t] < r:
                t += 1
            while t < n_tools and tool_rec[t] == r:
                if tool_kind[t]:
                    if first_result is None:
                        first_result = tool_ids[t]
                    answered.add(tool_ids[t])
                else:
                    uses.append(tool_ids[t])
                t += 1
            msg = msg_keys[r]
            p = blank.copy()
            p[previous_row] = last_any[side]
            p[previous_non_progress] = last_non_progress[side]
            p[previous_message] = last_message[side]
            if cls == 0:
                if msg and msg in last_by_msg:
                    kind = alt
                    p[same_response] = last_by_msg[msg]
                    if uses and msg in calling:
                        # A further call of a response: written after a result of its
                        # earlier call (streamed), or before any (batched)?
                        if msg in last_result_by_msg:
                            self.streamed_calls += 1
                        else:
                            self.batched_calls += 1
                if uses and msg:
                    calling.add(msg)
            elif cls == 1:
                if first_result is not None:
                    kind = alt
                    h = holder.get(first_result, _NONE)
                    p[tool_use_holder] = h
                    hm = holder_msg.get(h) if h >= 0 else None
                    if hm is not None:
                        tail = last_by_msg.get(hm, h)
                        p[response_tail] = tail
                        p[result_chain] = last_result_by_msg.get(hm, tail)
                        last_result_by_msg[hm] = i
                    elif h >= 0:
                        p[response_tail] = h
                        p[result_chain] = h
            elif is_progress:
                while q < n_refs and ref_rows[q] < r:
                    q += 1
                ref = ref_ids[q] if q < n_refs and ref_rows[q] == r else None
                if ref is not None:
                    p[tool_use_holder] = holder.get(ref, _NONE)
                    p[same_tool_progress] = last_progress_by_tool.get(ref, _NONE)
                    last_progress_by_tool[ref] = i
            preds.extend(p)
            kind_of.append(kind)
            if i == late_prompt:
                continue
            # Update the running state after predicting (a row is not its own parent).
            last_any[side] = i
            if not is_progress:
                last_non_progress[side] = i
            if is_message:
                last_message[side] = i
            if msg:
                last_by_msg[msg] = i
                for tool_id in uses:
                    holder.setdefault(tool_id, i)
                holder_msg[i] = msg
            else:
                for tool_id in uses:
                    holder.setdefault(tool_id, i)

    def _learn(self, kind: int) -> None:
        """Per agreement pattern of ``kind``'s rows whose parent is known, which group
        held it; and per rule, how often it was right where the rules disagreed (where
        they agree, every rule is right and nothing is learnt about a break that makes
        them disagree). Learnt on first use: a session without breaks never pays."""
        if kind in self._learned:
            return
        self._learned.add(kind)
        parents, preds, width = self.graph.parent_array, self.predictions, len(RULES)
        stats = self.stats
        interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        # At most LEARN_ROWS rows, evenly spread (the shares settle long before), picked
        # without a list of every row of the kind (half a million ints in a long chain).
        step = max(1, -(-self.kind_of.count(kind) // LEARN_ROWS))
        of_kind = compress(range(len(self.kind_of)), map(kind.__eq__, self.kind_of))
        rows = list(islice(of_kind, 0, None, step))
        for i in rows:
            parent = parents[i]
            if parent < 0:
                continue
            p = preds[i * width : (i + 1) * width].tolist()
            pat = _pattern(p)
            pat = interned.setdefault(pat, pat)
            label = pat[p.index(parent)] if parent in p else -2
            seen = stats.get((kind, pat))
            if seen is None:
                seen = stats[kind, pat] = {}
            seen[label] = seen.get(label, 0) + 1
        for pat in interned:
            if len({label for label in pat if label >= 0}) < 2:
                continue
            per_rule = self.rule_hits.get(kind)
            if per_rule is None:
                per_rule = self.rule_hits[kind] = [[0, 0] for _ in RULES]
            seen = stats[kind, pat]
            total = sum(seen.values())
            for k, label in enumerate(pat):
                if label >= 0:
                    per_rule[k][1] += total
                    per_rule[k][0] += seen.get(label, 0)

    # -- asking -------------------------------------------------------------

    def prompt_written_after(self, i: int) -> list[tuple[int, float, list[str]]]:
        """The file's first prompt, when node ``i`` is the first main row and was
        written before it: the 2.1.x REPL writes a session's first answer row
        before the prompt it answers (every such row in the real recordings hangs
        under that prompt)."""
        start = self._file_start
        if i < start and i == first_main_node(self.cols):
            return [(start, FIRST_PROMPT_WRITTEN_AFTER, ["first_prompt_written_after"])]
        return []

    def key(self, i: int) -> list[int]:
        """Each rule's parent for node ``i`` (-1: the rule names none)."""
        width = len(RULES)
        return list(self.predictions[i * width : (i + 1) * width])

    def pattern(self, i: int) -> tuple[int, ...]:
        """How the rules agree for node ``i``: each rule's label is the first rule naming
        the same parent (-1: the rule names none)."""
        return _pattern(self.key(i))

    def is_descendant(self, node: int, ancestor: int) -> bool:
        """Whether ``ancestor`` is ``node`` or one of its parents' chain (walked up to a
        root, a gap or a cycle, as MessageGraph.ancestor_indices walks).

        The candidates of one orphan are mostly rows just before it, whose chains
        share all but their last few nodes: each node's answer is kept (per
        ancestor), so a walk stops where an earlier one passed, and the whole
        graph is never toured for a handful of candidates.
        """
        known = self._below.get(ancestor)
        if known is None:
            # A byte per node, not a dict entry and an int: a walk up a long chain
            # (half a million nodes) would hold tens of MB.
            known = self._below[ancestor] = bytearray(len(self.graph.parent_array))
            known[ancestor] = _BELOW
        parents = self.graph.parent_array
        path = array("i")
        j = node
        while True:
            mark = known[j]
            if mark == _ON_PATH:  # a cycle without the ancestor: the walk stops here
                answer = _NOT_BELOW
                break
            if mark != _UNKNOWN:
                answer = mark
                break
            path.append(j)
            known[j] = _ON_PATH
            j = parents[j]
            if j < 0:  # a root or a gap
                answer = _NOT_BELOW
                break
        for k in path:
            known[k] = answer
        return answer == _BELOW

    def forget_descendants(self, ancestor: int) -> None:
        """Drop the answers is_descendant keeps for ``ancestor`` (a byte per node)."""
        self._below.pop(ancestor, None)

    def _rule_prior(self, kind: int, rules: Sequence[int]) -> float:
        """How often the best of ``rules`` named the parent of this kind's rows here."""
        self._learn(kind)
        base = self.kind_names[kind].split("/")[0]
        priors = _PRIORS.get(base, _DEFAULT_PRIOR)
        hits = self.rule_hits.get(kind)
        best = 0.0
        for k in rules:
            prior = priors.get(RULES[k], 0.02)
            if hits is not None and hits[k][1]:
                h, n = hits[k]
                prior = (h + SMOOTHING * prior) / (n + SMOOTHING)
            best = max(best, prior)
        return best

    def groups_for(self, kind: int, key: Sequence[int]) -> list[tuple[int, float, list[int]]]:
        """(candidate node, raw probability, rules naming it) for a row of ``kind`` whose
        rules name ``key``, from this session's rows of that kind."""
        self._learn(kind)
        pat = _pattern(key)
        groups: dict[int, list[int]] = {}
        for k, label in enumerate(pat):
            if label >= 0:
                groups.setdefault(label, []).append(k)
        priors = {g: self._rule_prior(kind, rules) for g, rules in groups.items()}
        total = sum(priors.values())
        if total > 1.0:
            priors = {g: v / total for g, v in priors.items()}
        seen = self.stats.get((kind, pat))
        n = sum(seen.values()) if seen else 0
        out = []
        for g, rules in groups.items():
            hits = seen.get(g, 0) if seen else 0
            raw = (hits + SMOOTHING * priors[g]) / (n + SMOOTHING)
            out.append((key[g], raw, rules))
        return out

    def group_probabilities(self, i: int) -> list[tuple[int, float, list[int]]]:
        """(candidate node, raw probability, rules naming it) for node ``i``'s rule groups."""
        return self.groups_for(self.kind_of[i], self.key(i))


class ConversationRepairEngine:
    """Finds orphaned messages and ranks parent candidates for them."""

    def __init__(self, *, window: int = DEFAULT_WINDOW) -> None:
        self.window = window
        self._cache: weakref.WeakKeyDictionary[
            Transcript, tuple[dict[str, str | None], frozenset[str], SessionIndex]
        ] = weakref.WeakKeyDictionary()

    def index(
        self,
        session: Transcript,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> SessionIndex:
        overrides = dict(parent_overrides or {})
        known = frozenset(known_uuids)
        cached = self._cache.get(session)
        if cached is not None and cached[0] == overrides and cached[1] == known:
            return cached[2]
        built = SessionIndex(session, overrides, known)
        self._cache[session] = (overrides, known, built)
        return built

    def find_orphaned_messages(
        self,
        session: Transcript,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> list[MessageRecord]:
        """Messages a finding says need a parent (orphans and unexpected roots), in file order."""
        idx = self.index(session, parent_overrides, known_uuids)
        ids = {
            f.message_ids[0]
            for f in orphan_findings(idx.graph) + unexpected_root_findings(idx.graph)
        }
        graph = idx.graph
        nodes = sorted(graph.index_of(u) for u in ids)
        return [idx.records[i] for i in nodes]

    def suggest_parent_candidates(
        self,
        session: Transcript,
        message_id: str,
        k: int = 3,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> list[Candidate]:
        """The ``k`` best parents for ``message_id``, best first.

        Never proposes the message itself or one of its descendants (a cycle).
        """
        idx = self.index(session, parent_overrides, known_uuids)
        m = idx.graph.get_index(message_id)
        if m is None:
            return []
        try:
            scored = self._scored(idx, m)
        finally:
            idx.forget_descendants(m)  # a byte per node: kept for one message at a time
        scored.sort(key=lambda cand: (-cand.score, -(cand.line or 0)))
        # Previews re-read their line from the file: only for what is shown.
        return [
            dataclasses.replace(c, preview=idx.records[idx.graph.index_of(c.parent_uuid)].preview)
            for c in scored[:k]
        ]

    def suggest_all(
        self,
        session: Transcript,
        k: int = 3,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> list[OrphanSuggestions]:
        out = []
        for record in self.find_orphaned_messages(session, parent_overrides, known_uuids):
            assert record.uuid is not None
            candidates = self.suggest_parent_candidates(
                session, record.uuid, k, parent_overrides, known_uuids
            )
            out.append(OrphanSuggestions(record.uuid, record.line, candidates))
        return out

    # -- internals ------------------------------------------------------------

    def _scored(self, idx: SessionIndex, m: int) -> list[Candidate]:
        cols, node_rec = idx.cols, idx.cols.node_rec
        child_epoch = epoch(cols.timestamp(node_rec[m]))
        child_line = cols.line[node_rec[m]]
        out: dict[int, Candidate] = {}

        def add(c: int, raw: float, signals: dict[str, float]) -> None:
            if c == m or c in out or idx.is_descendant(c, m):
                return
            line = cols.line[node_rec[c]]
            dt = epoch(cols.timestamp(node_rec[c])) - child_epoch
            if dt > LATE_PARENT_S:  # NaN compares False: a missing time never lowers
                raw *= LATE_PARENT_FACTOR
                signals["later_than_child"] = 1.0
            score = min(1.0, max(0.0, calibrate(raw)))
            bad = idx.bad_lines
            if bad and bisect_right(bad, child_line) > bisect_right(bad, line):
                signals["unreadable_line_between"] = 1.0
            out[c] = Candidate(
                parent_uuid=idx.graph.uuid_at(c),
                score=score,
                signals=signals,
                line=line,
            )

        # Every account of the break (the row's own link cut, or a lost row before it)
        # proposes parents; a candidate's probability sums over the accounts.
        accounts = hypotheses(idx, m)
        total = sum(h.weight for h in accounts)
        mixed: dict[int, tuple[float, dict[str, float]]] = {}
        for h in accounts:
            share = h.weight / total
            for c, p, rules in h.groups:
                raw, signals = mixed.get(c, (0.0, {}))
                signals.update({rule: 1.0 for rule in rules})
                if len(accounts) > 1:
                    signals[h.name] = round(signals.get(h.name, 0.0) + share * p, 4)
                mixed[c] = (raw + share * p, signals)
        for c, (raw, signals) in sorted(mixed.items(), key=lambda item: -item[1][0]):
            add(c, raw, {"probability": raw, **signals})
        # Then nearby rows no rule names, at a small score decreasing with distance.
        side = cols.flags(node_rec[m]) & SIDECHAIN
        rank = 0
        for c in range(m - 1, max(-1, m - 1 - self.window), -1):
            if c in out:
                continue
            same = cols.flags(node_rec[c]) & SIDECHAIN == side
            raw = 0.01 / (1 + rank) if same else 0.001 / (1 + rank)
            rank += 1
            add(c, raw, {"probability": raw, "nearby": 1.0})
        return list(out.values())
