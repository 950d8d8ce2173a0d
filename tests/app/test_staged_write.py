"""The rewrite staged in another process leaves exactly what the direct write leaves, and
nothing behind when it is not used (riff.app.staged_write)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from riff.app import repairs
from riff.app.repairs import apply_plan, plan_repairs, write_repaired_session
from riff.app.sessions import load_session
from riff.app.staged_write import StagedWrite
from riff.app.workspace import Workspace
from riff.testing.synthetic import generate_session, inject
from riff.transcript.write import replace_parents_in_bytes
from tests.app.workspaces import workspace_with


def _session(root: Path, seed: int) -> tuple[Workspace, Path]:
    session = generate_session(200, seed=seed)
    inject(session, "orphan", 3, random.Random(seed))
    return workspace_with(root, session.to_bytes(), project="-p")


def _leftovers(path: Path) -> list[Path]:
    return sorted(path.parent.glob(".*.riff-tmp"))


def _apply(root: Path, *, staged: bool) -> tuple[bytes, list[tuple[str, str | None]]]:
    ws, path = _session(root, 3)
    with ws, pytest.MonkeyPatch.context() as patch:
        started: list[StagedWrite | None] = []
        start = StagedWrite.start

        def spy(*args: object, **kw: object) -> StagedWrite | None:
            made = start(*args, **kw) if staged else None  # type: ignore[arg-type]
            started.append(made)
            return made

        patch.setattr(repairs.StagedWrite, "start", spy)
        state = load_session(ws, str(path))
        plan = plan_repairs(state, min_score=0.0)
        assert plan.items
        result = apply_plan(ws, plan, operator="alice", write=True)
        assert result.written is not None
        assert (started[0] is not None) is staged
    assert _leftovers(path) == []
    return path.read_bytes(), [(e.message_id, e.new_parent_uuid) for e in result.events]


def test_a_staged_write_leaves_what_the_direct_write_leaves(tmp_path: Path) -> None:
    assert _apply(tmp_path / "staged", staged=True) == _apply(tmp_path / "direct", staged=False)


def test_a_stage_of_other_changes_is_not_used_and_is_removed(tmp_path: Path) -> None:
    ws, path = _session(tmp_path, 5)
    with ws:
        state = load_session(ws, str(path))
        plan = plan_repairs(state, min_score=0.0)
        item = plan.items[0]
        other = {item.message_id: None}  # not what the log will say
        staged = StagedWrite.start(path, other, state.transcript.lines_of(other))
        assert staged is not None
        assert staged.take({item.message_id: item.new_parent}) is None
        apply_plan(ws, plan, operator="alice")  # recorded, not written
        fresh = load_session(ws, str(path))
        want, _ = replace_parents_in_bytes(path.read_bytes(), fresh.pending_changes)
        written = write_repaired_session(fresh, staged=staged)
        assert written is not None and written.lines_changed == len(fresh.pending_changes)
        staged.discard()
        assert _leftovers(path) == []
        assert path.read_bytes() == want


def test_a_child_stopped_early_leaves_nothing(tmp_path: Path) -> None:
    ws, path = _session(tmp_path, 7)
    with ws:
        state = load_session(ws, str(path))
        item = plan_repairs(state, min_score=0.0).items[0]
        changes = {item.message_id: item.new_parent}
        before = path.read_bytes()
        staged = StagedWrite.start(path, changes, state.transcript.lines_of(changes))
        assert staged is not None
        staged.discard()  # killed, or already done: its file goes either way
        assert _leftovers(path) == []
        assert path.read_bytes() == before
        assert staged.take(changes) is None  # discarded: never taken afterwards


def test_a_name_with_pattern_characters_removes_only_its_own_leftovers(tmp_path: Path) -> None:
    """The cleanup of a child that said nothing globs for the transcript's own temp
    files: a `?` or `[` in its name is matched literally, so another transcript's
    temp file of this process stays."""
    path = tmp_path / "s?[1].jsonl"
    path.write_bytes(b"{}\n")
    pid = os.getpid()
    own = tmp_path / f".s?[1].jsonl.{pid}.abc.riff-tmp"
    other = tmp_path / f".sX1.jsonl.{pid}.abc.riff-tmp"
    own.write_bytes(b"mine")
    other.write_bytes(b"not mine")
    failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"], stdout=subprocess.PIPE)
    StagedWrite(failed, path, {}).discard()
    assert not own.exists()
    assert other.read_bytes() == b"not mine"
