"""Write parent repairs into a transcript, changing nothing else.

Only the bytes of the ``parentUuid`` value of the repaired lines change:
the value is located with a small scanner of the line's top-level object
(never a JSON re-dump, which would reorder keys, re-escape text and change
number formats). The new file is streamed to a temporary file beside the
original, fsynced and atomically swapped in; the original is kept as a
timestamped backup (a hard link, so no copy of a multi-GB file). Nothing is
written if the file changed since it was read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import orjson

from riff.transcript.errors import RepairWriteError, TranscriptChangedError
from riff.transcript.records import Fingerprint

BACKUP_SUFFIX = ".riff-backup"
"""Backups end with this (not .jsonl) so Claude Code and riff never list them as sessions."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LITERAL = re.compile(rb"[^,}\]\s]+")
_WS = b" \t\r\n"
_PARENT_KEY = b"parentUuid"


@dataclass(frozen=True)
class WriteResult:
    path: Path
    backup_path: Path | None
    lines_changed: int


class _Ident(msgspec.Struct):
    uuid: str | None = None


_ident = msgspec.json.Decoder(_Ident)


def _line_uuid(body: bytes) -> str | None:
    try:
        return _ident.decode(body.strip(b" \t\r\n\x00")).uuid
    except (msgspec.DecodeError, RecursionError):
        return None  # not a readable line: it is copied as is


def _skip_ws(line: bytes, pos: int) -> int:
    while pos < len(line) and line[pos] in _WS:
        pos += 1
    return pos


def parent_value_spans(line: bytes) -> list[tuple[int, int]]:
    """Byte spans of every top-level ``parentUuid`` value of a JSON object line."""
    spans: list[tuple[int, int]] = []
    pos = line.find(b"{")
    if pos < 0:
        return spans
    depth = 0
    expect_key = False
    n = len(line)
    while pos < n:
        c = line[pos]
        if c == 0x22:  # '"'
            match = _STRING.match(line, pos)
            if match is None:
                return spans  # unterminated string: nothing safe to change
            end = match.end()
            if depth == 1 and expect_key:
                key = line[pos + 1 : end - 1]
                colon = _skip_ws(line, end)
                if colon >= n or line[colon] != 0x3A:  # ':'
                    return spans
                start = _skip_ws(line, colon + 1)
                expect_key = False
                if key == _PARENT_KEY:
                    value = (
                        _STRING.match(line, start)
                        if start < n and line[start] == 0x22
                        else _LITERAL.match(line, start)
                    )
                    if value is None:
                        return spans
                    spans.append((start, value.end()))
                    pos = value.end()
                else:
                    pos = start
                continue
            pos = end
            continue
        if c in b"{[":
            depth += 1
            expect_key = c == 0x7B and depth == 1
        elif c in b"}]":
            depth -= 1
        elif c == 0x2C and depth == 1:  # ','
            expect_key = True
        pos += 1
    return spans


def replace_parent(line: bytes, new_parent: str | None, *, where: str = "line") -> bytes:
    """``line`` with its top-level parentUuid value(s) replaced; every other byte kept."""
    spans = parent_value_spans(line)
    if not spans:
        raise RepairWriteError(
            f"{where} has no parentUuid field to change; repair another message or edit by hand"
        )
    value = b"null" if new_parent is None else orjson.dumps(new_parent)
    out = line
    for start, end in reversed(spans):
        out = out[:start] + value + out[end:]
    return out


def _split_newline(raw: bytes) -> tuple[bytes, bytes]:
    if raw.endswith(b"\r\n"):
        return raw[:-2], b"\r\n"
    if raw.endswith(b"\n"):
        return raw[:-1], b"\n"
    return raw, b""


