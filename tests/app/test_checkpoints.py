"""The transparency log through the real engine: log indexes, checkpoints, proofs,
migration of older stores, and what a damaged or rolled-back store looks like."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from riff.app import checkpoints, log_audit, proofs, tlog_migration
from riff.app.errors import ProblemsFound
from riff.app.workspace import Workspace
from riff.errors import RiffError
from riff.events import seal_events
from riff.events.chain import ChainHead
from riff.settings import Settings
from riff.store import Connection, QueryFailed, migrate
from riff.store.migrations import migrations
from riff.store.rows import event_to_body
from riff.tlog import MemoryTree, event_leaf_hash
from riff.tlog.proof_file import verify_inclusion_proof
from tests.store.helpers import chain_drafts


def mem_ws(tmp_path: Path) -> Workspace:
    return Workspace(Settings(db_url="mem://", data_dir=tmp_path))


def kv_ws(tmp_path: Path) -> Workspace:
    return Workspace(Settings(db_url=f"surrealkv://{tmp_path / 'store'}", data_dir=tmp_path))


def fill(ws: Workspace, sessions: int = 3, per: int = 4) -> None:
    for s in range(sessions):
        ws.store.append(f"sess-{s}", chain_drafts(per))
    for s in range(sessions):
        ws.store.append(f"sess-{s}", chain_drafts(2, offset=per))


def leaf_rows(ws: Workspace) -> list[tuple[int, str]]:
    return [(leaf.log_index, leaf.event_id) for leaf in ws.store.recorder.tlog.leaves()]


def test_every_event_gets_the_next_global_index(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        rows = leaf_rows(ws)
        assert [i for i, _ in rows] == list(range(18))
        appended = [e.event_id for s in range(3) for e in ws.store.events(f"sess-{s}")]
        assert sorted(eid for _, eid in rows) == sorted(appended)
        # Appends are numbered in the order they happened, across sessions.
        assert [eid for _, eid in rows][:4] == [e.event_id for e in ws.store.events("sess-0")][:4]
        assert ws.store.recorder.tlog.state().size == 18


def test_stored_subtrees_give_every_tree_head(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        by_index = {leaf.log_index: leaf.event_id for leaf in ws.store.recorder.tlog.leaves()}
        events = {e.event_id: e for s in range(3) for e in ws.store.events(f"sess-{s}")}
        tree = MemoryTree(
            event_leaf_hash(events[by_index[i]].digest_payload()) for i in range(len(by_index))
        )
        for size in range(19):
            assert checkpoints.tree_root(ws.store.recorder, size) == tree.root(size)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tlog_leaves:3 SET nodes = ['00']",
        "DELETE tlog_leaves:3",
        "UPDATE tlog_state:current SET size = 5",
        "UPDATE tlog_state:current SET size = 40",
        "DELETE tlog_state:current",
        "CREATE tlog_leaves:40 SET log_index = 40, session_id = 'sess-0', seq = 1, "
        "event_id = 'x', nodes = ['00']",
    ],
)
def test_the_schema_refuses_edits_gaps_and_rollbacks(tmp_path: Path, statement: str) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        with pytest.raises(QueryFailed):
            ws.store.recorder.conn.run(statement)
        for edit in ("UPDATE checkpoints:18 SET root = $r", "DELETE checkpoints:18"):
            with pytest.raises(QueryFailed):
                ws.store.recorder.conn.run(edit, {"r": "0" * 64})


def test_checkpoint_is_recorded_written_and_idempotent(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        first = checkpoints.create_checkpoint(ws)
        assert first.created and first.checkpoint.size == 18
        assert first.path == tmp_path / "checkpoints" / "18.note"
        assert first.path.read_text() == first.note
        assert ws.store.recorder.tlog.checkpoint(18) is not None
        again = checkpoints.create_checkpoint(ws)
        assert not again.created and again.note == first.note
        key = tmp_path / "signing.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        status = checkpoints.newest_checkpoint(ws)
        assert status is not None and status.ok and status.signature_ok
        assert status.to_dict()["size"] == 18


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws, 1, 1)
        checkpoints.create_checkpoint(ws)
        (tmp_path / "signing.key").chmod(0o644)
        with pytest.raises(RiffError, match="chmod 600"):
            checkpoints.create_checkpoint(ws)


def test_the_key_may_come_from_the_environment(tmp_path: Path) -> None:
    from riff.tlog import NoteSigner

    signer = NoteSigner.generate("auditors-key")
    settings = Settings(db_url="mem://", data_dir=tmp_path, signing_key=signer.skey)
    with Workspace(settings) as ws:
        fill(ws, 1, 2)
        made = checkpoints.create_checkpoint(ws)
        assert "— auditors-key " in made.note
        assert not (tmp_path / "signing.key").exists()


def test_inclusion_proof_verifies_offline_and_names_the_event(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        event = list(ws.store.events("sess-2"))[1]
        proof = proofs.inclusion_proof(ws, event.event_id)
        verifier = checkpoints.local_verifiers(ws.settings)
        verified = verify_inclusion_proof(proof.render(), verifier)
        assert verified.event == event.to_dict()
        assert verified.checkpoint.size == 18
        # An event newer than every checkpoint gets a new checkpoint first.
        ws.store.append("sess-9", chain_drafts(1))
        newest = next(ws.store.events("sess-9"))
        proof = proofs.inclusion_proof(ws, newest.event_id)
        assert proof.index == 18
        assert verify_inclusion_proof(proof.render(), verifier).checkpoint.size == 19


def test_consistency_proof_between_checkpoints(tmp_path: Path) -> None:
    from riff.tlog.proof_file import verify_consistency_proof

    with mem_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        ws.store.append("sess-9", chain_drafts(5))
        checkpoints.create_checkpoint(ws)
        proof = proofs.consistency_proof(ws, "18", None)
        checked = verify_consistency_proof(proof.render(), checkpoints.local_verifiers(ws.settings))
        assert (checked.old.size, checked.new.size) == (18, 23)


def test_verify_log_of_an_intact_store(tmp_path: Path) -> None:
    with mem_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        ws.store.append("sess-9", chain_drafts(3))
        checkpoints.create_checkpoint(ws)
        result = log_audit.verify_log(ws)
        assert result.ok, result.to_dict()
        assert result.leaves_checked == result.events_in_store == 21
        assert {(c.size, c.source) for c in result.checkpoints} == {
            (18, "disk"),
            (18, "database"),
            (21, "disk"),
            (21, "database"),
        }


# ------------------------------------------------------------ the attacks


def _open_guards(ws: Workspace) -> None:
    """What root can do with DDL: remove the THROW events that keep rows append-only."""
    ws.store.recorder.conn.run(
        "REMOVE EVENT repairs_no_mut ON repairs_events; "
        "REMOVE EVENT tlog_leaves_no_mut ON tlog_leaves; "
        "REMOVE EVENT checkpoints_no_mut ON checkpoints; "
        "REMOVE EVENT session_head_no_delete ON session_head;"
    )


def test_deleting_an_event_as_root_is_found(tmp_path: Path) -> None:
    with kv_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        _open_guards(ws)
        ws.store.recorder.conn.run("DELETE repairs_events:['sess-1', 2]")
        result = log_audit.verify_log(ws)
        assert not result.ok
        assert any(
            "missing from the database" in p and "sess-1 seq 2" in p for p in result.problems
        )


def test_a_consistent_rewrite_of_the_tail_is_found(tmp_path: Path) -> None:
    """Root cuts the last events, their leaves and the tree size: everything inside the
    database agrees again; only the checkpoint outside it remembers."""
    with kv_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        _open_guards(ws)
        ws.store.recorder.conn.run(
            "DEFINE FIELD OVERWRITE size ON tlog_state TYPE int; "
            "DELETE tlog_leaves WHERE log_index >= 15; "
            "DELETE repairs_events WHERE session_id = 'sess-2' AND seq >= 5; "
            "DELETE repairs_events WHERE session_id = 'sess-1' AND seq >= 6; "
            "DELETE checkpoints; "
            "UPDATE tlog_state:current SET size = 15;"
        )
        result = log_audit.verify_log(ws)
        assert not result.ok
        failed = [c for c in result.checkpoints if not c.ok]
        assert failed and "events 15..17 are missing" in (failed[0].problem or "")
        assert any("on disk but not in the database" in p for p in result.problems)
        with pytest.raises(ProblemsFound, match="events were lost"):
            checkpoints.create_checkpoint(ws)


def test_a_restored_old_copy_of_the_store_is_found(tmp_path: Path) -> None:
    settings = Settings(db_url=f"surrealkv://{tmp_path / 'store'}", data_dir=tmp_path)
    with Workspace(settings) as ws:
        fill(ws)
    shutil.copytree(tmp_path / "store", tmp_path / "backup")
    with Workspace(settings) as ws:
        ws.store.append("sess-9", chain_drafts(4))
        checkpoints.create_checkpoint(ws)
    shutil.rmtree(tmp_path / "store")
    shutil.copytree(tmp_path / "backup", tmp_path / "store")
    with Workspace(settings) as ws:
        result = log_audit.verify_log(ws)
        assert not result.ok
        problems = [c.problem for c in result.checkpoints if not c.ok] + result.problems
        assert any("covers 22 events" in (p or "") and "18..21" in (p or "") for p in problems)


def test_a_dropped_table_is_found(tmp_path: Path) -> None:
    with kv_ws(tmp_path) as ws:
        fill(ws)
        checkpoints.create_checkpoint(ws)
        ws.store.recorder.conn.run("REMOVE TABLE repairs_events")
        result = log_audit.verify_log(ws)
        assert not result.ok
        assert any("missing from the database" in p for p in result.problems)


def test_a_dropped_leaf_table_is_found_even_without_a_checkpoint(tmp_path: Path) -> None:
    with kv_ws(tmp_path) as ws:
        fill(ws)
        ws.store.recorder.conn.run("REMOVE TABLE tlog_leaves")
        result = log_audit.verify_log(ws)
        assert not result.ok
        assert any("only 0 are stored" in p for p in result.problems)


def test_an_auditors_note_from_another_log_or_key_is_refused(tmp_path: Path) -> None:
    with mem_ws(tmp_path / "a") as other:
        fill(other, 1, 2)
        foreign = checkpoints.create_checkpoint(other).note
    with mem_ws(tmp_path / "b") as ws:
        fill(ws, 1, 2)
        checkpoints.create_checkpoint(ws)
        result = log_audit.verify_log(ws, extra_notes=[("auditor.note", foreign)])
        assert not result.ok
        bad = [c for c in result.checkpoints if c.source == "given"]
        assert bad and not bad[0].ok


# ------------------------------------------------------------ older stores


def _legacy_store(url: str) -> Connection:
    """A store at schema 2 (before the log) holding events, written the old way."""
    conn = Connection(url)
    conn.use("riff", "riff")
    for migration in migrations():
        if migration.version > 2:
            break
        conn.run(
            "BEGIN TRANSACTION;\n"
            + migration.sql
            + "\nUPSERT riff_meta:schema SET version = $v, updated_at = 'then';"
            + "\nCOMMIT TRANSACTION;",
            {"v": migration.version},
        )
    for s, count in ((2, 3), (0, 4), (1, 2), (0, 2)):
        sid = f"sess-{s}"
        row = conn.one("SELECT seq, digest FROM ONLY type::thing('session_head', $s)", {"s": sid})
        head = ChainHead(sid, row["seq"], row["digest"]) if row else ChainHead(sid)
        events = seal_events(head, chain_drafts(count, offset=head.seq))
        conn.run(
            "BEGIN TRANSACTION;"
            "INSERT IGNORE INTO session { id: type::thing('session', $sid), session_id: $sid };"
            "INSERT IGNORE INTO message $messages.map(|$m| {"
            " id: type::thing('message', $m), session_id: $m[0], message_id: $m[1] });"
            "INSERT RELATION INTO repairs_events (SELECT *,"
            " type::thing('repairs_events', [session_id, seq]) AS id,"
            " type::thing('session', session_id) AS in,"
            " type::thing('message', [session_id, message_id]) AS out FROM $rows);"
            "UPSERT type::thing('session_head', $sid) SET session_id = $sid, seq = $seq,"
            " digest = $digest;"
            "COMMIT TRANSACTION;",
            {
                "sid": sid,
                "messages": [[sid, e.message_id] for e in events],
                "rows": [event_to_body(e.to_dict()) for e in events],
                "seq": events[-1].seq,
                "digest": events[-1].event_digest,
            },
        )
    return conn


def test_migrating_an_older_store_indexes_its_events_deterministically(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'store'}"
    conn = _legacy_store(url)
    assert migrate(conn) == [m.version for m in migrations() if m.version > 2]
    conn.close()
    settings = Settings(db_url=url, data_dir=tmp_path)
    with Workspace(settings) as ws:
        assert ws.store.recorder.tlog.state().backfill_pending
        with pytest.raises(RiffError, match="riff db migrate"):
            ws.store.append("sess-5", chain_drafts(1))
        expected = [e.event_id for e in tlog_migration.backfill_order(ws.store.recorder)]
        assert tlog_migration.finish_migration(ws.store.recorder) == 11
        assert tlog_migration.finish_migration(ws.store.recorder) == 0
        assert [eid for _, eid in leaf_rows(ws)] == expected
        # Each session keeps its order; sessions are merged by timestamp.
        events = {e.event_id: e for e in tlog_migration.backfill_order(ws.store.recorder)}
        stamps = [events[eid].timestamp for eid in expected]
        assert stamps == sorted(stamps)
        ws.store.append("sess-5", chain_drafts(1))
        assert ws.store.recorder.tlog.state().size == 12
        checkpoints.create_checkpoint(ws)
        assert log_audit.verify_log(ws).ok
