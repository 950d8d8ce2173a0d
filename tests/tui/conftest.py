"""Generated projects dirs and a real embedded store (mem://) for the TUI tests."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from riff.settings import Settings
from riff.testing.synthetic import GroundTruth, generate_session, inject, write_generated_session
from riff.tui.app import RiffApp
from riff.tui.screens.session import SessionScreen
from riff.tui.screens.session_list import SessionListScreen
from riff.tui.widgets.conversation import ConversationTree
from riff.tui.widgets.table import FittedTable
from tests.waiting import HANG_LIMIT

FIXED_MTIME = 1_757_000_000  # 2025-09-04: dates on screen never depend on "now"
ORPHANED = "11111111-1111-4111-8111-111111111111"
HEALTHY = "22222222-2222-4222-8222-222222222222"
WRECKED = "33333333-3333-4333-8333-333333333333"
SIZE = (140, 40)


@dataclass
class Projects:
    root: Path
    orphan: GroundTruth
    paths: dict[str, Path]


def _write(
    root: Path, sid: str, n: int, seed: int, kinds: list[str]
) -> tuple[Path, list[GroundTruth]]:
    session = generate_session(n, seed=seed, session_id=sid, cwd="/home/dev/projects/shop")
    rng = random.Random(seed)
    truths = [t for kind in kinds for t in inject(session, kind, 1, rng)]
    path = write_generated_session(root / session.project_slug / f"{sid}.jsonl", session)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return path, truths


@pytest.fixture
def projects(tmp_path: Path) -> Projects:
    root = tmp_path / "projects"
    orphan_path, truths = _write(root, ORPHANED, 120, 7, ["orphan"])
    healthy_path, _ = _write(root, HEALTHY, 80, 8, [])
    wrecked_path, _ = _write(
        root, WRECKED, 90, 9, ["malformed_line", "cycle", "duplicate_uuid", "truncated_line"]
    )
    return Projects(
        root,
        truths[0],
        {ORPHANED: orphan_path, HEALTHY: healthy_path, WRECKED: wrecked_path},
    )


@pytest.fixture
def settings(tmp_path: Path, projects: Projects) -> Settings:
    return Settings(
        db_url="mem://", data_dir=tmp_path / "data", projects_dir=projects.root, operator="alice"
    )


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition` holds (an error naming `what` if it never does)."""
    deadline = time.monotonic() + HANG_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {HANG_LIMIT:.0f} s")
        await pilot.pause()


async def press_until(pilot: Pilot[None], *keys: str, until: Callable[[], bool], what: str) -> None:
    """Press `keys`, then wait for their effect: Textual's pilot only guesses when a key
    is handled (from the process's CPU time), a guess a loaded machine makes wrong."""
    await pilot.press(*keys)
    await wait_until(pilot, until, what)


def laid_out(widget: Widget) -> bool:
    """`widget` has its place on screen: a click can find it."""
    return widget.region.area > 0


def cursor_in_view(tree: ConversationTree) -> bool:
    height = tree.scrollable_content_region.height
    return height > 0 and tree.scroll_y <= tree.cursor_row < tree.scroll_y + height


def shows_its_data(app: RiffApp) -> bool:
    """The screen on top shows what it loads: the scanned sessions, or the session,
    its tabs and the selected message in view."""
    screen = app.screen
    if isinstance(screen, SessionListScreen):
        table = screen.query_one("#sessions", FittedTable)
        shown = table.row_count == len(screen.visible_rows()) and table.size.width > 0
        return screen.scans > 0 and shown
    if isinstance(screen, SessionScreen):
        return (
            screen.state is not None
            and screen.panels_ready
            and cursor_in_view(screen.query_one(ConversationTree))
        )
    return True


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the loading workers are done and the screen shows their data."""
    app = pilot.app
    assert isinstance(app, RiffApp)
    await app.workers.wait_for_complete()
    await wait_until(pilot, lambda: shows_its_data(app), f"{type(app.screen).__name__} data")
    await pilot.pause()


def drive(app: RiffApp, script: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    """Run `script` against the app headless, in a plain synchronous test."""

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await script(pilot)

    asyncio.run(main())
