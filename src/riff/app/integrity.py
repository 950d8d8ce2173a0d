"""Database-wide verification: every session's chain and every materialized view.

Events are streamed session by session (`store.events`), each session through
its own `ChainVerifier`, so memory is bounded by the largest session, not the
log. Breaks use the problem names of `riff verify --json` (cli-json.md):
chain problems from the event core, `head_mismatch` for a `session_head` row
or an expected head that disagrees with the log, and `view_mismatch` for a
view whose head, through_seq or materialization digest is not what a replay
of the log over its base parents gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from riff.app.eventlog import EventLog
from riff.errors import Interrupted
from riff.events import GENESIS_DIGEST, ChainBreak, ChainHead, ChainVerifier, SessionFold
from riff.events import calculate_session_digest as session_digest
from riff.events.verify import SessionHead, ValidationResult, check_expected_heads
from riff.views import ViewRecord

StopCheck = Callable[[], bool]


class VerificationInterrupted(Interrupted):
    """The caller asked to stop; the partial result is not a verdict."""


@dataclass(slots=True)
class DatabaseVerification(ValidationResult):
    """A ValidationResult that also counts the views it checked."""

    views_checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        doc = ValidationResult.to_dict(self)
        doc["views_checked"] = self.views_checked
        return doc


@dataclass(slots=True)
class _ViewReplay:
    """The replay of one session's log over a view's base parents, up to its through_seq."""

    view: ViewRecord
    fold: SessionFold
    digest_at: str = GENESIS_DIGEST

    def feed(self, event: Mapping[str, Any]) -> None:
        if event["seq"] <= self.view.through_seq:
            self.fold.apply(event)
            self.digest_at = event["event_digest"]


def verify_database(
    store: EventLog,
    *,
    expected_heads: Mapping[str, str] | None = None,
    check_views: bool = True,
    check_schema: bool = True,
    should_stop: StopCheck | None = None,
) -> DatabaseVerification:
    """Verify every chain (and view) in the database; the breaks say where and what.

    `expected_heads` are anchors recorded elsewhere (SESSION=DIGEST, a unique
    session prefix is enough); a head that differs is `head_mismatch`.
    `should_stop` is polled between sessions; when it returns true the
    verification raises VerificationInterrupted.
    """
    result = DatabaseVerification()
    stored_heads = store.heads()
    view_sessions = (
        {str(row["session_id"]) for row in store.view_summaries()} if check_views else set()
    )
    # Every row counts, not only the sessions riff's appends recorded: rows
    # written by another client (no head row) are found by counting them.
    row_count = store.event_row_count()
    counts: dict[str, int] | None = None
    if row_count != sum(head.seq for head in stored_heads.values()):
        counts = store.event_counts()
    log_sessions = set(stored_heads) | set(counts or {})
    seen_ids: dict[int, str] = {}
    for session_id in sorted(log_sessions | view_sessions):
        if should_stop is not None and should_stop():
            raise VerificationInterrupted(f"stopped before session {session_id}")
        view = store.get_view(session_id) if session_id in view_sessions else None
        replay = _ViewReplay(view, SessionFold(session_id, view.base_parents)) if view else None
        verifier = ChainVerifier()
        events_by_seq: list[tuple[int, str]] = []
        for event in store.events(session_id):
            row = event.to_dict()
            verifier.feed(row)
            if replay is not None:
                replay.feed(row)
            _check_unique_id(store, seen_ids, event.event_id, session_id, event.seq, result)
            events_by_seq.append((event.seq, event.event_id))
        session = verifier.finish()
        result.events_checked += session.events_checked
        result.breaks.extend(session.breaks)
        result.reverted_ids |= session.reverted_ids
        log_head = session.heads.get(session_id, SessionHead(0, GENESIS_DIGEST))
        if session_id in log_sessions:
            result.sessions_checked += 1
            result.heads[session_id] = log_head
            result.breaks.extend(
                _head_row_breaks(session_id, stored_heads.get(session_id), log_head, events_by_seq)
            )
        if counts is not None and counts.get(session_id, 0) > session.events_checked:
            result.breaks.extend(_misplaced_breaks(store, session_id))
        if replay is not None:
            result.views_checked += 1
            result.breaks.extend(_view_breaks(replay, log_head))
    if expected_heads:
        result.breaks.extend(check_expected_heads(result, _resolve(expected_heads, result.heads)))
    if check_schema:  # last: a chain break names the damage, the drift how it was done
        result.breaks.extend(schema_breaks(store))
    return result


def schema_breaks(store: EventLog) -> list[ChainBreak]:
    """The schema guards root DDL removed or changed (`schema_drift`, session "*")."""
    return [ChainBreak("*", None, None, "schema_drift", line) for line in store.schema_drift()]


def _check_unique_id(
    store: EventLog,
    seen: dict[int, str],
    event_id: str,
    session_id: str,
    seq: int,
    result: ValidationResult,
) -> None:
    # A 64-bit hash per event keeps memory small; a hash seen twice is
    # confirmed against the database before it is reported.
    key = hash(event_id)
    if key not in seen:
        seen[key] = session_id
        return
    n = store.event_id_count(event_id)
    if n > 1:
        result.breaks.append(
            ChainBreak(
                session_id,
                seq,
                event_id,
                "duplicate_event_id",
                f"event id {event_id} appears {n} times in the database",
            )
        )


def _misplaced_breaks(store: EventLog, session_id: str) -> list[ChainBreak]:
    """Rows of the session that a range read cannot see: stored under another record id."""
    return [
        ChainBreak(
            session_id,
            row.get("seq") if isinstance(row.get("seq"), int) else None,
            str(row.get("event_id")),
            "seq_gap",
            f"event stored as {row.get('id')}, not at its place [session_id, seq]: "
            "written past the schema's guards",
        )
        for row in store.misplaced_events(session_id)
    ]


def _head_row_breaks(
    session_id: str,
    row: ChainHead | None,
    log_head: SessionHead,
    events_by_seq: list[tuple[int, str]],
) -> list[ChainBreak]:
    """The head row riff's appends move against the log; events past it are named."""
    row_seq = row.seq if row is not None else 0
    if row is not None and row.seq == log_head.seq and row.digest == log_head.digest:
        return []
    if row_seq < log_head.seq:
        where = (
            f"the session_head row is at seq {row_seq}" if row else "the session has no head row"
        )
        return [
            ChainBreak(
                session_id,
                seq,
                event_id,
                "head_mismatch",
                f"event {event_id} at seq {seq} was written past the head ({where}): "
                "not appended by riff",
            )
            for seq, event_id in events_by_seq
            if seq > row_seq
        ]
    assert row is not None
    return [
        ChainBreak(
            session_id,
            log_head.seq,
            None,
            "head_mismatch",
            f"session_head says seq {row.seq} head {row.digest[:12]}…, the log ends at seq "
            f"{log_head.seq} head {log_head.digest[:12]}…",
        )
    ]


