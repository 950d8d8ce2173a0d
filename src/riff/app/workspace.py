"""A workspace: the settings of one invocation, its store (opened lazily) and its sessions."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from riff.app.errors import AppError
from riff.settings import Settings
from riff.transcript.discover import SessionFile, discover_sessions, resolve_session

if TYPE_CHECKING:
    from riff.app.eventlog import EventLog  # the event core loads with the store, not before


class Workspace:
    """Everything a service needs; the CLI, the TUI and the jobs each hold one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: EventLog | None = None
        self._sessions: list[SessionFile] | None = None

    # -- store -------------------------------------------------------------

    @property
    def store(self) -> EventLog:
        """The event log over the configured store, opened (and created) on first use."""
        if self._store is None:
            from riff.app.eventlog import EventLog
            from riff.store import open_store  # the backend and its SDK load here

            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._store = EventLog(open_store(self.settings))
        return self._store

    def store_if_created(self) -> EventLog | None:
        """The event log, or None when the embedded store was never created (it holds no
        events then, and a command that only reads must not create it)."""
        if self._store is None:
            url = self.settings.resolved_db_url
            embedded = url.removeprefix("surrealkv://")
            if embedded != url and not Path(embedded).exists():
                return None
        return self.store

    @property
    def has_open_store(self) -> bool:
        return self._store is not None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sessions ----------------------------------------------------------

    @property
    def projects_dir(self) -> Path:
        return self.settings.projects_dir

    def sessions(self) -> list[SessionFile]:
        """Every transcript under the projects dir (discovered once per workspace)."""
        if self._sessions is None:
            if not self.projects_dir.is_dir():
                raise AppError(
                    f"no Claude Code projects directory at {self.projects_dir}; pass "
                    "--projects-dir DIR (or set RIFF_PROJECTS_DIR), or try `riff demo`"
                )
            self._sessions = discover_sessions(
                self.projects_dir, follow_symlinks=self.settings.follow_symlinks
            )
        return self._sessions

    def resolve(self, name: str) -> SessionFile:
        """A session by id, unique id prefix, or transcript path."""
        candidate = Path(name)
        if candidate.suffix == ".jsonl" and candidate.is_file():
            return resolve_session(self.projects_dir, str(candidate))
        if not self.projects_dir.is_dir():
            self.sessions()  # raises the clear error
        return resolve_session(
            self.projects_dir, name, follow_symlinks=self.settings.follow_symlinks
        )

    def forget_sessions(self) -> None:
        """Discover again next time (after files were written)."""
        self._sessions = None
