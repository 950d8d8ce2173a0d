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
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from riff.transcript.detect import orphan_findings, unexpected_root_findings
from riff.transcript.graph import MessageGraph
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
_R = {name: k for k, name in enumerate(RULES)}
_NONE = -1

DEFAULT_WINDOW = 128
"""Preceding rows offered (at a low score) besides the rows the rules name."""
SMOOTHING = 2.0
"""Weight of the prior against the session's own rows (in rows)."""
LATE_PARENT_S = 60.0
"""A candidate this much later than the child is suspicious (clock skew is smaller)."""
LATE_PARENT_FACTOR = 0.5
REVIEW_CAP = 0.9
"""Highest score of a candidate separated from the child by a line that cannot be
read: that line may have been the true parent (a torn row), so the candidate is
offered for review, never applied by ``repair --yes`` (measured: 98.8% right on
torn lines of real files, below the 99.5% the threshold stands for)."""

# Prior probability that a rule names the parent, by kind of child, used when
# the session has few rows of that kind (fit on real transcripts; see the bench).
_PRIORS: dict[str, dict[str, float]] = {
    "tool_result": {"tool_use_holder": 0.6, "result_chain": 0.3, "previous_row": 0.05},
    "assistant_more": {"same_response": 0.9, "previous_row": 0.05},
    "progress": {"previous_row": 0.5, "tool_use_holder": 0.3, "same_tool_progress": 0.1},
}
_DEFAULT_PRIOR = {"previous_row": 0.7, "previous_non_progress": 0.15, "previous_message": 0.05}

# Raw probability -> measured probability of being right (isotonic fit on
# injected breaks of the real development set; bench/real_accuracy.py --fit).
CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.5881, 0.821),
    (0.7043, 0.9146),
    (0.7652, 0.9444),
    (0.8877, 0.9776),
    (0.9929, 0.9964),
    (1.0, 0.9964),
)

AUTO_APPLY_SCORE = 0.95
"""``repair --yes`` applies a suggestion only at or above this score: the lowest
score at which the measured precision on real transcripts stays >= 99.5%."""


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


def _epoch(ts: str | None) -> float:
    if ts is None:
        return math.nan
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.nan