def _changed_lines(
    path: Path, changes: Mapping[str, str | None], hasher: hashlib._Hash | None = None
) -> Iterator[tuple[int, bytes, bytes | None]]:
    """(line number, raw line, replacement or None) for every line of ``path``."""
    with path.open("rb", buffering=1 << 20) as source:
        for line_no, raw in enumerate(source, start=1):
            if hasher is not None:
                hasher.update(raw)
            body, newline = _split_newline(raw)
            uuid = _line_uuid(body) if b'"uuid"' in body else None
            if uuid is not None and uuid in changes:
                where = f"line {line_no} of {path}"
                yield line_no, raw, replace_parent(body, changes[uuid], where=where) + newline
            else:
                yield line_no, raw, None


def _check_stat(path: Path, expected: Fingerprint) -> None:
    stat = path.stat()
    if stat.st_size != expected.size:
        raise TranscriptChangedError(path, f"size {expected.size} -> {stat.st_size} bytes")
    if stat.st_mtime_ns != expected.mtime_ns:
        raise TranscriptChangedError(path, "modification time differs")


def _backup_path(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    candidate = path.with_name(f"{path.name}.{stamp}{BACKUP_SUFFIX}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{stamp}-{n}{BACKUP_SUFFIX}")
        n += 1
    return candidate


def _utc_now() -> datetime:
    return datetime.now(UTC)


def apply_parent_changes(
    path: Path | str,
    changes: Mapping[str, str | None],
    expected: Fingerprint,
    *,
    backup: bool = True,
    now: Callable[[], datetime] = _utc_now,
) -> WriteResult:
    """Set the parentUuid of each message in ``changes`` (uuid -> new parent or None).

    Raises TranscriptChangedError if the file is not the one ``expected``
    describes, RepairWriteError if a message is missing or has no parentUuid.
    """
    path = Path(path)
    _check_stat(path, expected)
    if not changes:
        return WriteResult(path, None, 0)
    if expected.sha256 is None:
        raise RepairWriteError(
            f"{path} was scanned without its content hash; load the session again to write it"
        )
    hasher = hashlib.sha256()
    found: set[str] = set()
    lines_changed = 0
    size = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        dir=path.parent, prefix=f".{path.name}.", suffix=".riff-tmp", delete=False
    )
    tmp = Path(handle.name)
    try:
        with handle:
            for _, raw, replacement in _changed_lines(path, changes, hasher):
                size += len(raw)
                if replacement is None:
                    handle.write(raw)
                    continue
                handle.write(replacement)
                lines_changed += 1
                uuid = _line_uuid(_split_newline(raw)[0])
                if uuid is not None:
                    found.add(uuid)
            handle.flush()
            os.fsync(handle.fileno())
        if size != expected.size or hasher.hexdigest() != expected.sha256:
            raise TranscriptChangedError(path, "its content differs from what was scanned")
        missing = sorted(set(changes) - found)
        if missing:
            raise RepairWriteError(
                f"message {missing[0]} is not in {path}; scan the session again and retry"
            )
        shutil.copymode(path, tmp)
        _check_stat(path, expected)
        backup_path = _backup_path(path, now()) if backup else None
        if backup_path is not None:
            try:
                os.link(path, backup_path)
            except OSError:
                shutil.copy2(path, backup_path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return WriteResult(path, backup_path, lines_changed)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; not possible on every platform, hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def preview_parent_changes(path: Path | str, changes: Mapping[str, str | None]) -> str:
    """A unified diff of what :func:`apply_parent_changes` would write (nothing is written)."""
    path = Path(path)
    out = [f"--- a/{path.name}\n", f"+++ b/{path.name}\n"]
    for line_no, raw, replacement in _changed_lines(path, changes):
        if replacement is None:
            continue
        old = _split_newline(raw)[0].decode("utf-8", "replace")
        new = _split_newline(replacement)[0].decode("utf-8", "replace")
        out.append(f"@@ -{line_no} +{line_no} @@\n-{old}\n+{new}\n")
    return "".join(out) if len(out) > 2 else ""
