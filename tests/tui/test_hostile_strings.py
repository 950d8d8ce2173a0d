"""User strings in the TUI are text, never markup (issue 13): project, operator, reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.pilot import Pilot

from riff.settings import Settings
from riff.tui.app import RiffApp
from riff.tui.screens.session import SessionScreen
from riff.tui.screens.session_list import SessionListScreen
from riff.tui.widgets.panels import CandidatePanel, LogPanel

from .conftest import ORPHANED, Projects, drive, settle

HOSTILE = "[/x][bold \x1b[31m"


def test_hostile_project_and_operator_render_as_text(
    settings: Settings, projects: Projects
) -> None:
    path = projects.paths[ORPHANED]
    hostile_dir = projects.root / "[bold]\x1b[31m-project"  # no "/" in a file name
    hostile_dir.mkdir()
    moved = hostile_dir / path.name
    path.rename(moved)
    app = RiffApp(dataclasses.replace(settings, operator=HOSTILE))

    async def script(pilot: Pilot[None]) -> None:
        assert isinstance(app.screen, SessionListScreen)
        app.screen.query_one("#sessions").focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press("r")
        await pilot.pause()
        screen.query_one(CandidatePanel).focus()
        await pilot.press("enter")
        await settle(pilot)
        [event] = screen.query_one(LogPanel).events
        assert event.operator == HOSTILE
        app.notify(f"{HOSTILE} as a notification")
        await pilot.pause()

    drive(app, script)
    assert Path(moved).exists()
