"""Every session with its size, date, messages and findings; broken first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from riff.app.review import SessionSummary, list_sessions
from riff.transcript.discover import describe_file
from riff.tui.plain import plain
from riff.tui.widgets.table import FittedTable, Row

if TYPE_CHECKING:
    from riff.tui.app import RiffApp

SORTS: list[tuple[str, Callable[[SessionSummary], Any]]] = [
    ("broken first", lambda s: (-s.errors, -s.warnings, -s.findings, s.project, s.session_id)),
    ("newest", lambda s: (-s.mtime_ns, s.session_id)),
    ("largest", lambda s: (-s.size, s.session_id)),
    ("messages", lambda s: (-s.messages, s.session_id)),
    ("project", lambda s: (s.project, s.session_id)),
]
COLUMNS = (
    "session", "project", "modified", "size", "msgs", "errors", "warn", "info", "resume loses",
    "kinds",
)  # fmt: skip


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _row(s: SessionSummary) -> Row:
    modified = datetime.fromtimestamp(s.mtime_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.kinds.items()))
    cells = (
        s.session_id[:8],
        s.project,
        modified,
        human_size(s.size),
        str(s.messages),
        Text(str(s.errors), style="bold red" if s.errors else "dim"),
        Text(str(s.warnings), style="yellow" if s.warnings else "dim"),
        Text(str(s.infos), style="dim"),
        str(s.resume_loss),
        kinds or Text("healthy", style="green"),
    )
    return str(s.path), cells


class SessionListScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("b", "broken_only", "Broken only"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("g", "edge(0)", "First", show=False),
        Binding("G", "edge(1)", "Last", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.summaries: list[SessionSummary] = []
        self.sort_index = 0
        self.broken_only = False
        self.filter_text = ""
        self.scans = 0
        """Scans shown so far: the table holds data once this is above zero."""

    @property
    def riff(self) -> RiffApp:
        from riff.tui.app import RiffApp

        assert isinstance(self.app, RiffApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("riff · sessions · scanning…", id="title")
        yield Input(placeholder="filter: session id, project or finding kind", id="filter")
        yield FittedTable(COLUMNS, id="sessions")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#sessions", FittedTable).focus()
        self.scan()

    @work(thread=True, exclusive=True, group="scan")
    def scan(self) -> None:
        try:
            summaries = list_sessions(self.riff.ws, project=self.project)
        except Exception as exc:  # any failure is shown, never a crash
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._scanned, summaries)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#title", Static).update(plain(f"riff · sessions · {exc}"))
        self.notify(str(exc), severity="error", timeout=10)

    def on_screen_resume(self) -> None:
        if self.riff.sessions_changed:  # a session was written: its findings changed
            self.riff.sessions_changed = False
            self.scan()

    def _scanned(self, summaries: list[SessionSummary]) -> None:
        self.summaries = summaries
        self.scans += 1
        self.refill()

    def visible_rows(self) -> list[SessionSummary]:
        needle = self.filter_text.lower()
        rows = [
            s
            for s in self.summaries
            if (not self.broken_only or s.errors or s.warnings)
            and (
                not needle
                or needle in s.session_id.lower()
                or needle in s.project.lower()
                or any(needle in kind for kind in s.kinds)
            )
        ]
        return sorted(rows, key=SORTS[self.sort_index][1])

    def refill(self) -> None:
        table = self.query_one("#sessions", FittedTable)
        current = None
        if table.row_count:
            current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        rows = self.visible_rows()
        table.fill(_row(s) for s in rows)  # the column widths come with the rows
        keys = [str(s.path) for s in rows]
        if current in keys:  # the cursor stays on its session across sorts, filters, rescans
            table.move_cursor(row=keys.index(current), animate=False)
        broken = sum(1 for s in self.summaries if s.errors or s.warnings)
        flags = [f"sorted by {SORTS[self.sort_index][0]}"]
        if self.broken_only:
            flags.append("broken only")
        if self.filter_text:
            flags.append(f"filter {self.filter_text!r}")
        where = f"project {self.project}" if self.project else "all projects"
        self.query_one("#title", Static).update(
            plain(
                f"riff · sessions · {where} · {len(rows)} of {len(self.summaries)} shown · "
                f"{broken} with problems · " + " · ".join(flags)
            )
        )

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.refill()

    def action_broken_only(self) -> None:
        self.broken_only = not self.broken_only
        self.refill()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.refill()
        self.query_one("#sessions", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#sessions", DataTable).focus()

    def action_cursor(self, delta: int) -> None:
        table = self.query_one("#sessions", DataTable)
        table.move_cursor(row=table.cursor_row + delta)

    def action_edge(self, end: int) -> None:
        table = self.query_one("#sessions", DataTable)
        table.move_cursor(row=(table.row_count - 1) if end else 0)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        by_column = {0: 0, 1: 4, 2: 1, 3: 2, 4: 3}
        self.sort_index = by_column.get(event.column_index, 0)
        self.refill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        from pathlib import Path

        self.riff.open_session(describe_file(Path(event.row_key.value)))
