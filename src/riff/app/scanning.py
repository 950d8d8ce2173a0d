"""Scan many sessions: in parallel where it pays, skipping files that did not change.

The cache maps a transcript path to the size and mtime it had when scanned and
the scan's JSON; a file with the same size and mtime is not read again.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from riff.app.scan_cache import ScanCache as ScanCache  # its home is the light module
from riff.transcript.discover import SessionFile, SessionGroups
from riff.transcript.findings import UNREADABLE_FILE

# The reader and the detectors (riff.transcript.scan) load when a file is
# read: a scan answered from the cache does not need them.

# Below this much work a process pool costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
Progress = Callable[[int, int], None]  # (files done, bytes done)


@dataclass
class ScanReport:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    cached: int = 0
    read: int = 0

    @property
    def totals(self) -> dict[str, Any]:
        kinds: Counter[str] = Counter()
        broken = 0
        for session in self.sessions:
            if session["findings"]:
                broken += 1
            kinds.update(f["kind"] for f in session["findings"])
        return {
            "sessions": len(self.sessions),
            "sessions_with_findings": broken,
            "findings": dict(sorted(kinds.items())),
            "resume_loss": sum(s.get("resume_loss") or 0 for s in self.sessions),
        }

    @property
    def has_problems(self) -> bool:
        return any(
            f["severity"] in ("error", "warning") for s in self.sessions for f in s["findings"]
        )

    def to_json(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "totals": self.totals}


def _scan_groups(groups: list[tuple[int, list[SessionFile]]]) -> bytes:
    """Worker: scan several groups; (group number, path, scan JSON) of each file, as JSON.

    The files are the parent's SessionFiles, as discovered: a worker that
    described them again would resolve their paths (a dir named relatively or
    through a symlink then came back under other names, and was dropped). One
    task holds many groups, so a projects dir of small sessions does not pay
    a round trip through the pool per session, and what comes back is one
    bytes object (orjson is faster at both ends than pickling the dicts).
    """
    return orjson.dumps(
        [
            (number, path, scan)
            for number, group in groups
            for path, scan in _scan_readable(group, {str(f.path) for f in group})
        ]
    )


def _tasks(
    groups: list[list[SessionFile]], workers: int
) -> list[list[tuple[int, list[SessionFile]]]]:
    """The groups packed into tasks, biggest first, each about 1/8 of a worker's share.

    Biggest first, so that the last tasks to finish are small ones and both
    cores stay busy to the end; small enough tasks that progress moves.
    """
    sizes = [sum(f.size for f in group) for group in groups]
    share = max(sum(sizes) // (workers * 8), 1)
    tasks: list[list[tuple[int, list[SessionFile]]]] = []
    load = share
    for number in sorted(range(len(groups)), key=lambda n: -sizes[n]):
        if load >= share:
            tasks.append([])
            load = 0
        tasks[-1].append((number, groups[number]))
        load += sizes[number]
    return tasks


def _scan_readable(group: list[SessionFile], wanted: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Scan a group; a file that cannot be read becomes a finding, the others are scanned."""
    from riff.transcript.scan import scan_sessions, unreadable_scan_json

    try:
        return [
            (str(scan.file.path), scan.to_json())
            for scan in scan_sessions(group, content_hash=False)
            if str(scan.file.path) in wanted
        ]
    except OSError:
        pass
    readable = []
    pairs: list[tuple[str, dict[str, Any]]] = []
    for file in group:
        try:
            with file.path.open("rb") as handle:
                handle.read(1)
            readable.append(file)
        except OSError as exc:
            if str(file.path) in wanted:
                pairs.append((str(file.path), unreadable_scan_json(file, exc)))
    for file in readable:
        if str(file.path) not in wanted:
            continue
        try:
            others = [f for f in readable if f is not file]
            scans = list(scan_sessions([file, *others], content_hash=False))
        except OSError as exc:
            pairs.append((str(file.path), unreadable_scan_json(file, exc)))
            continue
        pairs.extend((str(s.file.path), s.to_json()) for s in scans if s.file is file)
    return pairs


