"""The one repair pipeline of riff.app, as the CLI, the TUI and the jobs use it (real store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from riff.app import repairs
from riff.app.demo import build_demo_projects, database_refusals
from riff.app.errors import AppError
from riff.app.repairs import RepairPlan, apply_plan, plan_item, plan_repairs, write_and_reload
from riff.app.sessions import SessionState, load_session
from riff.app.workspace import Workspace
from riff.maps import Overlay
from riff.settings import Settings
from riff.transcript.suggest import Candidate
from tests.app.workspaces import workspace_with


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    projects = tmp_path / "projects"
    build_demo_projects(projects, seed=7)
    settings = Settings(
        db_url="mem://",
        data_dir=tmp_path / "data",
        projects_dir=projects,
        operator="alice",
        live_quiet_seconds=0,  # the files were written a moment ago, by this test
    )
    with Workspace(settings) as workspace:
        yield workspace


def _orphaned_state(ws: Workspace) -> SessionState:
    for file in ws.sessions():
        state = load_session(ws, file)
        if plan_repairs(state, min_score=0.0).items:
            return state
    raise AssertionError("the demo projects have an orphan")


def test_forcing_needs_a_reason_in_the_service_itself(ws: Workspace) -> None:
    state = _orphaned_state(ws)
    plan = plan_repairs(state, min_score=0.0)
    with pytest.raises(AppError, match="--reason"):
        apply_plan(ws, plan, operator="alice", force=True, reason="  ")
    assert list(ws.store.events(state.session_id)) == []


def test_one_plan_item_for_planned_and_chosen_repairs(ws: Workspace) -> None:
    state = _orphaned_state(ws)
    [planned, *_] = plan_repairs(state, min_score=0.0).items
    chosen = plan_item(state, planned.message_id, planned.new_parent)
    assert (chosen.old_parent, chosen.new_parent, chosen.problems) == (
        planned.old_parent,
        planned.new_parent,
        planned.problems,
    )
    assert planned.reason.startswith("riff suggestion (score ")
    own_parent = plan_item(state, planned.message_id, planned.message_id)
    assert own_parent.problems  # validation runs in the one builder


def test_write_and_reload_leaves_nothing_pending_and_a_fresh_view(ws: Workspace) -> None:
    state = _orphaned_state(ws)
    result = apply_plan(ws, plan_repairs(state, min_score=0.0), operator="alice")
    assert result.events
    state = load_session(ws, state.file)
    assert state.pending_changes
    written, fresh = write_and_reload(ws, state, backup=False)
    assert written is not None
    assert fresh.pending_changes == {}
    view = ws.store.get_view(fresh.session_id)
    assert view is not None and view.source is not None
    assert view.source.sha256 == fresh.transcript.fingerprint.sha256


def test_the_database_refuses_raw_rewrites(ws: Workspace) -> None:
    state = _orphaned_state(ws)
    apply_plan(ws, plan_repairs(state, min_score=0.0), operator="alice")
    before = list(ws.store.events(state.session_id))
    refusals = database_refusals(ws)
    assert [r.statement.split()[0] for r in refusals] == ["UPDATE", "DELETE"]
    assert all(r.refused for r in refusals), refusals
    assert list(ws.store.events(state.session_id)) == before


@pytest.mark.parametrize("after_a_repair", [False, True])
def test_each_planned_repair_is_checked_against_the_ones_planned_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_a_repair: bool
) -> None:
    """Two orphans whose best parents are each in the other's branch: taken alone each
    re-link is fine, but the second one, checked after the first, would close a cycle.
    Also in a session whose parents a recorded repair already moved."""
    u = {
        name: f"0b1c2d3e-0000-4000-8000-{n:012d}"
        for n, name in enumerate(["r", "x", "x1", "y", "y1", "z"])
    }
    rows = [
        {"type": "user", "uuid": u["r"], "parentUuid": None},
        {"type": "user", "uuid": u["x"], "parentUuid": "9e0e0000-0000-4000-8000-000000000001"},
        {"type": "assistant", "uuid": u["x1"], "parentUuid": u["x"]},
        {"type": "user", "uuid": u["y"], "parentUuid": "9e0e0000-0000-4000-8000-000000000002"},
        {"type": "assistant", "uuid": u["y1"], "parentUuid": u["y"]},
        {"type": "user", "uuid": u["z"], "parentUuid": "9e0e0000-0000-4000-8000-000000000003"},
    ]
    stamp = "2026-01-01T00:00:0{}.000Z"
    ws, session = workspace_with(
        tmp_path,
        b"".join(
            orjson.dumps({**row, "sessionId": "s", "timestamp": stamp.format(i)}) + b"\n"
            for i, row in enumerate(rows)
        ),
        "0b1c2d3e-0000-4000-8000-000000000001.jsonl",
    )
    best = {u["x"]: Candidate(u["y1"], 0.9), u["y"]: Candidate(u["x1"], 0.9)}
    monkeypatch.setattr(
        repairs,
        "orphan_candidates",
        lambda state, k=3: [(u[m], line, [best[u[m]]]) for m, line in (("x", 2), ("y", 4))],
    )
    with ws:
        if after_a_repair:
            state = load_session(ws, session)
            apply_plan(ws, RepairPlan(state, [plan_item(state, u["z"], u["r"])]), operator="alice")
        state = load_session(ws, session)
        assert isinstance(state.parents, Overlay) is after_a_repair
        first, second = plan_repairs(state, min_score=0.5).items
    assert (first.message_id, first.problems) == (u["x"], [])
    assert second.message_id == u["y"] and any("cycle" in p for p in second.problems)
