"""Materialized views: rebuild, incremental update, drift against log and file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riff.app.eventlog import EventLog
from riff.app.recording import append_repair
from riff.app.viewstore import check_drift, rebuild, rebuild_from_file, update
from riff.events import EventDraft, calculate_session_digest, replay_repair_events
from riff.store import NoViewError
from riff.views import SourceState, ViewChainError
from tests.store.helpers import M, chain_drafts, mem_store

BASE = {M[0]: None, **{M[i + 1]: M[i] for i in range(40)}}
TIMES = {m: f"2026-01-01T00:00:{i:02d}.000Z" for i, m in enumerate(M[:41])}
SOURCE = SourceState("s1", BASE, TIMES)


@pytest.fixture
def store() -> EventLog:
    return mem_store()


def test_rebuild_equals_replay(store: EventLog) -> None:
    events = store.append("s1", chain_drafts(12))
    view = rebuild(store, "s1", SOURCE)
    replay = replay_repair_events(BASE, events, session_id="s1")
    assert view.parents == replay.parents
    assert view.through_seq == 12 and view.head_digest == events[-1].event_digest
    assert view.materialization_digest == calculate_session_digest("s1", 12, replay.parents)
    assert store.get_view("s1") == view
    assert not view.is_stale and not view.drift_detected


def test_incremental_update_matches_a_rebuild(store: EventLog) -> None:
    store.append("s1", chain_drafts(5))
    rebuild(store, "s1", SOURCE)
    store.append("s1", chain_drafts(7, offset=5))
    stale = store.get_view("s1")
    assert stale is not None and stale.is_stale and stale.through_seq == 5
    updated = update(store, "s1")
    fresh = rebuild(store, "s1", SOURCE, save=False)
    assert updated.through_seq == 12 and not updated.is_stale
    assert updated.parents == fresh.parents
    assert updated.materialization_digest == fresh.materialization_digest
    assert update(store, "s1") is not None  # nothing new: no change
    assert store.get_view("s1") == updated


def test_incremental_update_reads_only_newer_events(store: EventLog) -> None:
    store.append("s1", chain_drafts(30))
    rebuild(store, "s1", SOURCE)
    store.append("s1", chain_drafts(1, offset=30))
    seen: list[int] = []
    original = store.events

    def spy(session_id: str, from_seq: int = 1):  # type: ignore[no-untyped-def]
        seen.append(from_seq)
        return original(session_id, from_seq)

    store.events = spy  # type: ignore[method-assign]
    update(store, "s1")
    assert seen == [31]


def test_update_without_view_and_broken_continuation(store: EventLog) -> None:
    with pytest.raises(NoViewError):
        update(store, "s1")
    store.append("s1", chain_drafts(2))
    view = rebuild(store, "s1", SOURCE)
    store.put_view(view.evolve(head_digest="c" * 64))
    store.append("s1", chain_drafts(1, offset=2))
    with pytest.raises(ViewChainError, match="rebuild"):
        update(store, "s1")


def test_drift_clean_and_stale_is_not_drift(store: EventLog) -> None:
    store.append("s1", chain_drafts(4))
    rebuild(store, "s1", SOURCE)
    assert not check_drift(store, "s1").drift_detected
    store.append("s1", chain_drafts(2, offset=4))  # behind, not drifted
    report = check_drift(store, "s1")
    assert not report.drift_detected, report.summary()


def test_drift_in_the_stored_view_is_found_and_marked(store: EventLog) -> None:
    store.append("s1", chain_drafts(4))
    view = rebuild(store, "s1", SOURCE)
    tampered = dict(view.parents)
    tampered[M[7]] = M[2]
    store.put_view(view.evolve(parents=tampered))
    report = check_drift(store, "s1")
    assert report.drift_detected and report.view_parents_differ == [M[7]]
    marked = store.get_view("s1")
    assert marked is not None and marked.drift_detected
    assert marked.drift_report is not None and marked.drift_report["view_parents_differ"] == [M[7]]
    store.put_view(view.evolve(parents={**tampered, "not-a-message": None}))
    assert check_drift(store, "s1").view_parents_differ == [M[7], "not-a-message"]
    store.put_view(view.evolve(parents={k: v for k, v in tampered.items() if k != M[8]}))
    assert check_drift(store, "s1").view_parents_differ == [M[7], M[8]]


def _write_transcript(path: Path, parents: dict[str, str | None]) -> None:
    lines = [
        orjson.dumps(
            {
                "type": "user",
                "uuid": uid,
                "parentUuid": parent,
                "sessionId": "s1",
                "timestamp": TIMES.get(uid, "2026-01-01T00:01:00.000Z"),
                "message": {"role": "user", "content": "hi"},
            }
        )
        for uid, parent in parents.items()
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_drift_against_the_file_on_disk(store: EventLog, tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    _write_transcript(path, BASE)
    view = rebuild_from_file(store, path)
    assert view.session_id == "s1" and view.source is not None
    assert view.source.size == path.stat().st_size and dict(view.base_parents) == BASE
    append_repair(store, "s1", M[5], M[1], operator="alice")
    update(store, "s1")
    assert not check_drift(store, "s1", transcript=path).drift_detected
    # Edited outside riff: a parent changed; Claude Code appended a message.
    edited = dict(BASE)
    edited[M[9]] = M[2]
    edited[M[5]] = M[1]  # the repair, written to the file: not drift
    edited[M[50]] = M[40]
    del edited[M[40]]
    _write_transcript(path, edited)
    report = check_drift(store, "s1", transcript=path)
    assert report.drift_detected and report.file_changed
    assert report.file_parents_differ == [M[9]]
    assert report.new_messages == [M[50]] and report.missing_messages == [M[40]]
    assert "changed in the file" in report.summary()


def test_append_repair_uses_the_view(store: EventLog) -> None:
    rebuild(store, "s1", SOURCE)
    event = append_repair(store, "s1", M[3], M[0], operator="alice")
    assert event.old_parent_uuid == M[2]
    assert update(store, "s1").parents[M[3]] == M[0]
    moved = append_repair(store, "s1", M[3], M[1], operator="alice")
    assert moved.old_parent_uuid == M[0]


def test_views_are_rebuildable_after_anything(store: EventLog) -> None:
    store.append("s1", [EventDraft(M[1], M[0], None, "alice")])
    first = rebuild(store, "s1", SOURCE)
    store.put_view(first.evolve(parents={}, materialization_digest="0" * 64))
    again = rebuild(store, "s1", SOURCE)
    assert again.parents == first.parents
    assert again.materialization_digest == first.materialization_digest
