"""`riff tui`: review broken sessions and repair them by hand, every action an event."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from riff.app.workspace import Workspace
from riff.settings import Settings
from riff.transcript import SessionFile
from riff.tui.plain import visible
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


def _own_bindings(cls: type) -> list[Binding]:
    """Bindings declared by riff's classes in `cls`'s hierarchy (not Textual's defaults)."""
    out: list[Binding] = []
    for klass in cls.__mro__:
        if klass.__module__.startswith("riff."):
            out.extend(b for b in klass.__dict__.get("BINDINGS", ()) if isinstance(b, Binding))
    return out


class RiffApp(App[None]):
    CSS_PATH = "riff.tcss"
    TITLE = "riff"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications carry paths, ids and reasons: shown as text, never as markup."""
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

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
        self.sessions_changed = False
        """Set when a transcript was written: the session list scans again when shown."""

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
        """riff's own bindings on screen (Textual's scrolling defaults left out), each key once."""
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for node in [self.screen, *self.screen.query("*"), self]:
            for binding in _own_bindings(type(node)):
                keys = [k for k in binding.key.split(",") if k not in seen]
                if not keys:
                    continue
                seen.update(keys)
                rows.append((_keys(",".join(keys)), binding.description or binding.action))
        return rows

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_rows()))
