"""The scan cache: transcript path -> the size and mtime it had when scanned, and the scan's JSON.

A file with the same size and mtime is not read again. Kept apart from
`riff.app.scanning` and free of the transcript reader's imports so that
`riff guard` can answer from it in a few milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import orjson

CACHE_VERSION = 4
"""2: detectors that know real shapes; 3: repairable says what riff repair --write repairs;
4: lines read as Claude Code reads them (riff.transcript.json_line: bytes that are not UTF-8,
nesting past orjson's limit), which older scans reported as malformed, and what the findings
say Claude Code does with a line riff cannot read."""
CACHE_FILE_NAME = "scan.json"


class Stamped(Protocol):
    """What the cache keys on (a SessionFile has these)."""

    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...


class ScanCache:
    """A JSON file of path -> (size, mtime_ns, scan JSON)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path is not None and path.is_file():
            try:
                data = orjson.loads(path.read_bytes())
                if data.get("version") == CACHE_VERSION:
                    self.entries = data.get("entries", {})
            except (orjson.JSONDecodeError, OSError, AttributeError):
                self.entries = {}  # a damaged cache is only a slower scan

    def get(self, file: Stamped) -> dict[str, Any] | None:
        entry = self.entries.get(str(file.path))
        if entry and entry["size"] == file.size and entry["mtime_ns"] == file.mtime_ns:
            result: dict[str, Any] = entry["scan"]
            return result
        return None

    def put(self, file: Stamped, scan: dict[str, Any]) -> None:
        self.entries[str(file.path)] = {
            "size": file.size,
            "mtime_ns": file.mtime_ns,
            "scan": scan,
        }

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(orjson.dumps({"version": CACHE_VERSION, "entries": self.entries}))
        os.replace(tmp, self.path)


def scan_cache_path(cache_dir: Path) -> Path:
    return cache_dir / CACHE_FILE_NAME
