"""The repair plan made in one pass over the file, and the view stored once after the
append, leave exactly what the long ways leave (real store, real files).

`plan_session_repairs` plans a session none of whose line repairs applies
without holding its bytes (riff.app.repair_plan._plan_in_one_pass); `apply_plan`
stores the view once, advanced past the events it appended
(riff.app.viewstore.save_after_append) or rebuilt past them
(riff.app.viewstore.rebuild_after_append), instead of storing it, having the
append mark it stale and reading it back. Each is compared here with the long
way on the same sessions: the plan, the events, the written bytes and the
stored view.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from riff.app import repair_plan
from riff.app.repair_plan import apply_session_plan, plan_session_repairs
from riff.app.repairs import RepairPlan, apply_plan, plan_item, plan_repairs
from riff.app.sessions import current_view, load_session
from riff.app.viewstore import rebuild, rebuild_after_append, save_after_append
from riff.app.workspace import Workspace
from riff.events import EventDraft
from riff.testing.repair_kinds import REPAIR_BREAKS, inject_break
from riff.testing.synthetic import generate_session, inject
from tests.app.workspaces import workspace_with

_BREAKS = ("orphan", "cycle", "unexpected_root", "duplicate_uuid", "tool_use_without_result")


_VOLATILE = re.compile(
    r'"(event_id|timestamp|prev_digest|event_digest|head_digest|updated_at|source_mtime_ns|source_path)":'
    r' ?("[^"]*"|\d+)'
)


def _normal(value: Any) -> str:
    import json

    return _VOLATILE.sub(r'"\1": "-"', json.dumps(value, sort_keys=True, default=str))


def _stored(ws: Workspace, session_id: str) -> dict[str, Any]:
    recorder = ws.store.recorder
    return {
        "events": [dict(r) for r in recorder.events(session_id)],
        "view": recorder.get_view(session_id),
    }


def _run(root: Path, data: bytes, *, one_pass: bool, **kw: Any) -> dict[str, Any]:
    """Plan and apply one session's repairs (twice: the second plan sees the first's
    events and stored view); what each step produced, normalized."""
    ws, path = workspace_with(root, data)
    steps: list[Any] = []
    took_first: bool | None = None
    with pytest.MonkeyPatch.context() as patch, ws:
        if not one_pass:
            patch.setattr(repair_plan, "_plan_in_one_pass", lambda *a, **k: False)
        for write in (kw.get("write", True), True):
            state = load_session(ws, str(path))
            try:
                plan = plan_session_repairs(ws, state, **{**kw, "write": write})
            except Exception as exc:  # the same refusal either way
                steps.append(("raised", type(exc).__name__, str(exc).replace(str(root), "ROOT")))
                break
            took = plan._checked_in_one_pass
            steps.append(("plan", plan.to_json(), plan.problems))
            if plan.problems:
                plan.close()
                took_first = took_first if took_first is not None else took
                break
            result = apply_session_plan(ws, plan, operator="alice", write=write, force=False)
            steps.append(("applied", [e.to_dict() for e in result.events], bool(result.written)))
            took_first = took_first if took_first is not None else took
        stored = _stored(ws, state.session_id)
    return {
        "steps": _normal(steps),
        "store": _normal(stored),
        "file": path.read_bytes(),
        "took": bool(took_first),
    }


def _same(tmp_path: Path, data: bytes, **kw: Any) -> bool:
    """Both ways leave the same; whether the one pass was taken at first."""
    fast = _run(tmp_path / "fast", data, one_pass=True, **kw)
    slow = _run(tmp_path / "slow", data, one_pass=False, **kw)
    if not fast.pop("took"):
        return False  # the long way both times: the same code
    assert not slow.pop("took")
    assert fast["steps"] == slow["steps"]
    assert fast["store"] == slow["store"]
    assert fast["file"] == slow["file"]
    shutil.rmtree(tmp_path / "fast")
    shutil.rmtree(tmp_path / "slow")
    return True


@pytest.mark.parametrize("kind", _BREAKS)
@pytest.mark.parametrize(
    "kw",
    [
        {"min_score": 0.0},
        {"min_score": 0.0, "kinds": ("parent",)},
        {"min_score": 0.0, "kinds": ("parent",), "write": False},
        {"min_score": 0.9},
    ],
    ids=["all-kinds", "parent", "parent-no-write", "high-score"],
)
def test_generated_sessions_both_ways(tmp_path: Path, kind: str, kw: dict[str, Any]) -> None:
    session = generate_session(120, seed=len(kind) * 7)
    inject(session, kind, 2 if kind != "tool_use_without_result" else 1, random.Random(3))
    took = _same(tmp_path, session.to_bytes(), **kw)
    if kind in ("orphan", "unexpected_root") and kw.get("min_score") == 0.0:
        assert took


@pytest.mark.parametrize("kind", REPAIR_BREAKS)
def test_line_breaks_take_the_long_way(tmp_path: Path, kind: str) -> None:
    clean = generate_session(100, seed=11).to_bytes()
    broken = inject_break(kind, clean, random.Random(2))
    assert broken is not None
    assert not _same(tmp_path, broken.data, min_score=0.0)


def test_the_stored_view_is_the_one_a_rebuild_makes(tmp_path: Path) -> None:
    session = generate_session(150, seed=4)
    inject(session, "orphan", 2, random.Random(1))
    ws, path = workspace_with(tmp_path, session.to_bytes())
    with ws:
        for _ in range(2):
            state = load_session(ws, str(path))
            plan = plan_session_repairs(ws, state, min_score=0.0, kinds=("parent",), write=False)
            assert plan._checked_in_one_pass
            apply_session_plan(ws, plan, operator="alice")
        stored = ws.store.get_view(state.session_id)
        assert stored is not None
        fresh = load_session(ws, str(path))
        rebuilt = rebuild(ws.store, fresh.session_id, fresh.source_state(), save=False)
        assert stored.through_seq == rebuilt.through_seq == 2
        assert not stored.is_stale
        for name in ("parents", "base_parents", "timestamps", "head_digest", "source"):
            assert getattr(stored, name) == getattr(rebuilt, name), name
        assert stored.materialization_digest == rebuilt.materialization_digest


def test_a_view_rebuilt_after_an_append_holds_the_events_before_it(tmp_path: Path) -> None:
    """Once the file is written, its stored view is of another state of it: the next
    append rebuilds the view, past every event of the log, not only the new ones."""
    session = generate_session(150, seed=4)
    inject(session, "orphan", 2, random.Random(1))
    ws, path = workspace_with(tmp_path, session.to_bytes())
    with ws:
        state = load_session(ws, str(path))
        first, second, *_ = plan_repairs(state, min_score=0.0).items
        apply_plan(ws, RepairPlan(state, [first]), operator="alice", write=True)
        state = load_session(ws, str(path))
        assert current_view(ws, state) is None
        again = plan_item(state, second.message_id, second.new_parent)
        assert not again.problems
        apply_plan(ws, RepairPlan(state, [again]), operator="alice")
        stored = ws.store.get_view(state.session_id)
        fresh = load_session(ws, str(path))
        rebuilt = rebuild(ws.store, fresh.session_id, fresh.source_state(), save=False)
        assert stored is not None and stored.through_seq == rebuilt.through_seq == 2
        for name in ("parents", "base_parents", "head_digest", "materialization_digest"):
            assert getattr(stored, name) == getattr(rebuilt, name), name


@pytest.mark.parametrize("view_was_stored", [True, False], ids=["advanced", "rebuilt"])
def test_a_view_behind_the_log_is_brought_up_to_date_the_long_way(
    tmp_path: Path, view_was_stored: bool
) -> None:
    session = generate_session(80, seed=9)
    inject(session, "orphan", 1, random.Random(1))
    ws, path = workspace_with(tmp_path, session.to_bytes())
    with ws:
        state = load_session(ws, str(path))
        view = rebuild(ws.store, state.session_id, state.source_state(), save=view_was_stored)
        orphan = next(iter(state.pending_changes or state.file_parents))
        draft = EventDraft(orphan, state.file_parents[orphan], None, "alice", reason="first")
        first = ws.store.append(state.session_id, [draft])
        # Another writer appends before the view is saved: it is not current.
        ws.store.append(state.session_id, [EventDraft(orphan, None, None, "bob", reason="x")])
        if view_was_stored:
            saved = save_after_append(ws.store, view, first)
        else:
            saved = rebuild_after_append(ws.store, state.session_id, state.source_state(), first)
        assert saved is not None
        assert saved.through_seq == 2
        stored = ws.store.get_view(state.session_id)
        assert stored is not None and stored.through_seq == 2 and not stored.is_stale
        fresh = load_session(ws, str(path))
        rebuilt = rebuild(ws.store, fresh.session_id, fresh.source_state(), save=False)
        assert stored.parents == rebuilt.parents
        assert stored.materialization_digest == rebuilt.materialization_digest


def test_a_plan_all_refused_still_stores_the_view(tmp_path: Path) -> None:
    session = generate_session(80, seed=9)
    inject(session, "orphan", 1, random.Random(1))
    ws, path = workspace_with(tmp_path, session.to_bytes())
    with ws:
        state = load_session(ws, str(path))
        orphan = plan_repairs(state, min_score=0.0).items[0].message_id
        plan = RepairPlan(state, [plan_item(state, orphan, orphan)])  # its own parent: refused
        assert plan.items[0].problems
        result = apply_plan(ws, plan, operator="alice")
        assert not result.events and result.refused
        stored = ws.store.get_view(state.session_id)
        assert stored is not None  # as ensure_view stores it before appending
        assert stored.parents == state.parents and stored.through_seq == 0


def test_pending_changes_are_the_fold_against_the_file(tmp_path: Path) -> None:
    """Only messages an event names are compared with the file (the others keep its
    parent): the same map, in the same (file) order, as comparing every message; and
    a state made for other events shares what the file alone gave."""
    session = generate_session(150, seed=6)
    inject(session, "orphan", 3, random.Random(2))
    ws, path = workspace_with(tmp_path, session.to_bytes())
    with ws:
        state = load_session(ws, str(path))
        uuids = list(state.file_parents)
        rng = random.Random(4)
        drafts = [
            EventDraft(m, state.file_parents[m], rng.choice([None, *uuids]), "alice", reason="r")
            for m in rng.sample(uuids, 6)
        ]
        # One moved back to the file's parent by a later event: no longer pending.
        moved = drafts[0]
        drafts.append(
            EventDraft(
                moved.message_id,
                moved.new_parent_uuid,
                moved.old_parent_uuid,
                "alice",
                reason="back",
            )
        )
        events = ws.store.append(state.session_id, drafts)
        fresh = state.with_events(events)
        assert fresh.file_parents is state.file_parents
        parents, file_parents = fresh.replay.parents, fresh.file_parents
        every = {m: p for m, p in parents.items() if m in file_parents and file_parents[m] != p}
        assert list(fresh.pending_changes.items()) == list(every.items())
        assert moved.message_id not in fresh.pending_changes
        assert len(fresh.pending_changes) >= 4
