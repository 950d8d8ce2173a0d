"""Immutability verification: recompute every digest, walk every chain, check reverts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from riff.events.canonical import compute_event_digest
from riff.events.fold import ChainBreak, SessionFold
from riff.events.model import GENESIS_DIGEST, RepairEvent

PROBLEMS = (
    "digest_mismatch",
    "broken_link",
    "seq_gap",
    "seq_repeat",
    "duplicate_event_id",
    "bad_revert",
    "head_mismatch",
    "metadata_mismatch",
    "view_mismatch",
    "schema_drift",
)


@dataclass(frozen=True, slots=True)
class SessionHead:
    seq: int
    digest: str


@dataclass(slots=True)
class ValidationResult:
    events_checked: int = 0
    sessions_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    heads: dict[str, SessionHead] = field(default_factory=dict)
    reverted_ids: AbstractSet[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "sessions_checked": self.sessions_checked,
            "breaks": [b.to_dict() for b in self.breaks],
        }


def chain_step_problems(
    head_seq: int,
    head_digest: str,
    seq: int,
    prev_digest: str,
    stored_digest: str,
    actual_digest: str,
) -> list[tuple[str, str]]:
    """What is wrong with one event appended after (head_seq, head_digest)."""
    problems: list[tuple[str, str]] = []
    expected_seq = head_seq + 1
    if seq < expected_seq:
        problems.append(("seq_repeat", f"seq {seq} comes after seq {head_seq}"))
    elif seq > expected_seq:
        problems.append(("seq_gap", f"expected seq {expected_seq}, found {seq}"))
    if actual_digest != stored_digest:
        problems.append(
            (
                "digest_mismatch",
                f"stored digest {stored_digest[:12]}…, its fields hash to {actual_digest[:12]}…",
            )
        )
    expected_prev = head_digest if head_seq else GENESIS_DIGEST
    if prev_digest != expected_prev:
        problems.append(
            (
                "broken_link",
                f"prev_digest {prev_digest[:12]}… is not the digest {expected_prev[:12]}… "
                "of the event before it",
            )
        )
    return problems


class ChainVerifier:
    """Streaming verifier: feed events (dicts of the spec's fields) in log order.

    Events of one session must come in seq order; sessions may interleave.
    Each event's digest is recomputed from its fields, its `prev_digest`
    compared with the stored digest of the event before it, and its seq with
    the one expected, so a change anywhere is named at the first event it
    touches. After a break the chain continues from the event as stored, so
    one tampered event is reported once rather than cascading.
    """

    def __init__(self) -> None:
        self._folds: dict[str, SessionFold] = {}
        self._seen_ids: set[str] = set()
        self._result = ValidationResult()

    def _break(self, event: Mapping[str, Any], problem: str, detail: str) -> None:
        self._result.breaks.append(
            ChainBreak(event["session_id"], event["seq"], event["event_id"], problem, detail)
        )

    def fold(self, session_id: str) -> SessionFold:
        fold = self._folds.get(session_id)
        if fold is None:
            fold = self._folds[session_id] = SessionFold(session_id)
        return fold

    def feed(self, event: Mapping[str, Any]) -> None:
        self._result.events_checked += 1
        fold = self.fold(event["session_id"])
        event_id = event["event_id"]
        if event_id in self._seen_ids:
            self._break(event, "duplicate_event_id", f"event id {event_id} appears twice")
        self._seen_ids.add(event_id)
        for problem, detail in chain_step_problems(
            fold.head_seq,
            fold.head_digest,
            event["seq"],
            event["prev_digest"],
            event["event_digest"],
            compute_event_digest(event),
        ):
            self._break(event, problem, detail)
        if event["reverts_event_id"] is not None:
            revert_problem = fold.revert_problem(event)
            if revert_problem:
                self._break(event, "bad_revert", revert_problem)
        fold.apply(event)

    def feed_event(self, event: RepairEvent) -> None:
        self.feed(event.to_dict())

    def locate(self, event_id: str) -> tuple[str, int | None]:
        """(session_id, seq) of an event fed earlier, for naming breaks found later."""
        for session_id, fold in self._folds.items():
            seq = fold.seq_of(event_id)
            if seq is not None:
                return session_id, seq
        return "*", None

    def reverted_repair_count(self) -> int:
        return sum(fold.reverted_repair_count() for fold in self._folds.values())

    def add_break(self, brk: ChainBreak) -> None:
        self._result.breaks.append(brk)

    def finish(self) -> ValidationResult:
        result = self._result
        result.sessions_checked = len(self._folds)
        result.heads = {
            sid: SessionHead(fold.head_seq, fold.head_digest) for sid, fold in self._folds.items()
        }
        result.reverted_ids = set().union(*(f.reverted_ids() for f in self._folds.values()))
        return result


def validate_event_immutability(events: Iterable[RepairEvent]) -> ValidationResult:
    """Verify a whole log of sealed events; every break names session, seq and event."""
    verifier = ChainVerifier()
    for event in events:
        verifier.feed(event.to_dict())
    return verifier.finish()


def check_expected_heads(result: ValidationResult, expected: Mapping[str, str]) -> list[ChainBreak]:
    """Heads recorded elsewhere (anchors) against the heads of the log: catches truncation.

    A session may be named by a unique prefix of its id.
    """
    breaks: list[ChainBreak] = []
    for given, digest in expected.items():
        session_id, matches = _session_for(given, result.heads)
        head = result.heads.get(session_id)
        if head is None:
            detail = (
                f"session prefix {given!r} matches {matches} sessions; give more of the id"
                if matches > 1
                else "session is not in the log"
            )
            breaks.append(ChainBreak(given, None, None, "head_mismatch", detail))
        elif head.digest != digest:
            breaks.append(
                ChainBreak(
                    session_id,
                    head.seq,
                    None,
                    "head_mismatch",
                    f"log ends at seq {head.seq} with head {head.digest[:12]}…, "
                    f"expected {digest[:12]}…",
                )
            )
    return breaks


def _session_for(given: str, heads: Mapping[str, SessionHead]) -> tuple[str, int]:
    """The session id `given` names (itself, or the one session it is a prefix of)."""
    if given in heads:
        return given, 1
    matches = [sid for sid in heads if sid.startswith(given)]
    return (matches[0] if len(matches) == 1 else given), len(matches)
