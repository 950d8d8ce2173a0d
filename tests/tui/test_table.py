"""Rows and their column widths arrive in one update: no paint at the header's width."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from riff.app.review import list_sessions
from riff.settings import Settings
from riff.tui.app import RiffApp
from riff.tui.screens.session_list import SessionListScreen
from riff.tui.widgets.table import FittedTable

from .conftest import drive, wait_until


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FittedTable(["id", "name"], id="table")


def test_a_fill_is_drawn_at_its_widths_before_the_table_is_idle() -> None:
    async def main() -> None:
        app = _Host()
        async with app.run_test(size=(80, 10)) as pilot:
            table = app.query_one(FittedTable)
            await wait_until(pilot, lambda: table.size.width > 0, "the table laid out")
            table.fill(
                [
                    ("a", ["first-row-id", Text("a rather long name", style="bold")]),
                    ("b", ["2", "[bold]kept as typed[/bold]"]),
                ]
            )
            # No pause: these are the lines a paint right now would draw.
            lines = [table.render_line(y).text for y in range(3)]
            assert "first-row-id" in lines[1] and "a rather long name" in lines[1]
            assert "[bold]kept as typed[/bold]" in lines[2]  # data, not markup
            assert table.virtual_size.width == len(" first-row-id  [bold]kept as typed[/bold] ")

    asyncio.run(main())


def test_the_session_list_never_draws_data_at_header_widths(settings: Settings) -> None:
    app = RiffApp(settings, project="no-such-project")  # the first scan finds nothing

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionListScreen) and screen.summaries == []
        screen.summaries = list_sessions(app.ws)
        screen.refill()
        table = screen.query_one("#sessions", DataTable)
        # No pause: the first paint with data draws every cell in full.
        lines = [table.render_line(y).text for y in range(1 + len(screen.summaries))]
        for summary, line in zip(screen.visible_rows(), lines[1:], strict=True):
            assert summary.session_id[:8] in line
            assert summary.project in line
            assert "2025-09-04" in line

    drive(app, script)
