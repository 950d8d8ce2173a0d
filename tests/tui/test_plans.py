"""The session screen's whole-session plan: line repairs beside re-links, applied as one
plan, then undone kind by kind until the file is byte for byte what it was."""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot

from riff.events.line_edit import split_segments
from riff.settings import Settings
from riff.testing.synthetic import GroundTruth, generate_session, inject, write_generated_session
from riff.tui.app import RiffApp
from riff.tui.screens.modals import PlanScreen
from riff.tui.screens.session import SessionScreen

from .conftest import FIXED_MTIME, drive, press_until, wait_until

MIXED = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Settings, Path, GroundTruth]:
    session = generate_session(140, seed=11, session_id=MIXED, cwd="/home/dev/projects/shop")
    rng = random.Random(11)
    truths = [
        t
        for kind in ("orphan", "tool_use_without_result", "truncated_line")
        for t in inject(session, kind, 1, rng)
    ]
    root = tmp_path / "projects"
    path = write_generated_session(root / session.project_slug / f"{MIXED}.jsonl", session)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    settings = Settings(
        db_url="mem://", data_dir=tmp_path / "data", projects_dir=root, operator="alice"
    )
    orphan = next(t for t in truths if t.kind == "orphan")
    return settings, path, orphan


def _parent_on_disk(path: Path, uuid: str) -> object:
    for segment in split_segments(path.read_bytes()):
        row = orjson.loads(segment)
        if row.get("uuid") == uuid:
            return row.get("parentUuid")
    raise AssertionError(f"{uuid} not in {path}")


def test_plan_apply_and_undo_every_kind(mixed: tuple[Settings, Path, GroundTruth]) -> None:
    settings, path, orphan = mixed
    original = path.read_bytes()
    app = RiffApp(settings, session=MIXED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)

        def plan_shown() -> bool:
            return isinstance(app.screen, PlanScreen) and app.screen.is_mounted

        await press_until(pilot, "p", until=plan_shown, what="the plan dialog")
        assert isinstance(app.screen, PlanScreen)
        rows = "\n".join(app.screen.rows)
        assert "quarantine_line" in rows and "insert_tool_result" in rows
        assert "(tool pairing)" in rows  # the move under the inserted result, shown
        assert f"re-link {orphan.message_id[:8]}" in rows  # type: ignore[index]
        assert path.read_bytes() == original  # nothing before the yes

        def applied() -> bool:
            kinds = {e.kind for e in app.ws.store.events(MIXED)}
            return app.screen is screen and {"quarantine_line", "repair"} <= kinds

        await press_until(pilot, "y", until=applied, what="the plan applied")
        await wait_until(
            pilot,
            lambda: screen.state is not None and screen.state.file.path == path,
            "the session read again",
        )
        for segment in split_segments(path.read_bytes()):
            orjson.loads(segment)  # every line reads as JSON
        assert orphan.message_id is not None
        assert _parent_on_disk(path, orphan.message_id) == orphan.true_parent
        events = list(app.ws.store.events(MIXED))
        # Structure, then the re-link, then tool pairing on the re-linked file, then the
        # row after the call moved under the inserted result (a re-link, after the edit).
        assert [e.kind for e in events] == [
            "quarantine_line",
            "repair",
            "insert_tool_result",
            "repair",
        ]
        assert events[-1].new_parent_uuid == events[2].message_id
        assert screen.state is not None and screen.state.pending_changes == {}

        # Undo, newest first, until no repair of any kind is in effect.
        for step in range(len(events)):
            count = len(list(app.ws.store.events(MIXED)))

            def undone(count: int = count) -> bool:
                return len(list(app.ws.store.events(MIXED))) == count + 1

            await press_until(pilot, "u", until=undone, what=f"undo {step + 1}")
        assert screen.state is not None and screen.state.pending_changes == {}
        assert app.ws.store.reverted_ids(MIXED) == {e.event_id for e in events}

    drive(app, script)
    assert path.read_bytes() == original  # byte for byte
