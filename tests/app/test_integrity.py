"""verify_database, the integrity job and `riff verify --all` on the real embedded store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from surrealdb import RecordID
from typer.testing import CliRunner

from riff.app.eventlog import EventLog
from riff.app.integrity import verify_database
from riff.app.stores import open_event_store
from riff.cli.app import app
from riff.jobs import JobRunner, integrity_reports, shared_store
from riff.store import QueryFailed
from tests.jobs.helpers import kv_settings, mem_settings, seed_sessions


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventLog]:
    with open_event_store(mem_settings(tmp_path)) as s:
        yield s


DRIFT = [("*", None, "schema_drift")] * 2  # the removed THROW event, the field without READONLY


def tamper_event(store: EventLog, session_id: str, seq: int, reason: str) -> None:
    """Rewrite a stored event the way an attacker with root access to the files would.

    The log refuses UPDATE for every user (READONLY fields plus a THROWing
    table event), so the attacker first removes the guard with root DDL
    (REMOVE EVENT, and redefines the field without READONLY), then UPDATEs
    the row in place. The digests stay as they were: only verification can
    notice (the chain names the event; the removed guards show up as the two
    `schema_drift` breaks of DRIFT).
    """
    store.recorder.conn.run(
        "REMOVE EVENT repairs_no_mut ON repairs_events;"
        "DEFINE FIELD OVERWRITE reason ON repairs_events TYPE string;"
        "UPDATE $id SET reason = $reason RETURN NONE;",
        {"id": RecordID("repairs_events", [session_id, seq]), "reason": reason},
    )


def test_a_clean_database_verifies(store: EventLog, tmp_path: Path) -> None:
    seed_sessions(store, tmp_path, sessions=3, repairs=4)
    result = verify_database(store)
    assert result.ok, result.breaks
    assert (result.sessions_checked, result.events_checked, result.views_checked) == (3, 12, 3)
    assert {sid: h.digest for sid, h in result.heads.items()} == {
        sid: h.digest for sid, h in store.heads().items()
    }


def test_a_tampered_event_is_named(store: EventLog, tmp_path: Path) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=3, repairs=4)
    victim = seeded[1].session_id
    tamper_event(store, victim, 2, "nothing to see here")
    assert [e.reason for e in store.events(victim)][1] == "nothing to see here"
    result = verify_database(store)
    assert not result.ok
    assert [(b.session_id, b.seq, b.problem) for b in result.breaks] == [
        (victim, 2, "digest_mismatch"),
        *DRIFT,
    ]


def test_the_integrity_job_records_an_append_only_report_and_is_loud(
    store: EventLog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=2, repairs=3)
    runner = JobRunner(mem_settings(tmp_path), lambda: shared_store(store), rng=random.Random(0))
    assert runner.run("integrity").outcome == "ok"
    tamper_event(store, seeded[0].session_id, 3, "edited")
    with caplog.at_level("ERROR", logger="riff.jobs"):
        run = runner.run("integrity")
    assert run.outcome == "problems" and "digest_mismatch" in run.summary
    assert any("INTEGRITY BREAK" in r.getMessage() for r in caplog.records)
    latest, first = integrity_reports(store)
    assert first["ok"] and first["events_checked"] == 6 and first["sessions_checked"] == 2
    assert not latest["ok"] and latest["break_count"] == 1 + len(DRIFT)
    assert latest["breaks"][0]["problem"] == "digest_mismatch"
    assert {h["session_id"] for h in latest["heads"]} == {s.session_id for s in seeded}
    for attack in ("UPDATE integrity_reports SET ok = true", "DELETE integrity_reports"):
        with pytest.raises(QueryFailed):
            store.recorder.conn.run(attack)
    assert len(integrity_reports(store)) == 2


def test_views_and_heads_that_do_not_match_the_log(store: EventLog, tmp_path: Path) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=3, repairs=2)
    JobRunner(mem_settings(tmp_path), lambda: shared_store(store)).run("stale-views")
    a, b = seeded[0].session_id, seeded[1].session_id
    view = store.get_view(a)
    assert view is not None
    store.put_view(view.evolve(materialization_digest="d" * 64))
    other = store.get_view(b)
    assert other is not None
    store.put_view(other.evolve(through_seq=9))
    result = verify_database(store)
    assert sorted((x.session_id, x.problem) for x in result.breaks) == sorted(
        [(a, "view_mismatch"), (b, "view_mismatch")]
    )
    assert verify_database(store, check_views=False).ok
    head = store.head(seeded[2].session_id)
    anchored = verify_database(
        store,
        check_views=False,
        expected_heads={
            seeded[2].session_id[:8]: head.digest,
            seeded[0].session_id: "e" * 64,
        },
    )
    assert [(x.session_id, x.problem) for x in anchored.breaks] == [(a, "head_mismatch")]


def test_riff_verify_all_and_jobs_once_exit_codes(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with open_event_store(settings) as store:
        seeded = seed_sessions(store, tmp_path, sessions=2, repairs=2)
    cli = CliRunner()
    base = ["--db", settings.resolved_db_url, "--data-dir", str(tmp_path)]
    ok = cli.invoke(app, [*base, "verify", "--all", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = orjson.loads(ok.stdout)
    assert doc["ok"] and doc["events_checked"] == 4 and doc["sessions_checked"] == 2
    with open_event_store(settings) as store:
        tamper_event(store, seeded[0].session_id, 1, "rewritten")
    bad = cli.invoke(app, [*base, "verify", "--all", "--json"])
    assert bad.exit_code == 1
    assert [b["problem"] for b in orjson.loads(bad.stdout)["breaks"]] == [
        "digest_mismatch",
        *(problem for _sid, _seq, problem in DRIFT),
    ]
    once = cli.invoke(app, [*base, "jobs", "once", "integrity", "--json"])
    assert once.exit_code == 1 and orjson.loads(once.stdout)["outcome"] == "problems"
    usage = cli.invoke(app, [*base, "verify", "--all", "--expect-head", "nonsense"])
    assert usage.exit_code == 2
    status = cli.invoke(app, [*base, "jobs", "status", "--json"])
    assert status.exit_code == 0
    rows = {r["job"]: r for r in orjson.loads(status.stdout)["jobs"]}
    assert rows["integrity"]["last_run"]["outcome"] == "problems"
    assert rows["archive"]["last_run"] is None
    assert cli.invoke(app, [*base, "jobs", "once", "nope"]).exit_code == 2
