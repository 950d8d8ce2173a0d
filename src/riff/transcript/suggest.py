"""Ranked parent candidates for orphaned messages.

Index once per session (graph, Euler tour for O(1) "is descendant", tool id
maps, parsed timestamps), then each suggestion scores only a window of
preceding lines plus the lines linked by tool ids: a suggestion on a
50,000-message session costs about a millisecond.

Evidence, strongest first (weights in WEIGHTS): the line holding the
tool_use a tool_result answers (or a progress line of that call); the
nearest preceding line in file order; a line that had no other child yet
(Claude Code appends, so a true parent was a leaf when its child was
written); role alternation; same sidechain; timestamp proximity; text
similarity (weak: tool calls and stubs repeat).
"""

from __future__ import annotations

import math
import weakref
from array import array
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from riff.transcript.graph import DANGLING, ROOT, MessageGraph
from riff.transcript.records import MessageRecord, Transcript

WEIGHTS: dict[str, float] = {
    "tool_id_match": 6.0,
    "file_order": 3.0,
    "role_alternation": 3.0,
    "free_parent": 2.0,
    "sidechain": 2.0,
    "timestamp": 1.0,
    "text_similarity": 0.5,
}
_TOTAL_WEIGHT = sum(WEIGHTS.values())
_TOOL_WEIGHT = WEIGHTS["tool_id_match"]
DEFAULT_WINDOW = 128
_TIMESTAMP_SCALE_S = 120.0

# How plausible a parent of each kind is for a child of each kind.
_ROLE_PRIOR: dict[str, dict[str, float]] = {
    "assistant": {"prompt": 1.0, "tool_result": 1.0, "assistant": 1.0, "system": 0.5},
    "tool_result": {"tool_use": 1.0, "progress": 1.0, "assistant": 0.3, "tool_result": 0.2},
    "prompt": {"assistant": 1.0, "tool_use": 0.5, "system": 0.8, "prompt": 0.8},
    "progress": {"tool_use": 1.0, "progress": 1.0, "assistant": 0.8, "tool_result": 0.8},
}
_DEFAULT_PRIOR = 0.3


def _kind(record: MessageRecord) -> str:
    if record.type == "assistant":
        return "tool_use" if record.tool_use_ids else "assistant"
    if record.type == "user":
        return "tool_result" if record.tool_result_ids and not record.is_conversation else "prompt"
    return record.type or "other"


def _child_kind(record: MessageRecord) -> str:
    kind = _kind(record)
    return "assistant" if kind == "tool_use" else kind


@dataclass(frozen=True)
class Candidate:
    """A proposed parent, with the evidence behind its score."""

    parent_uuid: str
    score: float
    """In [0, 1]; higher is better."""
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
    """Everything a suggestion needs, built once per session (and parent overrides)."""

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
        self.tin, self.tout = self.graph.euler_tour()
        cols = self.graph.columns
        assert cols is not None
        node_rec = cols.node_rec
        self.epochs = array("d", (_epoch(cols.timestamp(r)) for r in node_rec))
        self.tool_holders: dict[str, list[int]] = {}
        self.tool_progress: dict[str, list[int]] = {}
        shape, shapes, uid = cols.shape, cols.shapes, cols.uid
        for r, uses, _ in cols.tool_records():
            node = uid[r]
            if node >= 0 and node_rec[node] == r:
                for tool_id in uses:
                    self.tool_holders.setdefault(tool_id, []).append(node)
        for r, tool_ref in sorted(cols.tool_ref.items()):
            node = uid[r]
            if node >= 0 and node_rec[node] == r and shapes[shape[r]][0] == "progress":
                self.tool_progress.setdefault(tool_ref, []).append(node)

    def is_descendant(self, node: int, ancestor: int) -> bool:
        tin = self.tin
        if tin[ancestor] >= 0 and tin[node] >= 0:
            return tin[ancestor] <= tin[node] < self.tout[ancestor]
        # On or below a cycle there is no tour: walk up (bounded by a visited set).
        return node == ancestor or ancestor in self.graph.ancestor_indices(node)

    def had_other_child(self, candidate: int, child: int) -> bool:
        """Did ``candidate`` already have a non-progress child when ``child`` was written?"""
        records = self.records
        for c in self.graph.child_indices(candidate):
            if c >= child:
                break  # children are in file order
            if records[c].type != "progress":
                return True
        return False


