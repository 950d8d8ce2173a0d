"""Dialogs: help, confirmations, forcing an invalid repair, the write preview."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from riff.tui.plain import plain


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen below, with what it does."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        text = Text()
        for keys, what in self.rows:
            text.append(f"{keys:>18}  ", style="bold")
            text.append(f"{what}\n")
        with Vertical(id="dialog", classes="help"):
            yield Label("riff — keys", classes="title")
            yield VerticalScroll(Static(text))
            yield Label("Mouse: click a row to select it, double-click to open.", classes="hint")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(plain(self.question))
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ForceScreen(ModalScreen[str | None]):
    """An invalid repair: the problems, and forcing only with a reason and a second yes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, problems: list[str]) -> None:
        super().__init__()
        self.what = what
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="force"):
            yield Label("This repair fails validation", classes="title error")
            yield Static(plain(self.what))
            yield Static(Text("\n".join(f"• {p}" for p in self.problems), style="red"))
            yield Static(
                "The store refuses it. You can force it: it is then recorded with "
                "validation_passed = false and your reason."
            )
            yield Input(placeholder="reason (required to force)", id="reason")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Force repair", id="force", variant="error", disabled=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#force", Button).disabled = not event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#force", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "force":
            reason = self.query_one("#reason", Input).value.strip()
            if reason:
                self.dismiss(reason)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WriteScreen(ModalScreen[bool]):
    """The diff a write would make; write only on an explicit yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Write"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, path: str, diff: str, changes: int) -> None:
        super().__init__()
        self.path = path
        self.diff = diff
        self.changes = changes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="write"):
            yield Label(
                plain(f"Write {self.changes} repaired parent(s) into {self.path}?"), classes="title"
            )
            yield Static(
                "A backup of the original is kept; the file is replaced atomically, and "
                "the write is refused if the file changed since it was read."
            )
            with VerticalScroll(id="diff"):
                yield Static(Syntax(self.diff or "(no changes)", "diff", word_wrap=True))
            with Horizontal(classes="buttons"):
                yield Button("Write (y)", id="yes", variant="warning")
                yield Button("Cancel (n)", id="no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PlanScreen(ModalScreen[bool]):
    """The session's repair plan (line repairs, then re-links); apply and write on a yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Apply"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, path: str, rows: list[str], problems: list[str]) -> None:
        super().__init__()
        self.path = path
        self.rows = rows
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="write"):
            yield Label(plain(f"Repair plan for {self.path}"), classes="title")
            yield Static(
                "Line repairs apply first, in this order; re-links are planned on the file "
                "as they leave it. Every change is an event; the file is rewritten once "
                "(backup, atomic replace, refused if it changed or is being written)."
            )
            with VerticalScroll(id="diff"):
                yield Static(plain("\n".join(self.rows) or "(nothing to repair)"))
            if self.problems:
                problems = "\n".join(f"• {p}" for p in self.problems)
                yield Static(
                    plain(
                        f"{problems}\nThe plan fails validation: it cannot be applied here; "
                        "`riff repair --force --reason` records it with a reason.",
                        style="red",
                    )
                )
            with Horizontal(classes="buttons"):
                yield Button(
                    "Apply and write (y)", id="yes", variant="warning", disabled=bool(self.problems)
                )
                yield Button("Cancel (n)", id="no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes" and not self.problems)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes and not self.problems)
