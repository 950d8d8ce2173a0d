from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.transcript.errors import RepairWriteError, TranscriptChangedError
from riff.transcript.reader import read_message, read_transcript
from riff.transcript.write import (
    BACKUP_SUFFIX,
    apply_parent_changes,
    parent_value_spans,
    preview_parent_changes,
    replace_parent,
)
from tests.factories import generate_session, inject, write_generated_session

FIXED_NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)


def _diff_lines(before: bytes, after: bytes) -> list[int]:
    a, b = before.split(b"\n"), after.split(b"\n")
    assert len(a) == len(b)
    return [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def test_repair_changes_only_the_parent_values(tmp_path: Path) -> None:
    session = generate_session(400, seed=4)
    rng = random.Random(4)
    truths = inject(session, "orphan", 2, rng) + inject(session, "unexpected_root", 1, rng)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    before = path.read_bytes()
    transcript = read_transcript(path)
    changes = {t.message_id or "": t.true_parent for t in truths}
    result = apply_parent_changes(path, changes, transcript.fingerprint, now=lambda: FIXED_NOW)
    after = path.read_bytes()
    assert result.lines_changed == 3
    assert _diff_lines(before, after) == sorted(t.line for t in truths)
    for t in truths:
        old_line = before.split(b"\n")[t.line - 1]
        new_line = after.split(b"\n")[t.line - 1]
        assert orjson.loads(new_line)["parentUuid"] == t.true_parent
        # every byte outside the value is the same
        (start, end) = parent_value_spans(old_line)[0]
        (nstart, nend) = parent_value_spans(new_line)[0]
        assert old_line[:start] == new_line[:nstart] and old_line[end:] == new_line[nend:]
    assert result.backup_path is not None and result.backup_path.read_bytes() == before
    assert (
        result.backup_path.name.endswith(BACKUP_SUFFIX)
        and "20251001T120000" in result.backup_path.name
    )
    repaired = read_transcript(path)
    assert all(not r.parent_uuid or r.parent_uuid in repaired.uuids for r in repaired.messages)


def test_null_and_uuid_round_trip(tmp_path: Path) -> None:
    line = (
        b'{"type":"user",  "parentUuid" : "abc" ,"uuid":"m","message":{"parentUuid":"nested"}}\r\n'
    )
    path = tmp_path / "s.jsonl"
    path.write_bytes(line)
    fp = read_transcript(path).fingerprint
    apply_parent_changes(path, {"m": None}, fp, backup=False)
    assert path.read_bytes() == line.replace(b'"abc"', b"null")
    fp = read_transcript(path).fingerprint
    apply_parent_changes(path, {"m": 'q"uote'}, fp, backup=False)
    assert path.read_bytes() == line.replace(b'"abc"', b'"q\\"uote"')
    assert read_message(path, read_transcript(path).records[0])["message"] == {
        "parentUuid": "nested"
    }
    assert [p for p in tmp_path.iterdir() if p.name != "s.jsonl"] == []  # no temp or backup left


def test_refuses_when_the_file_changed(tmp_path: Path) -> None:
    session = generate_session(100, seed=2)
    (truth,) = inject(session, "orphan", 1, random.Random(2))
    path = write_generated_session(tmp_path / "s.jsonl", session)
    fp = read_transcript(path).fingerprint
    changes = {truth.message_id or "": truth.true_parent}
    original = path.read_bytes()

    with path.open("ab") as handle:  # Claude Code appended a line
        handle.write(b'{"type":"user"}\n')
    with pytest.raises(TranscriptChangedError, match="changed since it was read"):
        apply_parent_changes(path, changes, fp)

    # Same size, same mtime, different bytes: only the hash notices.
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x20
    path.write_bytes(bytes(flipped))
    os.utime(path, ns=(fp.mtime_ns, fp.mtime_ns))
    with pytest.raises(TranscriptChangedError):
        apply_parent_changes(path, changes, fp)
    assert path.read_bytes() == bytes(flipped)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_unknown_message_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = write_generated_session(tmp_path / "s.jsonl", generate_session(50, seed=1))
    before = path.read_bytes()
    with pytest.raises(RepairWriteError, match="not in"):
        apply_parent_changes(path, {"nope": None}, read_transcript(path).fingerprint)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_preview_is_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    session = generate_session(80, seed=8)
    (truth,) = inject(session, "orphan", 1, random.Random(8))
    path = write_generated_session(tmp_path / "s.jsonl", session)
    before = path.read_bytes()
    diff = preview_parent_changes(path, {truth.message_id or "": truth.true_parent})
    assert diff.startswith("--- a/s.jsonl\n+++ b/s.jsonl\n")
    assert f"@@ -{truth.line} +{truth.line} @@" in diff
    assert f'"parentUuid":"{truth.true_parent}"' in diff.splitlines()[-1]
    assert path.read_bytes() == before


def test_line_without_parent_field_is_refused() -> None:
    with pytest.raises(RepairWriteError, match="no parentUuid"):
        replace_parent(b'{"uuid":"x","data":{"parentUuid":null}}', "y")


_keys = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8).filter(
    lambda k: k != "parentUuid"
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.dictionaries(
        _keys,
        st.recursive(
            st.none() | st.text(max_size=10) | st.integers(-(2**63), 2**63 - 1),
            lambda x: st.lists(x, max_size=3) | st.dictionaries(_keys, x, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    ),
    after=st.dictionaries(_keys, st.text(max_size=10), max_size=3),
    old=st.none() | st.text(max_size=12),
    new=st.none() | st.text(max_size=12),
    spaces=st.sampled_from(["", " ", "  "]),
)
def test_replacement_changes_only_the_value(
    before: dict[str, object],
    after: dict[str, object],
    old: str | None,
    new: str | None,
    spaces: str,
) -> None:
    head = orjson.dumps(before)[:-1]
    sep = b"," if before else b""
    value = orjson.dumps(old)
    tail = orjson.dumps(after)[1:]
    line = (
        head
        + sep
        + b'"parentUuid"'
        + spaces.encode()
        + b":"
        + spaces.encode()
        + value
        + (b"," + tail if after else b"}")
    )
    out = replace_parent(line, new)
    assert orjson.loads(out) == {**orjson.loads(line), "parentUuid": new}
    prefix = len(head + sep) + len(b'"parentUuid"') + 2 * len(spaces) + 1
    assert out[:prefix] == line[:prefix]
    assert out[prefix + len(orjson.dumps(new)) :] == line[prefix + len(value) :]
