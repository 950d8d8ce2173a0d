"""Find the session files under Claude Code's projects directory.

Layout: ``<projects>/<project-slug>/<session-id>.jsonl``; subagent runs in
``agent-*.jsonl`` beside it (1.x/2.0, the parent named by the file's
``sessionId``) or under ``<session-id>/subagents/`` (2.x).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from riff.transcript import json_line
from riff.transcript.errors import (
    AmbiguousSessionError,
    NotATranscriptFileError,
    SessionNotFoundError,
)

_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class SessionFile:
    path: Path
    project: str
    """The project directory's name (Claude Code's slug of the working directory)."""
    session_id: str
    """The file's stem: a session uuid, or ``agent-…`` for a subagent file."""
    size: int
    mtime_ns: int
    is_subagent: bool
    parent_session_id: str | None
    message_count: int | None = None
    """Known only after the file was read; discovery leaves it None."""


def default_projects_dir() -> Path:
    """``$CLAUDE_CONFIG_DIR/projects`` if set, else ``~/.claude/projects``."""
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR")
    if config_dir:
        return Path(config_dir).expanduser() / "projects"
    return Path.home() / ".claude" / "projects"


class _Head(msgspec.Struct):
    sessionId: str | None = None


def _session_id_in(path: Path) -> str | None:
    """The sessionId named by the first lines of a file (for project-level agent files)."""
    decoder = msgspec.json.Decoder(_Head)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    for line in head.split(b"\n"):
        line = line.strip(b" \t\r\x00")
        try:
            session_id = decoder.decode(line).sessionId
        except (msgspec.DecodeError, RecursionError):
            # Bytes that are not UTF-8, or deeper than msgspec reads: read as Claude Code does.
            try:
                value = json_line.loads(line)
            except orjson.JSONDecodeError:
                continue
            found = value.get("sessionId") if isinstance(value, dict) else None
            session_id = found if isinstance(found, str) else None
        if session_id:
            return session_id
    return None


def _session_file(path: Path, project: str, parent: str | None, is_subagent: bool) -> SessionFile:
    stat = path.stat()
    return SessionFile(
        path=path,
        project=project,
        session_id=path.stem,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        is_subagent=is_subagent,
        parent_session_id=parent,
    )


def describe_file(path: Path) -> SessionFile:
    """A SessionFile for any transcript path, placed by its position in the tree."""
    path = path.resolve()
    is_agent = path.stem.startswith("agent-")
    if is_agent and path.parent.name == "subagents":
        return _session_file(path, path.parent.parent.parent.name, path.parent.parent.name, True)
    parent = _session_id_in(path) if is_agent else None
    return _session_file(path, path.parent.name, parent, is_agent)


def _outside(path: Path, root: Path) -> bool:
    """A symlink (or a path through one) that leads out of `root`."""
    try:
        return not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop or a vanished link
        return True


def discover_sessions(projects_dir: Path, *, follow_symlinks: bool = False) -> list[SessionFile]:
    """Every session and subagent file, sorted by project then session id.

    Symlinks that lead out of `projects_dir` (to a system file, say) are not
    followed unless `follow_symlinks`: only transcripts under it are read.
    """
    found: list[SessionFile] = []
    if not projects_dir.is_dir():
        return found
    root = projects_dir.resolve()

    def inside(path: Path, parent_inside: bool = True) -> bool:
        # A path that is no symlink, in a dir that resolves inside the root,
        # resolves inside it too: one lstat instead of resolving every component.
        if follow_symlinks or (parent_inside and not path.is_symlink()):
            return True
        return not _outside(path, root)

    for project_dir in sorted(p for p in projects_dir.iterdir() if p.is_dir() and inside(p)):
        project = project_dir.name
        for entry in sorted(project_dir.iterdir()):
            try:
                if not inside(entry):
                    continue
                if entry.is_file() and entry.suffix == ".jsonl":
                    is_agent = entry.stem.startswith("agent-")
                    parent = _session_id_in(entry) if is_agent else None
                    found.append(_session_file(entry, project, parent, is_agent))
                elif entry.is_dir():
                    subagents = entry / "subagents"
                    if subagents.is_dir():
                        # (`subagents` itself was not checked: a link there may lead out)
                        plain = not subagents.is_symlink()
                        for agent in sorted(subagents.glob("agent-*.jsonl")):
                            if inside(agent, plain):
                                found.append(_session_file(agent, project, entry.name, True))
            except OSError:
                continue  # vanished or unreadable while listing: skip, never crash
    return found


