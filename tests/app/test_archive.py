"""Archive segments: byte-for-byte copies of old events, checkpointed and verified end to end."""

from __future__ import annotations

import gzip
import itertools
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from riff.app.archive import (
    ArchiveInterrupted,
    archive_events,
    list_checkpoints,
    read_segment,
    verify_archive,
)
from riff.app.eventlog import EventLog
from riff.app.integrity import verify_database
from riff.app.stores import open_event_store
from riff.events.audit import verify_export
from riff.jobs import JobRunner, shared_store
from riff.store import QueryFailed
from tests.jobs.helpers import T0, append_repairs, mem_settings, seed_sessions, stepping_clock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventLog]:
    with open_event_store(mem_settings(tmp_path)) as s:
        s.clock = stepping_clock()  # one event per day from T0
        yield s


def _seed(store: EventLog, tmp_path: Path) -> list[str]:
    seeded = seed_sessions(store, tmp_path, sessions=3, repairs=50)
    return [s.session_id for s in seeded]  # 150 events over 150 days


def test_a_segment_holds_every_archived_event_byte_for_byte(
    store: EventLog, tmp_path: Path
) -> None:
    sessions = _seed(store, tmp_path)
    archive_dir = tmp_path / "archive"
    now = T0 + timedelta(days=190)  # cutoff T0+100d: events of days 0..99 are archived
    result = archive_events(store, archive_dir, older_than_days=90, now=now)
    assert result.segment is not None and result.events_archived == 100
    lines = gzip.decompress(result.segment.read_bytes()).splitlines()
    archived = [orjson.loads(line) for line in lines[1:-1]]
    assert len(archived) == 100
    for row, line in zip(archived, lines[1:-1], strict=True):
        live = next(store.events(row["session_id"], from_seq=row["seq"]))
        assert {k: v for k, v in row.items() if k != "is_reverted"} == live.to_dict()
        assert line == orjson.dumps({**live.to_dict(), "is_reverted": row["is_reverted"]})
    # Each checkpoint matches the segment's file and the live log.
    checkpoints = list_checkpoints(store)
    assert {c.session_id for c in checkpoints} <= set(sessions)
    assert sum(c.event_count for c in checkpoints) == 100
    for cp in checkpoints:
        assert cp.segment == result.segment.name and cp.segment_sha256 == result.segment_sha256
        assert cp.head_digest == next(store.events(cp.session_id, cp.last_seq)).event_digest
    # A first segment is also a complete riff export that `riff verify FILE` accepts.
    plain = tmp_path / "segment.jsonl"
    plain.write_bytes(gzip.decompress(result.segment.read_bytes()))
    assert verify_export(plain).ok
    # Archiving copies: the live table keeps every row and still verifies.
    assert sum(h.seq for h in store.heads().values()) == 150
    assert verify_database(store).ok
    verified = verify_archive(store, archive_dir)
    assert verified.ok, verified.result.breaks
    assert (verified.segments_checked, verified.checkpoints_checked) == (1, len(checkpoints))


def test_later_segments_continue_the_chain_and_the_live_log_links_to_them(
    store: EventLog, tmp_path: Path
) -> None:
    sessions = _seed(store, tmp_path)
    archive_dir = tmp_path / "archive"
    first = archive_events(store, archive_dir, older_than_days=90, now=T0 + timedelta(days=150))
    second = archive_events(store, archive_dir, older_than_days=90, now=T0 + timedelta(days=200))
    again = archive_events(store, archive_dir, older_than_days=90, now=T0 + timedelta(days=200))
    assert first.events_archived == 60 and second.events_archived == 50
    assert again.segment is None  # nothing new: no empty segment
    append_repairs(store, sessions[0], 2)
    by_session: dict[str, list[tuple[int, int]]] = {}
    for cp in list_checkpoints(store):
        by_session.setdefault(cp.session_id, []).append((cp.first_seq, cp.last_seq))
    for spans in by_session.values():
        assert spans[0][0] == 1
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))
    verified = verify_archive(store, archive_dir)
    assert verified.ok, verified.result.breaks
    assert verified.result.events_checked == 152 and verified.segments_checked == 2
    # Each segment's rows are that session's range; a later one starts after the first.
    rows = list(read_segment(second.segment))  # type: ignore[arg-type]
    assert min(r["seq"] for r in rows if r["session_id"] == rows[0]["session_id"]) > 1


