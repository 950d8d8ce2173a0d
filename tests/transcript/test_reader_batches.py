"""The column-at-a-time reader against a plain per-line reading of the same lines.

The reader builds its columns for a whole chunk of lines at once (C loops over
each field); these tests compare every record with what one line read on its
own says, on sessions whose lines are shuffled (parents further down the same
chunk), duplicated, stripped of timestamps or tool ids, and mixed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from riff.transcript.errors import RepairWriteError
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_transcript
from riff.transcript.records import Columns
from riff.transcript.write import apply_parent_changes
from tests.factories import generate_session


def _expected(line: dict[str, Any]) -> dict[str, Any]:
    """What riff keeps of one line, worked out from that line alone."""
    message = line.get("message") if isinstance(line.get("message"), dict) else {}
    content = message.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    uses = tuple(b["id"] for b in blocks if b.get("type") == "tool_use" and b.get("id"))
    results = tuple(
        b["tool_use_id"] for b in blocks if b.get("type") == "tool_result" and b.get("tool_use_id")
    )
    has_text = (
        isinstance(content, str)
        or line.get("content") is not None
        or any(
            b.get("type") == "image" or (b.get("type") == "text" and b.get("text") is not None)
            for b in blocks
        )
    )
    meta = line.get("isMeta") is True
    kind = line.get("type")
    return {
        "type": kind,
        "uuid": line.get("uuid"),
        "parent_uuid": line.get("parentUuid"),
        "logical_parent_uuid": line.get("logicalParentUuid"),
        "timestamp": line.get("timestamp"),
        "is_sidechain": line.get("isSidechain") is True,
        "is_meta": meta,
        "is_compact_summary": line.get("isCompactSummary") is True,
        "is_conversation": line.get("uuid") is not None
        and (kind == "assistant" or (kind == "user" and not meta and (has_text or not results))),
        "tool_use_ids": uses,
        "tool_result_ids": results,
        "tool_ref": line.get("parentToolUseID") or line.get("toolUseID"),
        "leaf_uuid": line.get("leafUuid"),
        "message_id": message.get("id"),
    }


def _mixed_lines(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    lines = [x for x in generate_session(400, seed=seed).lines if isinstance(x, dict)]
    rng.shuffle(lines)  # parents now often come later in the same chunk
    lines += [dict(rng.choice(lines)) for _ in range(20)]  # duplicated uuids
    for line in rng.sample(lines, 30):
        line.pop("timestamp", None)
    line = rng.choice([x for x in lines if "uuid" in x])
    line["parentUuid"] = line["uuid"]  # a line naming itself
    rng.shuffle(lines)
    return lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_record_matches_its_line_read_alone(tmp_path: Path, seed: int) -> None:
    lines = _mixed_lines(seed)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))

    records = list(read_transcript(path).records)

    assert len(records) == len(lines)
    for record, line in zip(records, lines, strict=True):
        expected = _expected(line)
        got = {name: getattr(record, name) for name in expected}
        assert got == expected, f"line {record.line}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cycles_found_as_without_columns(tmp_path: Path, seed: int) -> None:
    lines = _mixed_lines(seed)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    transcript = read_transcript(path)
    plain = MessageGraph(
        (line["uuid"], line.get("parentUuid")) for line in lines if line.get("uuid") is not None
    )

    graph = MessageGraph.from_records(transcript.records)

    assert sorted(map(sorted, graph.cycles())) == sorted(map(sorted, plain.cycles()))
    assert sorted(map(sorted, plain.cycles()))  # the self-named line is one


def test_batched_columns_equal_columns_of_plain_records(tmp_path: Path) -> None:
    lines = _mixed_lines(4)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    transcript = read_transcript(path)
    cols = transcript.columns
    plain = Columns.from_records(list(transcript.records), path)

    assert list(cols.par) == list(plain.par)
    assert list(cols.uid) == list(plain.uid)
    assert sorted(cols.forward) == sorted(plain.forward)
    assert cols.duplicates == plain.duplicates
    assert sorted(cols.ts_suspects) == sorted(plain.ts_suspects)


def test_a_report_only_read_has_no_hash_and_cannot_be_written(tmp_path: Path) -> None:
    session = generate_session(20, seed=5)
    path = tmp_path / "s.jsonl"
    path.write_bytes(session.to_bytes())
    transcript = read_transcript(path, content_hash=False)
    message = transcript.messages[3]

    assert transcript.fingerprint.sha256 is None
    assert read_transcript(path).fingerprint.sha256 is not None
    with pytest.raises(RepairWriteError, match="without its content hash"):
        apply_parent_changes(path, {message.uuid or "": None}, transcript.fingerprint)
    assert path.read_bytes() == session.to_bytes()
