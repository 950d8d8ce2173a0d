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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec
import orjson

from riff.transcript import json_line
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
    body = body.strip(b" \t\r\n\x00")
    try:
        return _ident.decode(body).uuid
    except (msgspec.DecodeError, RecursionError):
        pass  # bytes that are not UTF-8, or deeper than msgspec reads: see json_line
    try:
        value = json_line.loads(body)
    except orjson.JSONDecodeError:
        return None  # not a readable line: it is copied as is
    found = value.get("uuid") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


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
    lines: Sequence[tuple[int, int, str]] | None = None,
    staged: StagedRewrite | None = None,
) -> WriteResult:
    """Set the parentUuid of each message in ``changes`` (uuid -> new parent or None).

    ``lines``: (byte offset, length, uuid) of every line to change, as the
    scan that produced ``expected`` found them. With it the rewrite streams:
    the bytes between those lines are copied in large blocks (and hashed on
    the way, to prove the file is the one scanned); only the named lines are
    read as lines. Without it every line is looked at.

    ``staged``: the same rewrite already made into a temp file beside the file
    (`stage_parent_changes`, e.g. in another process while this one did other
    work): checked and swapped in as if it were made here.

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
    remove_stale_temp_files(path.parent)
    if staged is None:
        staged = stage_parent_changes(path, changes, lines=lines)
    tmp = staged.tmp
    try:
        if staged.size != expected.size or staged.sha256 != expected.sha256:
            raise TranscriptChangedError(path, "its content differs from what was scanned")
        missing = sorted(set(changes) - set(staged.found))
        if missing:
            raise RepairWriteError(
                f"message {missing[0]} is not in {path}; scan the session again and retry"
            )
        backup_path = _swap_in(path, tmp, expected, backup_at=now() if backup else None)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return WriteResult(path, backup_path, staged.lines_changed)


@dataclass(frozen=True)
class StagedRewrite:
    """A transcript rewritten into a temp file beside it, fsynced, not yet swapped in."""

    tmp: Path
    size: int
    """Bytes of the original read on the way."""
    sha256: str
    """Their SHA-256 (the caller compares it with the scan's)."""
    found: tuple[str, ...]
    """The messages whose lines were rewritten."""
    lines_changed: int


def stage_parent_changes(
    path: Path | str,
    changes: Mapping[str, str | None],
    *,
    lines: Sequence[tuple[int, int, str]] | None = None,
    owner: int | None = None,
) -> StagedRewrite:
    """The first half of `apply_parent_changes`: the rewrite written to a temp file
    (named for process ``owner``, default this one, so that no other writer takes
    it for the leftover of a dead one) and fsynced; the file itself is untouched."""
    path = Path(path)
    hasher = hashlib.sha256()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        dir=path.parent,
        prefix=f".{path.name}.{owner or os.getpid()}.",
        suffix=TEMP_SUFFIX,
        delete=False,
    )
    tmp = Path(handle.name)
    try:
        with handle:
            if lines is None:
                size, found, lines_changed = _rewrite_every_line(path, changes, handle, hasher)
            else:
                size, found, lines_changed = _rewrite_spans(path, changes, lines, handle, hasher)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return StagedRewrite(tmp, size, hasher.hexdigest(), tuple(sorted(found)), lines_changed)


def _rewrite_every_line(
    path: Path, changes: Mapping[str, str | None], out: IO[bytes], hasher: hashlib._Hash
) -> tuple[int, set[str], int]:
    """(bytes read, uuids found, lines changed), looking at every line."""
    found: set[str] = set()
    lines_changed = size = 0
    for _, raw, replacement in _changed_lines(path, changes, hasher):
        size += len(raw)
        if replacement is None:
            out.write(raw)
            continue
        out.write(replacement)
        lines_changed += 1
        uuid = _line_uuid(_split_newline(raw)[0])
        if uuid is not None:
            found.add(uuid)
    return size, found, lines_changed


_COPY_BLOCK = 1 << 20


def _copy(source: IO[bytes], out: IO[bytes], count: int, hasher: hashlib._Hash, buffer: Any) -> int:
    """Copy (and hash) ``count`` bytes, or up to the end when ``count`` < 0; the bytes copied."""
    view = memoryview(buffer)
    done = 0
    while count < 0 or done < count:
        want = _COPY_BLOCK if count < 0 else min(_COPY_BLOCK, count - done)
        n = source.readinto(view[:want])  # type: ignore[attr-defined]
        if not n:
            break
        hasher.update(view[:n])
        out.write(view[:n])
        done += n
    return done


