"""Snapshots of the main screens on fixed generated data (fixed size, fixed file dates)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from riff.settings import Settings
from riff.tui.app import RiffApp

from .conftest import ORPHANED, SIZE, settle


def test_session_list(snap_compare: Any, settings: Settings) -> None:
    assert snap_compare(RiffApp(settings), terminal_size=SIZE, run_before=settle)


def test_session_view(snap_compare: Any, settings: Settings) -> None:
    assert snap_compare(RiffApp(settings, session=ORPHANED), terminal_size=SIZE, run_before=settle)


def test_candidate_panel(snap_compare: Any, settings: Settings) -> None:
    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()

    app = RiffApp(settings, session=ORPHANED)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_help(snap_compare: Any, settings: Settings) -> None:
    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    app = RiffApp(settings, session=ORPHANED)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)