class ConversationRepairEngine:
    """Finds orphaned messages and ranks parent candidates for them."""

    def __init__(self, *, window: int = DEFAULT_WINDOW) -> None:
        self.window = window
        self._cache: weakref.WeakKeyDictionary[
            Transcript, tuple[dict[str, str | None], int, SessionIndex]
        ] = weakref.WeakKeyDictionary()

    def index(
        self,
        session: Transcript,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> SessionIndex:
        overrides = dict(parent_overrides or {})
        cached = self._cache.get(session)
        if cached is not None and cached[0] == overrides and cached[1] == id(known_uuids):
            return cached[2]
        built = SessionIndex(session, overrides, known_uuids)
        self._cache[session] = (overrides, id(known_uuids), built)
        return built

    def find_orphaned_messages(
        self,
        session: Transcript,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> list[MessageRecord]:
        """Messages that need a parent: dangling parent links and unexpected roots."""
        idx = self.index(session, parent_overrides, known_uuids)
        out: list[MessageRecord] = []
        first_main_root_seen = False
        for i, record in enumerate(idx.records):
            parent = idx.graph.parent_index(i)
            if parent == DANGLING:
                out.append(record)
            elif parent == ROOT:
                expected = (
                    not first_main_root_seen
                    or record.is_sidechain
                    or record.logical_parent_uuid is not None
                    or record.is_compact_boundary
                    or record.type not in ("user", "assistant")
                )
                if not record.is_sidechain:
                    first_main_root_seen = True
                if not expected:
                    out.append(record)
        return out

    def suggest_parent_candidates(
        self,
        session: Transcript,
        message_id: str,
        k: int = 3,
        parent_overrides: Mapping[str, str | None] | None = None,
        known_uuids: Collection[str] = (),
    ) -> list[Candidate]:
        """The ``k`` best parents for ``message_id``, best first.

        Never proposes the message itself, one of its descendants (a cycle) or
        a line later in time than the message.
        """
        idx = self.index(session, parent_overrides, known_uuids)
        m = idx.graph.get_index(message_id)
        if m is None:
            return []
        scored = [self._score(idx, m, c, rank) for c, rank in self._candidates(idx, m)]
        scored.sort(key=lambda cand: (-cand.score, -(cand.line or 0)))
        return scored[:k]

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

    def _candidates(self, idx: SessionIndex, m: int) -> list[tuple[int, int]]:
        """(candidate, rank) pairs: rank counts same-sidechain lines in between."""
        records = idx.records
        target = records[m]
        epochs = idx.epochs
        out: dict[int, int] = {}
        rank = 0
        lowest = max(0, m - self.window)
        for c in range(m - 1, lowest - 1, -1):
            if records[c].is_sidechain == target.is_sidechain:
                out[c] = rank
                rank += 1
            else:
                out[c] = rank + self.window
        far = 2 * self.window
        for tool_id in target.tool_result_ids:
            for c in idx.tool_holders.get(tool_id, ()):
                out.setdefault(c, far)
            for c in idx.tool_progress.get(tool_id, ()):
                if c < m:
                    out.setdefault(c, far)
        m_epoch = epochs[m]
        kept = []
        for c, r in out.items():
            if c == m or idx.is_descendant(c, m):
                continue
            c_epoch = epochs[c]
            if c_epoch > m_epoch:  # NaN (missing) compares False: never a failure
                continue
            kept.append((c, r))
        return kept

    def _score(self, idx: SessionIndex, m: int, c: int, rank: int) -> Candidate:
        records = idx.records
        target, cand = records[m], records[c]
        signals: dict[str, float] = {}
        tool_signal = 0.0
        for tool_id in target.tool_result_ids:
            holders = idx.tool_holders.get(tool_id, ())
            if c in holders:
                tool_signal = max(tool_signal, 1.0 if len(holders) == 1 else 0.5)
            elif cand.type == "progress" and cand.tool_ref == tool_id:
                tool_signal = max(tool_signal, 0.9)
        signals["tool_id_match"] = tool_signal
        signals["file_order"] = 1.0 / (1.0 + rank)
        signals["free_parent"] = 0.0 if idx.had_other_child(c, m) else 1.0
        prior = _ROLE_PRIOR.get(_child_kind(target), {})
        signals["role_alternation"] = prior.get(_kind(cand), _DEFAULT_PRIOR)
        signals["sidechain"] = 1.0 if cand.is_sidechain == target.is_sidechain else 0.0
        dt = idx.epochs[m] - idx.epochs[c]
        signals["timestamp"] = 0.5 if math.isnan(dt) else math.exp(-dt / _TIMESTAMP_SCALE_S)
        signals["text_similarity"] = (
            fuzz.token_set_ratio(cand.preview, target.preview) / 100.0
            if cand.preview and target.preview
            else 0.0
        )
        # A tool id can only vouch for a tool result: for any other message its
        # weight would cap every candidate's score at ~0.66 whatever the evidence.
        total = _TOTAL_WEIGHT if target.tool_result_ids else _TOTAL_WEIGHT - _TOOL_WEIGHT
        score = sum(WEIGHTS[name] * value for name, value in signals.items()) / total
        return Candidate(
            parent_uuid=idx.graph.uuid_at(c),
            score=min(1.0, max(0.0, score)),
            signals=signals,
            line=cand.line,
            preview=cand.preview,
        )