class SessionIndex:
    """Every rule's prediction for every row, and how often each was right here."""

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
        self.tin, self.tout = self.graph.euler_tour()
        self.bad_lines = sorted(p.line for p in transcript.problems)
        self.kinds: list[str] = []
        self.patterns: list[tuple[int, ...]] = []
        """How the rules agree for each node (see :meth:`pattern`), interned."""
        self.predictions: list[array[int]] = [array("i") for _ in RULES]
        self._predict(cols)
        self.stats, self.rule_hits = self._learn()

    # -- building ---------------------------------------------------------

    def _predict(self, cols: Columns) -> None:
        """One forward pass: each rule's parent for each node (nodes are in file order)."""
        node_rec, shape, shapes = cols.node_rec, cols.shape, cols.shapes
        holder: dict[str, int] = {}
        holder_msg: dict[int, int] = {}
        last_by_msg: dict[int, int] = {}
        last_result_by_msg: dict[int, int] = {}
        last_progress_by_tool: dict[str, int] = {}
        last_any = [_NONE, _NONE]
        last_non_progress = [_NONE, _NONE]
        last_message = [_NONE, _NONE]
        tools: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for r, uses, results in cols.tool_records():
            tools[r] = (uses, results)
        preds = self.predictions
        kinds = self.kinds
        patterns = self.patterns
        interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        msg_ref = cols.msg_ref
        for i, r in enumerate(node_rec):
            line_type, subtype, _, flags = shapes[shape[r]]
            side = 1 if flags & SIDECHAIN else 0
            uses, results = tools.get(r, ((), ()))
            msg = msg_ref[r]
            tool_ref = cols.tool_ref.get(r)
            p = [_NONE] * len(RULES)
            p[_R["previous_row"]] = last_any[side]
            p[_R["previous_non_progress"]] = last_non_progress[side]
            p[_R["previous_message"]] = last_message[side]
            if line_type == "assistant" and msg >= 0 and msg in last_by_msg:
                kind = "assistant_more"
                p[_R["same_response"]] = last_by_msg[msg]
            elif line_type == "user" and results and not flags & CONVERSATION:
                kind = "tool_result"
                h = holder.get(results[0], _NONE)
                p[_R["tool_use_holder"]] = h
                hm = holder_msg.get(h, -1) if h >= 0 else -1
                if hm >= 0:
                    tail = last_by_msg.get(hm, h)
                    p[_R["response_tail"]] = tail
                    p[_R["result_chain"]] = last_result_by_msg.get(hm, tail)
                    last_result_by_msg[hm] = i
                elif h >= 0:
                    p[_R["response_tail"]] = h
                    p[_R["result_chain"]] = h
            elif line_type == "progress":
                kind = "progress"
                if tool_ref is not None:
                    p[_R["tool_use_holder"]] = holder.get(tool_ref, _NONE)
                    p[_R["same_tool_progress"]] = last_progress_by_tool.get(tool_ref, _NONE)
            elif line_type == "user":
                kind = "prompt" if flags & CONVERSATION else "user_other"
            elif line_type == "system":
                kind = f"system:{subtype}"
            else:
                kind = str(line_type)
            kinds.append(f"{kind}/sidechain" if side else kind)
            for k, value in enumerate(p):
                preds[k].append(value)
            key = tuple(p)  # the pattern only depends on which predictions coincide
            pat = tuple([-1 if v == _NONE else key.index(v) for v in key])
            patterns.append(interned.setdefault(pat, pat))
            # Update the running state after predicting (a row is not its own parent).
            last_any[side] = i
            if line_type != "progress":
                last_non_progress[side] = i
            if line_type in ("user", "assistant", "system"):
                last_message[side] = i
            if msg >= 0:
                last_by_msg[msg] = i
            for tool_id in uses:
                holder.setdefault(tool_id, i)
                if msg >= 0:
                    holder_msg[i] = msg
            if line_type == "progress" and tool_ref is not None:
                last_progress_by_tool[tool_ref] = i

    def pattern(self, i: int) -> tuple[int, ...]:
        """How the rules agree for node ``i``: each rule's label is the first rule naming
        the same parent (-1: the rule names none)."""
        return self.patterns[i]

    def _learn(
        self,
    ) -> tuple[dict[tuple[str, tuple[int, ...]], Counter[int]], dict[str, list[list[int]]]]:
        """Per kind and agreement pattern, which group held the real parent (-2: none)."""
        stats: dict[tuple[str, tuple[int, ...]], Counter[int]] = {}
        rule_hits: dict[str, list[list[int]]] = {}
        parents = self.graph.parent_array
        rules = range(len(RULES))
        columns = self.predictions
        for i, (kind, pat) in enumerate(zip(self.kinds, self.patterns, strict=True)):
            p = parents[i]
            if p < 0:
                continue
            values = [column[i] for column in columns]
            label = pat[values.index(p)] if p in values else -2
            counts = stats.get((kind, pat))
            if counts is None:
                counts = stats[kind, pat] = Counter()
            counts[label] += 1
            hits = rule_hits.get(kind)
            if hits is None:
                hits = rule_hits[kind] = [[0, 0] for _ in rules]
            for k in rules:
                if pat[k] >= 0:
                    hits[k][1] += 1
                    if values[k] == p:
                        hits[k][0] += 1
        return stats, rule_hits

    # -- asking -------------------------------------------------------------

    def is_descendant(self, node: int, ancestor: int) -> bool:
        tin = self.tin
        if tin[ancestor] >= 0 and tin[node] >= 0:
            return tin[ancestor] <= tin[node] < self.tout[ancestor]
        # On or below a cycle there is no tour: walk up (bounded by a visited set).
        return node == ancestor or ancestor in self.graph.ancestor_indices(node)

    def _rule_prior(self, kind: str, rules: Sequence[int]) -> float:
        """How often the best of ``rules`` named the parent of this kind's rows here."""
        base = kind.split("/")[0]
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

    def group_probabilities(self, i: int) -> list[tuple[int, float, list[int]]]:
        """(candidate node, raw probability, rules naming it) for node ``i``'s rule groups."""
        kind = self.kinds[i]
        pat = self.pattern(i)
        preds = self.predictions
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
            hits = seen[g] if seen else 0
            raw = (hits + SMOOTHING * priors[g]) / (n + SMOOTHING)
            out.append((preds[g][i], raw, rules))
        return out


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
        scored = self._scored(idx, m)
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
        child_epoch = _epoch(cols.timestamp(node_rec[m]))
        child_line = cols.line[node_rec[m]]
        out: dict[int, Candidate] = {}

        def add(c: int, raw: float, signals: dict[str, float]) -> None:
            if c == m or c in out or idx.is_descendant(c, m):
                return
            line = cols.line[node_rec[c]]
            dt = _epoch(cols.timestamp(node_rec[c])) - child_epoch
            if dt > LATE_PARENT_S:  # NaN compares False: a missing time never lowers
                raw *= LATE_PARENT_FACTOR
                signals["later_than_child"] = 1.0
            score = min(1.0, max(0.0, calibrate(raw)))
            bad = idx.bad_lines
            if bad and bisect_right(bad, child_line) > bisect_right(bad, line):
                score = min(score, REVIEW_CAP)
                signals["unreadable_line_between"] = 1.0
            out[c] = Candidate(
                parent_uuid=idx.graph.uuid_at(c),
                score=score,
                signals=signals,
                line=line,
            )

        groups = sorted(idx.group_probabilities(m), key=lambda g: -g[1])
        for c, raw, rules in groups:
            add(c, raw, {"probability": raw, **{RULES[k]: 1.0 for k in rules}})
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
