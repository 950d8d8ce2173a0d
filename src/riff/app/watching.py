"""`riff watch`: rescan a session whenever its transcript changes and report what is new.

The projects dir is watched with `watchfiles` (inotify/FSEvents/… through the
Rust `notify` crate), which batches the changes of a debounce window into one
set. Each changed session (with the other files of its session, so
cross-file links resolve) is rescanned through the scan cache, and its
findings are compared with what was known: a finding is identified by its
kind and the messages (or, for unreadable lines, the lines) it names.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riff.app.errors import AppError
from riff.app.guard import repair_command, session_ref
from riff.app.scan_cache import ScanCache, scan_cache_path

FindingKey = tuple[str, tuple[Any, ...]]


def finding_key(finding: dict[str, Any]) -> FindingKey:
    ids = tuple(finding.get("message_ids") or ())
    return (str(finding.get("kind")), ids or tuple(finding.get("lines") or ()))


@dataclass
class SessionChange:
    """One changed transcript: its findings now, and which are new or gone since last time."""

    event: str  # "changed" or "removed"
    session_id: str
    path: str
    project: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0
    resume_loss: int = 0
    repair: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "session_id": self.session_id,
            "path": self.path,
            "project": self.project,
            "messages": self.messages,
            "resume_loss": self.resume_loss,
            "findings": len(self.findings),
            "new": self.new,
            "resolved": self.resolved,
            "repair": self.repair,
        }


@dataclass
class Baseline:
    sessions: int
    sessions_with_findings: int
    findings: int

    def to_json(self, projects_dir: Path) -> dict[str, Any]:
        return {
            "event": "ready",
            "projects_dir": str(projects_dir),
            "sessions": self.sessions,
            "sessions_with_findings": self.sessions_with_findings,
            "findings": self.findings,
        }


class SessionWatcher:
    """What is known about each transcript, and the rescans that update it."""

    def __init__(self, projects_dir: Path, cache_dir: Path) -> None:
        self.projects_dir = projects_dir
        self.cache = ScanCache(scan_cache_path(cache_dir))
        self.known: dict[str, dict[FindingKey, dict[str, Any]]] = {}

    def check(self) -> None:
        if not self.projects_dir.is_dir():
            raise AppError(
                f"no Claude Code projects directory at {self.projects_dir}; pass "
                "--projects-dir DIR (or set RIFF_PROJECTS_DIR)"
            )

    def baseline(self) -> Baseline:
        """Scan every session once (from the cache where unchanged); nothing is reported."""
        from riff.app.scanning import scan_files
        from riff.transcript.discover import discover_sessions

        self.check()
        report = scan_files(discover_sessions(self.projects_dir), cache=self.cache)
        self._save_cache()
        for scan in report.sessions:
            self.known[scan["path"]] = {finding_key(f): f for f in scan["findings"]}
        totals = report.totals
        return Baseline(
            totals["sessions"],
            totals["sessions_with_findings"],
            sum(totals["findings"].values()),
        )

    def rescan(self, paths: set[Path]) -> list[SessionChange]:
        """The changes of the given transcripts (other paths are ignored)."""
        changes = []
        for path in sorted(p for p in paths if p.suffix == ".jsonl"):
            change = self._rescan_one(path)
            if change is not None:
                changes.append(change)
        if changes:
            self._save_cache()
        return changes

    def _rescan_one(self, path: Path) -> SessionChange | None:
        from riff.app.scanning import scan_files
        from riff.transcript.discover import describe_file, discover_sessions, session_group

        key = str(path.resolve())
        if not path.is_file():
            before = self.known.pop(key, None)
            if before is None:
                return None
            return SessionChange(
                "removed", path.stem, key, path.parent.name, resolved=list(before.values())
            )
        try:
            file = describe_file(path)
        except OSError:
            return None  # vanished between the event and the scan
        project_files = [
            f for f in discover_sessions(self.projects_dir) if f.project == file.project
        ]
        group = [file, *session_group(file, project_files)]
        report = scan_files(group, cache=self.cache, workers=1)
        scan = next((s for s in report.sessions if s["path"] == str(file.path)), None)
        if scan is None:
            return None
        now = {finding_key(f): f for f in scan["findings"]}
        before = self.known.get(str(file.path), {})
        self.known[str(file.path)] = now
        repairable = any(f.get("repairable") for f in scan["findings"])
        ref = session_ref(file.path, file.session_id, self.projects_dir)
        return SessionChange(
            "changed",
            file.session_id,
            str(file.path),
            file.project,
            findings=scan["findings"],
            new=[f for k, f in now.items() if k not in before],
            resolved=[f for k, f in before.items() if k not in now],
            messages=int(scan.get("messages") or 0),
            resume_loss=int(scan.get("resume_loss") or 0),
            repair=repair_command(ref) if repairable else None,
        )

    def _save_cache(self) -> None:
        with contextlib.suppress(OSError):  # a cache not saved is only a slower next start
            self.cache.save()


def changed_transcripts(
    projects_dir: Path,
    *,
    debounce_ms: int,
    on_watching: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> Iterator[set[Path]]:
    """Sets of .jsonl paths under `projects_dir` that changed, one set per debounce window.

    `on_watching` runs once the watcher is in place (changes made while it runs are
    kept for the first set), so a baseline taken there misses nothing. Ends when `stop`
    is set; Ctrl-C raises KeyboardInterrupt for the caller to end on.
    """
    from watchfiles import watch

    def is_transcript(change: Any, path: str) -> bool:
        return path.endswith(".jsonl")

    batches = watch(
        projects_dir,
        watch_filter=is_transcript,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        raise_interrupt=True,  # the caller ends on KeyboardInterrupt, quietly
        yield_on_timeout=True,  # the first (empty) set says the watcher is running
        rust_timeout=500,
    )
    first = next(batches, None)
    if on_watching is not None:
        on_watching()
    if first:
        yield {Path(path) for _, path in first}
    for batch in batches:
        if batch:
            yield {Path(path) for _, path in batch}