def _groups(
    files: list[SessionFile], context: list[SessionFile] | None = None
) -> list[list[SessionFile]]:
    """Each file with the other files of its session, found in ``context`` (else ``files``)."""
    seen: set[str] = set()
    groups = []
    index = SessionGroups(context if context is not None else files)
    for file in files:
        if str(file.path) in seen:
            continue
        group = [file, *index.group(file)]
        seen.update(str(f.path) for f in group)
        groups.append(group)
    return groups


def scan_files(
    files: list[SessionFile],
    *,
    cache: ScanCache | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    context: list[SessionFile] | None = None,
) -> ScanReport:
    """Scan `files`; unchanged files come from the cache, the rest in parallel if worth it.

    `context` holds every known session file: a file's session siblings are read
    from it, so a subagent file scanned alone still finds its parents in the
    session's main file (only `files` are reported).
    """
    report = ScanReport()
    results: dict[str, dict[str, Any]] = {}
    done_files = done_bytes = 0
    todo: list[list[SessionFile]] = []
    for group in _groups(files, context):
        cached = [cache.get(f) if cache else None for f in group]
        if all(c is not None for c in cached):
            for f, c in zip(group, cached, strict=True):
                assert c is not None
                results[str(f.path)] = c
                done_files += 1
                done_bytes += f.size
            report.cached += len(group)
        else:
            todo.append(group)
    if progress:
        progress(done_files, done_bytes)

    sizes = {str(f.path): f.size for f in files}
    by_group: dict[str, int] = {}

    def record(pairs: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
        nonlocal done_files, done_bytes
        for number, path, scan in pairs:
            keep_later_group(results, by_group, number, path, scan)
            done_files += 1
            done_bytes += sizes.get(path, 0)
            report.read += 1
        if progress:
            progress(done_files, done_bytes)

    work_bytes = sum(f.size for group in todo for f in group)
    cores = workers or os.cpu_count() or 1
    if cores > 1 and len(todo) > 1 and work_bytes >= PARALLEL_MIN_BYTES:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        tasks = _tasks(todo, min(cores, len(todo)))
        with ProcessPoolExecutor(max_workers=min(cores, len(tasks))) as pool:
            futures = [pool.submit(_scan_groups, task) for task in tasks]
            for future in as_completed(futures):
                record(orjson.loads(future.result()))
    else:
        for number, group in enumerate(todo):
            scans = _scan_readable(group, {str(f.path) for f in group})
            record((number, path, scan) for path, scan in scans)

    for file in files:
        scan = results.get(str(file.path))
        if scan is not None:
            report.sessions.append(scan)
            if cache is not None and scan["path"] == str(file.path) and not _unreadable(scan):
                cache.put(file, scan)  # (names that are not UTF-8 are never cached)
    report.sessions.sort(key=_broken_first)
    return report


def keep_later_group(
    results: dict[str, dict[str, Any]],
    by_group: dict[str, int],
    number: int,
    path: str,
    scan: dict[str, Any],
) -> None:
    """Record the scan of `path` from group `number` unless a later group's is there.

    A file can be in two groups (a subagent file whose session is unknown
    groups with every main session of its project): it keeps the later
    group's scan, as a serial scan does, in whatever order the tasks finish.
    """
    if by_group.get(path, -1) <= number:
        results[path] = scan
        by_group[path] = number


def _unreadable(scan: dict[str, Any]) -> bool:
    return any(f["kind"] == UNREADABLE_FILE for f in scan["findings"])


def _broken_first(session: dict[str, Any]) -> tuple[int, int, str]:
    errors = sum(1 for f in session["findings"] if f["severity"] == "error")
    return (0 if errors else 1, -len(session["findings"]), session["path"])
