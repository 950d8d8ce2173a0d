"""Snapshots of the main screens on fixed generated data (fixed size, fixed file dates)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from riff.settings import Settings
from riff.tui.app import RiffApp
from riff.tui.screens.modals import HelpScreen
from riff.tui.screens.session import SessionScreen
from riff.tui.widgets.panels import CandidatePanel

from .conftest import ORPHANED, SIZE, press_until, settle


def test_session_list(snap_compare: Any, settings: Settings) -> None:
    # settle waits until the scanned sessions are the table's rows (and so its widths).
    assert snap_compare(RiffApp(settings), terminal_size=SIZE, run_before=settle)


def test_session_view(snap_compare: Any, settings: Settings) -> None:
    assert snap_compare(RiffApp(settings, session=ORPHANED), terminal_size=SIZE, run_before=settle)


def test_candidate_panel(snap_compare: Any, settings: Settings) -> None:
    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SessionScreen)
        panel = screen.query_one(CandidatePanel)
        await press_until(
            pilot, "r", until=lambda: panel.has_focus and bool(panel.candidates), what="candidates"
        )

    app = RiffApp(settings, session=ORPHANED)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_help(snap_compare: Any, settings: Settings) -> None:
    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)

        def helping() -> bool:
            screen = pilot.app.screen
            return isinstance(screen, HelpScreen) and screen.is_mounted

        await press_until(pilot, "question_mark", until=helping, what="the help")

    app = RiffApp(settings, session=ORPHANED)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)