_KINDS_OF_NON_FILES = (
    (stat.S_ISDIR, "a directory, not a file"),
    (stat.S_ISFIFO, "a named pipe, not a file"),
    (stat.S_ISCHR, "a character device, not a file"),
    (stat.S_ISBLK, "a block device, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
)


def refuse_if_not_a_file(path: Path, name: str) -> None:
    """Raise NotATranscriptFileError when ``path`` (named ``name`` by the user) is there but
    is not a regular file: reading a pipe or a device would block or never end."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise NotATranscriptFileError(name, "a symlink that leads nowhere") from None
        return
    except OSError as exc:  # a symlink loop, a path through a file...
        raise NotATranscriptFileError(name, f"cannot be read ({exc.strerror})") from None
    for is_kind, what in _KINDS_OF_NON_FILES:
        if is_kind(mode):
            raise NotATranscriptFileError(name, what)


def resolve_session(projects_dir: Path, name: str, *, follow_symlinks: bool = False) -> SessionFile:
    """A session by id, unique id prefix, or path of a .jsonl file."""
    try:
        candidate = Path(name).expanduser()
    except RuntimeError:  # "~user…" naming no user: not a home directory, just a name
        candidate = Path(name)
    if name.endswith(".jsonl") or os.sep in name:
        if candidate.is_file():
            return describe_file(candidate)
        refuse_if_not_a_file(candidate, name)
        raise SessionNotFoundError(name, projects_dir)
    sessions = discover_sessions(projects_dir, follow_symlinks=follow_symlinks)
    exact = [s for s in sessions if s.session_id == name]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [s for s in sessions if s.session_id.startswith(name)]
    if not matches or not name:
        raise SessionNotFoundError(name, projects_dir)
    if len(matches) > 1:
        # A main session wins over its own subagent files sharing the prefix.
        main = [s for s in matches if not s.is_subagent]
        if len(main) == 1 and all(
            s.parent_session_id == main[0].session_id for s in matches if s.is_subagent
        ):
            return main[0]
        raise AmbiguousSessionError(name, [s.session_id for s in matches])
    return matches[0]


def session_group(session: SessionFile, sessions: list[SessionFile]) -> list[SessionFile]:
    """The other files of the same session (its subagents, or its parent and siblings)."""
    root = session.parent_session_id if session.is_subagent else session.session_id
    return [
        s
        for s in sessions
        if s.path != session.path
        and s.project == session.project
        and (s.session_id == root or s.parent_session_id == root)
    ]


class SessionGroups:
    """`session_group` for many files of one list, from an index built once.

    Asking each of n files for its group by scanning the list is O(n^2) (a
    projects dir of 500 files took a quarter of a million path comparisons);
    here each file's group comes from two dict lookups. The members and their
    order are exactly `session_group`'s (the list's order), including its
    reading of a subagent file whose session is unknown (root None: every
    file without a parent session in its project).
    """

    def __init__(self, sessions: list[SessionFile]) -> None:
        self.sessions = sessions
        self._named: dict[tuple[str, str | None], list[int]] = {}
        self._children: dict[tuple[str, str | None], list[int]] = {}
        for i, s in enumerate(sessions):
            self._named.setdefault((s.project, s.session_id), []).append(i)
            self._children.setdefault((s.project, s.parent_session_id), []).append(i)

    def group(self, session: SessionFile) -> list[SessionFile]:
        """`session_group(session, sessions)`."""
        root = session.parent_session_id if session.is_subagent else session.session_id
        key = (session.project, root)
        named, children = self._named.get(key, ()), self._children.get(key, ())
        members = sorted({*named, *children}) if named and children else (named or children)
        path = str(session.path)
        return [s for s in map(self.sessions.__getitem__, members) if str(s.path) != path]