def _rewrite_spans(
    path: Path,
    changes: Mapping[str, str | None],
    lines: Sequence[tuple[int, int, str]],
    out: IO[bytes],
    hasher: hashlib._Hash,
) -> tuple[int, set[str], int]:
    """(bytes read, uuids found, lines changed), copying all but the named lines as blocks."""
    found: set[str] = set()
    buffer = bytearray(_COPY_BLOCK)
    position = changed = 0
    with path.open("rb", buffering=0) as source:
        for offset, length, uuid in sorted(lines):
            if uuid not in changes or offset < position:
                continue
            position += _copy(source, out, offset - position, hasher, buffer)
            body = source.read(length)
            hasher.update(body)
            position += len(body)
            where = f"the line of message {uuid} (byte {offset}) of {path}"
            if position != offset + length or _line_uuid(body) != uuid:
                raise TranscriptChangedError(path, f"{where} is not where the scan saw it")
            line, carriage = (body[:-1], b"\r") if body.endswith(b"\r") else (body, b"")
            out.write(replace_parent(line, changes[uuid], where=where) + carriage)
            found.add(uuid)
            changed += 1
        position += _copy(source, out, -1, hasher, buffer)
    return position, found, changed


TEMP_SUFFIX = ".riff-tmp"
_UNOWNED_TEMP_AGE_S = 3600.0


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete the temp files of writes that were killed midway; return those removed.

    A temp file is named `.<transcript>.<pid>.<random>.riff-tmp`: it is stale
    when that process is gone. (One without a pid, from an older riff, is
    stale after an hour.) A live writer's file is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
            continue
        try:
            if not _temp_is_stale(entry):
                continue
            entry.unlink()
        except OSError:
            continue  # vanished or not ours to remove: never fail the write for it
        removed.append(entry)
    return removed


def _temp_is_stale(entry: Path) -> bool:
    parts = entry.name[: -len(TEMP_SUFFIX)].rsplit(".", 2)
    pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
    if pid is None:
        return time.time() - entry.stat().st_mtime > _UNOWNED_TEMP_AGE_S
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _swap_in(
    path: Path, tmp: Path, expected: Fingerprint, *, backup_at: datetime | None
) -> Path | None:
    """Give `tmp` the file's mode, check the file is unchanged, back it up, replace it."""
    shutil.copymode(path, tmp)
    _check_stat(path, expected)
    backup_path = _backup_path(path, backup_at) if backup_at is not None else None
    if backup_path is not None:
        try:
            os.link(path, backup_path)
        except OSError:
            shutil.copy2(path, backup_path)
    os.replace(tmp, path)
    return backup_path


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


def replace_file_bytes(
    path: Path | str,
    data: bytes,
    expected: Fingerprint,
    *,
    lines_changed: int,
    backup: bool = True,
    now: Callable[[], datetime] = _utc_now,
) -> WriteResult:
    """Replace the whole file with `data` (a line edit's result), with the same safety:
    refuse unless the file is still the one `expected` describes (size, mtime and
    SHA-256), temp file beside it, fsync, backup as a hard link, atomic rename."""
    path = Path(path)
    _check_stat(path, expected)
    if expected.sha256 is None:
        raise RepairWriteError(
            f"{path} was scanned without its content hash; load the session again to write it"
        )
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        dir=path.parent, prefix=f".{path.name}.", suffix=".riff-tmp", delete=False
    )
    tmp = Path(handle.name)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected.sha256:
            raise TranscriptChangedError(path, "its content differs from what was scanned")
        backup_path = _swap_in(path, tmp, expected, backup_at=now() if backup else None)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return WriteResult(path, backup_path, lines_changed)


def replace_parents_in_bytes(
    data: bytes, changes: Mapping[str, str | None], *, name: str = "the file"
) -> tuple[bytes, int]:
    """`data` (a whole transcript) with the parentUuid of each message in `changes` set,
    every other byte kept; (new bytes, lines changed). For a file already in memory
    (a line edit's result), where :func:`apply_parent_changes` streams one from disk."""
    if not changes:
        return data, 0
    out: list[bytes] = []
    found: set[str] = set()
    changed = 0
    for line_no, raw in enumerate(data.split(b"\n"), start=1):
        relinked = relink_line(raw, changes, line_no=line_no, name=name)
        if relinked is not None:
            raw, uuid = relinked
            found.add(uuid)
            changed += 1
        out.append(raw)
    missing = sorted(set(changes) - found)
    if missing:
        raise RepairWriteError(f"message {missing[0]} is not in {name}; scan it again and retry")
    return b"\n".join(out), changed


def relink_line(
    raw: bytes, changes: Mapping[str, str | None], *, line_no: int, name: str = "the file"
) -> tuple[bytes, str] | None:
    """(the line with its parentUuid set, its uuid) when `raw` (one line, without its
    newline) is the line of a message in `changes`; None when it is not. The rule of
    :func:`replace_parents_in_bytes`, one line at a time; RepairWriteError when the
    line has no parentUuid to change."""
    body, carriage = (raw[:-1], b"\r") if raw.endswith(b"\r") else (raw, b"")
    uuid = _line_uuid(body) if b'"uuid"' in body else None
    if uuid is None or uuid not in changes:
        return None
    return replace_parent(body, changes[uuid], where=f"line {line_no} of {name}") + carriage, uuid
