"""The session screen's side panels: findings, candidates, event log, search results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, TabbedContent, TabPane

from riff.app.display import short_id, signal_text
from riff.events import RepairEvent
from riff.transcript import Candidate, Finding, MessageRecord
from riff.tui.widgets.table import FittedTable, Row

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


class _Panel(FittedTable):
    LABELS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.LABELS, id=id)

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None


class FindingsPanel(_Panel):
    """Every finding of the session as repaired; Enter jumps to its first message."""

    class Jump(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    LABELS = ("severity", "kind", "line", "message", "explanation")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings: list[Finding] = []

    def show(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        self.fill(
            (
                str(i),
                (
                    Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                    f.kind,
                    str(f.lines[0]) if f.lines else "—",
                    short_id(f.message_ids[0] if f.message_ids else None),
                    f.explanation,
                ),
            )
            for i, f in enumerate(self.findings)
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Jump(self.findings[int(event.row_key.value)]))


class CandidatePanel(_Panel):
    """Ranked parent candidates of one message: Enter applies, t jumps to it in the tree."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "jump", "Jump to candidate"),
        Binding("enter", "select_cursor", "Apply candidate"),
    ]

    class Apply(Message):
        def __init__(self, candidate: Candidate) -> None:
            super().__init__()
            self.candidate = candidate

    class Jump(Message):
        def __init__(self, candidate: Candidate) -> None:
            super().__init__()
            self.candidate = candidate

    LABELS = ("#", "score", "line", "parent", "signals", "preview")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Candidate] = []
        self.message_id: str | None = None

    def show(self, message_id: str, candidates: Sequence[Candidate]) -> None:
        self.message_id = message_id
        self.candidates = list(candidates)
        rows: list[Row] = []
        for i, c in enumerate(self.candidates):
            signals = signal_text(c.signals, separator=" ")
            cells = (
                str(i + 1),
                f"{c.score:.2f}",
                str(c.line or "?"),
                short_id(c.parent_uuid),
                signals,
                c.preview.replace("\n", " ")[:80],
            )
            rows.append((str(i), cells))
        self.fill(rows)

    def selected(self) -> Candidate | None:
        key = self.current_key()
        return self.candidates[int(key)] if key is not None else None

    def action_jump(self) -> None:
        candidate = self.selected()
        if candidate is not None:
            self.post_message(self.Jump(candidate))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        candidate = self.selected()
        if candidate is not None:
            self.post_message(self.Apply(candidate))


class LogPanel(_Panel):
    """The session's events with their derived status; Enter reverts the selected one."""

    class Revert(Message):
        def __init__(self, event: RepairEvent) -> None:
            super().__init__()
            self.event = event

    LABELS = (
        "seq", "kind", "status", "message", "old → new", "operator", "score", "time",
        "digest", "reason",
    )  # fmt: skip

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: list[RepairEvent] = []

    def show(self, events: Sequence[RepairEvent], reverted: frozenset[str]) -> None:
        self.events = list(events)
        rows: list[Row] = []
        for i, e in enumerate(self.events):
            status = (
                Text("reverted", style="dim strike")
                if e.event_id in reverted
                else Text("active", style="green")
            )
            if not e.validation_passed:
                status.append(" forced", style="bold red")
            cells = (
                str(e.seq),
                e.kind,
                status,
                short_id(e.message_id),
                f"{short_id(e.old_parent_uuid)} → {short_id(e.new_parent_uuid)}",
                e.operator,
                "—" if e.similarity_score is None else f"{e.similarity_score:.2f}",
                e.timestamp[:19].replace("T", " "),
                e.event_digest[:12],
                e.reason,
            )
            rows.append((str(i), cells))
        self.fill(rows)
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Revert(self.events[int(event.row_key.value)]))


class SearchPanel(_Panel):
    """Search hits; Enter jumps to one."""

    class Jump(Message):
        def __init__(self, uuid: str) -> None:
            super().__init__()
            self.uuid = uuid

    LABELS = ("line", "type", "message", "preview")

    def show(self, hits: Sequence[MessageRecord]) -> None:
        rows: list[Row] = []
        for r in hits:
            assert r.uuid is not None
            cells = (
                str(r.line),
                r.type or "?",
                short_id(r.uuid),
                r.preview.replace("\n", " ")[:80],
            )
            rows.append((r.uuid, cells))
        self.fill(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Jump(str(event.row_key.value)))


class SessionPanels(Vertical):
    """The session screen's tabs: findings, candidates, event log, search results."""

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="findings", id="tabs"):
            with TabPane("Findings", id="findings"):
                yield FindingsPanel(id="findings-panel")
            with TabPane("Candidates", id="candidates"):
                yield CandidatePanel(id="candidates-panel")
            with TabPane("Event log", id="log"):
                yield LogPanel(id="log-panel")
            with TabPane("Search", id="search"):
                yield SearchPanel(id="search-panel")
