"""`riff tui`: review broken sessions and repair them by hand, every action an event."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from riff.app.workspace import Workspace
from riff.settings import Settings
from riff.transcript import SessionFile
from riff.tui.screens.modals import HelpScreen
from riff.tui.screens.session import SessionScreen
from riff.tui.screens.session_list import SessionListScreen

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "pageup": "PgUp",
    "pagedown": "PgDn",
}


def _keys(spec: str) -> str:
    return " ".join(KEY_NAMES.get(k, k) for k in spec.split(","))


class RiffApp(App[None]):
    CSS_PATH = "riff.tcss"
    TITLE = "riff"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        session: str | SessionFile | None = None,
        project: str | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.ws = workspace or Workspace(settings)
        self.initial_session = session
        self.project = project
        self.list_available = False

    def on_mount(self) -> None:
        if self.initial_session is None:
            self.show_list()
            return
        file = (
            self.initial_session
            if isinstance(self.initial_session, SessionFile)
            else self.ws.resolve(self.initial_session)
        )
        self.push_screen(SessionScreen(file))

    def show_list(self) -> None:
        if not self.list_available:
            self.install_screen(SessionListScreen(self.project), "sessions")
            self.list_available = True
        self.push_screen("sessions")

    def open_session(self, file: SessionFile) -> None:
        self.push_screen(SessionScreen(file))

    def on_unmount(self) -> None:
        self.ws.close()

    def help_rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for node in [self.screen, *self.screen.query("*")]:
            for binding in getattr(node, "BINDINGS", []):
                if not isinstance(binding, Binding) or binding.key in seen:
                    continue
                seen.add(binding.key)
                rows.append((_keys(binding.key), binding.description or binding.action))
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.key not in seen:
                rows.append((_keys(binding.key), binding.description))
        return rows

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_rows()))
