"""Exports carry the newest checkpoint and each event's log index; `riff verify EXPORT
--checkpoint NOTE` checks that the export's events build the signed tree."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riff.app.checkpoints import create_checkpoint, local_verifiers
from riff.app.export_tree import verify_export_tree
from riff.app.logs import export_log
from riff.app.workspace import Workspace
from riff.events.audit import verify_export
from riff.settings import Settings
from tests.store.helpers import chain_drafts


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(Settings(db_url="mem://", data_dir=tmp_path / "data"))
    for s in range(3):
        workspace.store.append(f"sess-{s}", chain_drafts(3))
    workspace.store.append("sess-0", chain_drafts(2, offset=3))
    return workspace


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_an_export_builds_the_tree_its_checkpoint_signed(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    made = create_checkpoint(ws)
    path = tmp_path / f"log.{fmt}"
    export_log(ws, path, session=None, fmt=fmt)  # type: ignore[arg-type]
    assert verify_export(path).ok  # the chains' verifier accepts the new section
    check = verify_export_tree(path, [], local_verifiers(ws.settings))
    assert check.ok and [c["size"] for c in check.checked] == [made.checkpoint.size]
    auditor = [("auditor.note", made.note)]
    assert verify_export_tree(path, auditor, local_verifiers(ws.settings)).ok
    # A later checkpoint covers events this export does not hold.
    ws.store.append("sess-9", chain_drafts(1))
    later = create_checkpoint(ws)
    late = verify_export_tree(path, [("later.note", later.note)], local_verifiers(ws.settings))
    assert not late.ok and "covers 12 events" in late.problems[0]


def test_moved_indexes_or_a_changed_event_fail(ws: Workspace, tmp_path: Path) -> None:
    create_checkpoint(ws)
    path = tmp_path / "log.json"
    export_log(ws, path, session=None, fmt="json")
    doc = orjson.loads(path.read_bytes())
    verifiers = local_verifiers(ws.settings)

    swapped = dict(doc)
    indexes = list(doc["transparency_log"]["log_indexes"])
    indexes[0], indexes[1] = indexes[1], indexes[0]
    swapped["transparency_log"] = {**doc["transparency_log"], "log_indexes": indexes}
    bad = tmp_path / "swapped.json"
    bad.write_bytes(orjson.dumps(swapped))
    assert not verify_export_tree(bad, [], verifiers).ok

    changed = dict(doc)
    changed["events"] = [dict(e) for e in doc["events"]]
    changed["events"][2]["reason"] = "edited"
    bad = tmp_path / "changed.json"
    bad.write_bytes(orjson.dumps(changed))
    result = verify_export_tree(bad, [], verifiers)
    assert not result.ok and "do not build the tree" in result.problems[0]


def test_an_export_before_any_checkpoint_says_so(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    export_log(ws, path, session=None, fmt="jsonl")
    check = verify_export_tree(path, [], [])
    assert check.ok and "carries no checkpoint" in check.remarks[0]
