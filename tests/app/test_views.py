"""`riff views validate` and `rebuild` through riff.app (real store, real files)."""

from __future__ import annotations

import random
from pathlib import Path

from riff.app.repairs import apply_plan, plan_repairs, session_file_for, source_file_of
from riff.app.sessions import load_session
from riff.app.views import rebuild_views, validate_views
from riff.app.workspace import Workspace
from riff.testing.synthetic import generate_session, inject
from tests.app.workspaces import workspace_with


def _workspace(tmp_path: Path) -> tuple[Workspace, Path]:
    session = generate_session(120, seed=5)
    inject(session, "orphan", 1, random.Random(2))
    return workspace_with(tmp_path, session.to_bytes(), f"{session.session_id}.jsonl")


def test_a_repaired_message_edited_outside_riff_is_drift(tmp_path: Path) -> None:
    """Once riff wrote a repair to the file, the file holds the repaired parent; a
    parent changed by hand afterwards is neither the base nor the repaired one."""
    ws, path = _workspace(tmp_path)
    with ws:
        state = load_session(ws, str(path))
        plan = plan_repairs(state, min_score=0.0)
        [item] = plan.items
        apply_plan(ws, plan, operator="alice", write=True)
        [clean] = validate_views(ws)
        assert not clean.drift_detected, clean.summary()
        data = path.read_bytes()
        assert data.count(f'"parentUuid":"{item.new_parent}"'.encode()) >= 1
        other = next(u for u in load_session(ws, str(path)).file_parents if u != item.message_id)
        line_start = data.index(f'"uuid":"{item.message_id}"'.encode())
        line_start = data.rindex(b"\n", 0, line_start) + 1
        line_end = data.index(b"\n", line_start)
        line = data[line_start:line_end].replace(
            f'"parentUuid":"{item.new_parent}"'.encode(), f'"parentUuid":"{other}"'.encode()
        )
        path.write_bytes(data[:line_start] + line + data[line_end:])
        [report] = validate_views(ws)
        assert report.drift_detected and report.file_changed
        assert report.file_parents_differ == [item.message_id]


def test_views_are_found_by_their_files_without_reading_their_maps(tmp_path: Path) -> None:
    ws, path = _workspace(tmp_path)
    with ws:
        state = load_session(ws, str(path))
        apply_plan(ws, plan_repairs(state, min_score=0.0), operator="alice")
        summary = ws.store.view_summary(state.session_id)
        assert summary is not None
        assert source_file_of(summary) == session_file_for(ws, state.session_id) == str(path)
        assert source_file_of(None) is None
        [view] = rebuild_views(ws)
        assert view.session_id == state.session_id and view.through_seq == 1
        moved = path.with_name("elsewhere.jsonl.bak")
        path.rename(moved)
        assert source_file_of(summary) is None  # the file is gone: resolve the session id
        assert session_file_for(ws, state.session_id) == state.session_id
