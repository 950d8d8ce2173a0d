"""Errors of the store. Each message is one line naming the value and what to do."""

from __future__ import annotations

from riff.errors import RiffError

__all__ = [
    "AppendOnlyError",
    "AuthError",
    "ConcurrencyError",
    "LogIndexTaken",
    "NoViewError",
    "OpenedElsewhereError",
    "RepairRefusedError",
    "SchemaMissingError",
    "SchemaTooNewError",
    "StoreError",
    "StoreInUseError",
    "StoredViewError",
    "TlogStateError",
]


class StoreError(RiffError):
    """Base class for every error of the store."""


class StoreInUseError(StoreError):
    """Another process holds the embedded store's lock."""

    def __init__(self, path: str, pid: int | None, command: str = "") -> None:
        self.path = path
        self.pid = pid
        self.command = command
        who = f"process {pid}" if pid else "another process"
        if command:
            who += f" ({command})"
        super().__init__(f"store {path} is in use by {who}; wait for it to finish or stop it")


class OpenedElsewhereError(StoreError):
    """Another process wrote the embedded store behind riff's lock ("Invalid revision")."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"store {url} was written by another process while riff held it; an embedded "
            "store may be opened by one process at a time (riff marks its hold in the "
            "store's .lock file, which other programs ignore): stop the other process, "
            "then run riff again"
        )


class SchemaTooNewError(StoreError):
    def __init__(self, url: str, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"store {url} has schema version {found} but this riff knows only up to "
            f"{known}; upgrade riff to open it"
        )


class SchemaMissingError(StoreError):
    def __init__(self, url: str, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"store {url} has schema version {found}, this riff needs {known}; "
            "run `riff db migrate`"
        )


class ConcurrencyError(StoreError):
    """Another writer appended to the session first; re-read the head and retry."""

    def __init__(self, session_id: str, detail: str) -> None:
        self.session_id = session_id
        super().__init__(
            f"session {session_id} changed while appending ({detail}); "
            "re-read the session and retry"
        )


class LogIndexTaken(ConcurrencyError):
    """Another writer took the transparency log's next indexes first: plan the leaves again."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id, "another writer took the log's next indexes first")


class AppendOnlyError(StoreError):
    """An attempt to change or delete a recorded event row."""


class RepairRefusedError(StoreError):
    """A repair failed validation and was not forced."""

    def __init__(self, message_id: str, problems: list[str]) -> None:
        self.message_id = message_id
        self.problems = list(problems)
        super().__init__(
            f"repair of message {message_id} refused: {'; '.join(problems)}; "
            "choose another parent or force it"
        )


class TlogStateError(StoreError):
    """The tree state is missing or the store's events still wait for their leaves."""


class AuthError(StoreError):
    """Sign-in failed or the signed-in user may not do this."""


class NoViewError(StoreError):
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(
            f"session {session_id} has no materialized view; materialize it from its "
            "transcript first (riff scan)"
        )


class StoredViewError(StoreError):
    """A stored view's map cannot be read: damaged, or in a form of a newer riff."""

    def __init__(self, session_id: str, field: str, problem: str) -> None:
        self.session_id = session_id
        self.field = field
        super().__init__(
            f"the stored view of session {session_id} has an unreadable {field} ({problem}); "
            f"views are rebuilt from the transcript and the log: riff views rebuild {session_id}"
        )