def test_a_missing_or_altered_segment_is_detected(store: EventLog, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    archive_dir = tmp_path / "archive"
    one = archive_events(store, archive_dir, older_than_days=90, now=T0 + timedelta(days=150))
    two = archive_events(store, archive_dir, older_than_days=90, now=T0 + timedelta(days=200))
    assert one.segment is not None and two.segment is not None
    # Altered: one event's reason rewritten, re-compressed.
    lines = gzip.decompress(two.segment.read_bytes()).splitlines(keepends=True)
    row = orjson.loads(lines[3])
    row["reason"] = "rewritten"
    lines[3] = orjson.dumps(row) + b"\n"
    original = two.segment.read_bytes()
    two.segment.write_bytes(gzip.compress(b"".join(lines)))
    altered = verify_archive(store, archive_dir)
    problems = {(b.problem, b.seq) for b in altered.result.breaks}
    assert ("digest_mismatch", None) in problems  # the file's SHA-256
    assert ("digest_mismatch", row["seq"]) in problems  # the event itself
    two.segment.write_bytes(original)
    assert verify_archive(store, archive_dir).ok
    # Missing.
    one.segment.rename(tmp_path / "elsewhere.gz")
    missing = verify_archive(store, archive_dir)
    assert not missing.ok
    assert {b.problem for b in missing.result.breaks} == {"seq_gap"}
    assert all("missing" in b.detail for b in missing.result.breaks)
    # The integrity job checks the archive too.
    settings = mem_settings(tmp_path, archive_dir=archive_dir)
    run = JobRunner(settings, lambda: shared_store(store), rng=random.Random(0)).run("integrity")
    assert run.outcome == "problems" and "missing" in run.summary


def test_checkpoints_are_append_only_and_must_match_the_log(
    store: EventLog, tmp_path: Path
) -> None:
    _seed(store, tmp_path)
    archive_events(store, tmp_path / "a", older_than_days=90, now=T0 + timedelta(days=150))
    for attack in (
        "UPDATE archive_checkpoints SET segment_sha256 = $d",
        "DELETE archive_checkpoints",
    ):
        with pytest.raises(QueryFailed):
            store.recorder.conn.run(attack, {"d": "0" * 64})
    cp = list_checkpoints(store)[0]
    forged = {
        **cp.to_dict(),
        "last_seq": cp.last_seq + 1,
        "first_seq": cp.last_seq + 1,
        "prev_digest": cp.head_digest,
        "head_digest": "f" * 64,
        "event_count": 1,
    }
    from surrealdb import RecordID

    with pytest.raises(QueryFailed, match="head_digest"):
        store.recorder.conn.run(
            "CREATE $id CONTENT $row",
            {
                "id": RecordID("archive_checkpoints", [cp.session_id, cp.last_seq + 1]),
                "row": forged,
            },
        )


def test_an_interrupted_archive_leaves_nothing_behind(store: EventLog, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    archive_dir = tmp_path / "archive"
    calls = {"n": 0}

    def stop_on_fifth_check() -> bool:
        calls["n"] += 1
        return calls["n"] >= 5  # past planning, while writing the segment

    with pytest.raises(ArchiveInterrupted):
        archive_events(
            store,
            archive_dir,
            older_than_days=90,
            now=T0 + timedelta(days=150),
            should_stop=stop_on_fifth_check,
        )
    assert list(archive_dir.iterdir()) == [] and list_checkpoints(store) == []
    run = JobRunner(
        mem_settings(tmp_path), lambda: shared_store(store), clock=lambda: T0 + timedelta(days=150)
    ).run("archive")
    assert run.outcome == "ok" and run.details["events_archived"] == 60
    assert verify_archive(store, tmp_path / "archive").ok