def _view_breaks(replay: _ViewReplay, log_head: SessionHead) -> list[ChainBreak]:
    view = replay.view
    sid = view.session_id
    problems: list[str] = []
    if view.through_seq > log_head.seq:
        problems.append(
            f"view is through seq {view.through_seq} but the log ends at seq {log_head.seq}"
        )
    elif replay.fold.head_seq != view.through_seq:
        problems.append(f"the log has no event at the view's through_seq {view.through_seq}")
    else:
        if view.head_digest != replay.digest_at:
            problems.append(
                f"view head {view.head_digest[:12]}… != log digest {replay.digest_at[:12]}… at "
                f"seq {view.through_seq}"
            )
        parents = dict(view.base_parents)
        parents.update(replay.fold.parents)
        expected = session_digest(sid, view.through_seq, parents)
        if view.materialization_digest != expected:
            problems.append(
                f"stored materialization digest {view.materialization_digest[:12]}… != replay "
                f"{expected[:12]}…"
            )
        if session_digest(sid, view.through_seq, view.parents) != expected:
            differ = sorted(
                k
                for k in parents.keys() | view.parents.keys()
                if parents.get(k, "?") != view.parents.get(k, "?")
            )
            problems.append(f"{len(differ)} stored parent(s) differ from the replay")
    return [
        ChainBreak(sid, view.through_seq, None, "view_mismatch", problem) for problem in problems
    ]


def _resolve(expected: Mapping[str, str], heads: Mapping[str, SessionHead]) -> dict[str, str]:
    """Expand unique session-id prefixes to the full ids; unknown ids stay as given."""
    resolved: dict[str, str] = {}
    for key, digest in expected.items():
        if key in heads:
            resolved[key] = digest
            continue
        matches = [sid for sid in heads if sid.startswith(key)]
        resolved[matches[0] if len(matches) == 1 else key] = digest
    return resolved


__all__ = ["DatabaseVerification", "VerificationInterrupted", "verify_database"]
