"""The streaming rewrite: only the lines the scan located are read as lines, the rest is copied."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from riff.transcript.errors import TranscriptChangedError
from riff.transcript.reader import read_transcript
from riff.transcript.write import BACKUP_SUFFIX, apply_parent_changes
from tests.factories import generate_session, inject, write_generated_session

FIXED_NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)


def _broken(tmp_path: Path, name: str) -> tuple[Path, dict[str, str | None]]:
    session = generate_session(300, seed=9)
    truths = inject(session, "orphan", 3, random.Random(9))
    path = write_generated_session(tmp_path / name, session)
    return path, {t.message_id or "": t.true_parent for t in truths}


def test_streamed_rewrite_equals_the_line_by_line_one(tmp_path: Path) -> None:
    by_lines, changes = _broken(tmp_path / "a", "s.jsonl")
    by_spans, _ = _broken(tmp_path / "b", "s.jsonl")
    transcript = read_transcript(by_spans)

    plain = apply_parent_changes(
        by_lines, changes, read_transcript(by_lines).fingerprint, now=lambda: FIXED_NOW
    )
    streamed = apply_parent_changes(
        by_spans,
        changes,
        transcript.fingerprint,
        now=lambda: FIXED_NOW,
        lines=transcript.lines_of(changes),
    )

    assert by_spans.read_bytes() == by_lines.read_bytes()
    assert streamed.lines_changed == plain.lines_changed == 3
    assert streamed.backup_path is not None and streamed.backup_path.name.endswith(BACKUP_SUFFIX)


def test_duplicate_and_crlf_lines_are_rewritten_too(tmp_path: Path) -> None:
    a = {"type": "user", "uuid": "u-1", "parentUuid": None, "message": {"role": "user"}}
    b = {"type": "assistant", "uuid": "u-2", "parentUuid": "gone", "message": {"role": "x"}}
    path = tmp_path / "s.jsonl"
    path.write_bytes(orjson.dumps(a) + b"\n" + orjson.dumps(b) + b"\r\n" + orjson.dumps(b) + b"\n")
    transcript = read_transcript(path)
    changes: dict[str, str | None] = {"u-2": "u-1"}

    result = apply_parent_changes(
        path, changes, transcript.fingerprint, lines=transcript.lines_of(changes)
    )

    lines = path.read_bytes().split(b"\n")
    assert result.lines_changed == 2
    assert lines[1].endswith(b"\r") and orjson.loads(lines[1])["parentUuid"] == "u-1"
    assert orjson.loads(lines[2])["parentUuid"] == "u-1"
    assert lines[0] == orjson.dumps(a)


def test_a_line_moved_since_the_scan_is_refused(tmp_path: Path) -> None:
    path, changes = _broken(tmp_path, "s.jsonl")
    transcript = read_transcript(path)
    spans = transcript.lines_of(changes)
    before = path.read_bytes()
    moved = [(offset + 1, length, uuid) for offset, length, uuid in spans]

    with pytest.raises(TranscriptChangedError):
        apply_parent_changes(path, changes, transcript.fingerprint, lines=moved)

    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.riff-tmp")) and not list(tmp_path.glob(f"*{BACKUP_SUFFIX}"))


def test_a_changed_byte_between_the_lines_is_refused(tmp_path: Path) -> None:
    path, changes = _broken(tmp_path, "s.jsonl")
    transcript = read_transcript(path)
    data = bytearray(path.read_bytes())
    data[5] = ord("X") if data[5] != ord("X") else ord("Y")  # same size: only the hash tells
    stat = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    with pytest.raises(TranscriptChangedError):
        apply_parent_changes(
            path, changes, transcript.fingerprint, lines=transcript.lines_of(changes)
        )

    assert path.read_bytes() == bytes(data)
