"""The columnar storage behind Transcript.records: same answers as plain records."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

import orjson
import pytest

from riff.maps import values_for
from riff.transcript import reader, records
from riff.transcript.detect import build_graph, detect_findings
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_transcript
from riff.transcript.records import RowStrings, Transcript, message_keys
from riff.transcript.resume import resume_loss_count
from tests.factories import generate_session, inject, write_generated_session
from tests.realdata.corpus import dev_files, real_client_files


def _write(path: Path, lines: list[object]) -> Path:
    data = b"".join(
        (line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines
    )
    path.write_bytes(data)
    return path


def test_line_numbers_skip_blank_and_bad_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.jsonl",
        [
            {"type": "user", "uuid": "a"},
            b"",
            b"{not json",
            {"type": "assistant", "uuid": "b", "parentUuid": "a"},
            b"   ",
            {"type": "user", "uuid": "c", "parentUuid": "b"},
        ],
    )
    transcript = read_transcript(path)
    assert [r.line for r in transcript.records] == [1, 4, 6]
    assert [p.line for p in transcript.problems] == [3]
    first = len(orjson.dumps({"type": "user", "uuid": "a"})) + 1
    assert transcript.records[1].offset == first + len(b"\n") + len(b"{not json\n")
    assert transcript.line_count == 6


def test_more_than_256_shapes(tmp_path: Path) -> None:
    lines: list[object] = [{"type": f"kind-{k}", "uuid": f"u{k}"} for k in range(300)]
    transcript = read_transcript(_write(tmp_path / "s.jsonl", lines))
    assert [r.type for r in transcript.records] == [f"kind-{k}" for k in range(300)]


def test_odd_timestamps_are_kept_normalised(tmp_path: Path) -> None:
    stamps = [
        "2025-09-01T10:00:00.000Z",
        "2025-09-01T12:00:00+02:00",  # same moment, other zone
        "2025-09-01T10:00:0\u00e9.000Z",  # canonical shape, not ASCII
        "nonsense",
        None,
    ]
    lines: list[object] = [
        {"type": "user", "uuid": f"u{k}", "timestamp": ts} for k, ts in enumerate(stamps)
    ]
    transcript = read_transcript(_write(tmp_path / "s.jsonl", lines))
    assert [r.timestamp for r in transcript.records] == [
        "2025-09-01T10:00:00.000Z",
        "2025-09-01T10:00:00.000Z",
        "2025-09-01T10:00:0\u00e9.000Z",
        None,
        None,
    ]


def test_forward_and_self_parents_make_cycles(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.jsonl",
        [
            {"type": "user", "uuid": "root"},
            {"type": "assistant", "uuid": "a", "parentUuid": "b"},
            {"type": "user", "uuid": "b", "parentUuid": "a"},
            {"type": "assistant", "uuid": "self", "parentUuid": "self"},
        ],
    )
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    assert graph.cycles() == [["a", "b"], ["self"]]
    assert transcript.records[1].parent_uuid == "b"
    kinds = [f.kind for f in detect_findings(transcript, graph=graph)]
    assert kinds.count("cycle") == 2


def test_columns_and_plain_records_agree(tmp_path: Path) -> None:
    session = generate_session(400, seed=3)
    rng = random.Random(3)
    inject(session, "orphan", 2, rng)
    inject(session, "unexpected_root", 1, rng)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    transcript = read_transcript(path)
    plain = list(transcript.records)
    from_columns = build_graph(transcript)
    from_list = MessageGraph.from_records(plain)
    assert list(from_columns) == list(from_list)
    assert from_columns.parent_map() == from_list.parent_map()
    assert [list(from_columns.child_indices(i)) for i in range(len(from_columns))] == [
        list(from_list.child_indices(i)) for i in range(len(from_list))
    ]
    assert resume_loss_count(from_columns, transcript.last_prompt_leaf) == resume_loss_count(
        from_list, transcript.last_prompt_leaf
    )
    assert list(from_columns.records or []) == list(from_list.records or [])
    assert [r.preview for r in plain] == [r.preview for r in transcript.records]
    assert transcript.by_uuid() == {r.uuid: r for r in reversed(transcript.messages)}


def test_parent_and_timestamp_maps_match_the_records(tmp_path: Path) -> None:
    session = generate_session(400, seed=5)
    for kind in ("orphan", "unexpected_root", "duplicate_uuid", "cycle"):
        inject(session, kind, 1)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    transcript = read_transcript(path)
    by_uuid = transcript.by_uuid()
    assert transcript.parent_map() == {u: r.parent_uuid for u, r in by_uuid.items()}
    assert transcript.timestamp_map() == {u: r.timestamp for u, r in by_uuid.items()}


def _plain_maps(transcript: Transcript) -> tuple[dict[str, str | None], dict[str, str | None]]:
    by_uuid = transcript.by_uuid()
    return (
        {u: r.parent_uuid for u, r in by_uuid.items()},
        {u: r.timestamp for u, r in by_uuid.items()},
    )


def _assert_reads_as(column_map: Mapping[str, str | None], plain: dict[str, str | None]) -> None:
    """Every way of reading a column-backed map gives the plain dict's answer, in its order."""
    assert list(column_map.items()) == list(plain.items())
    assert list(column_map.values()) == list(plain.values())
    assert len(column_map) == len(plain)
    assert [column_map.get(key) for key in plain] == list(plain.values())
    assert column_map.get("not-a-uuid", "none") == "none"
    assert "not-a-uuid" not in column_map
    backwards = list(reversed(list(plain)))
    assert list(values_for(column_map, backwards)) == [plain[key] for key in backwards]
    with pytest.raises(KeyError):
        column_map["not-a-uuid"]


@pytest.mark.parametrize("block", [2, 1 << 16])
def test_maps_with_odd_and_missing_timestamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Stamps in other forms (kept aside or rewritten canonical), none at all, a
    parent the file does not hold, and a uuid on two lines."""
    rows = [
        b'{"type":"user","uuid":"a","parentUuid":null,"timestamp":"2025-01-01T00:00:00.000Z"}',
        b'{"type":"assistant","uuid":"b","parentUuid":"a","timestamp":"2025-01-01T00:00:01Z"}',
        b'{"type":"user","uuid":"c","parentUuid":"b"}',
        b'{"type":"user","uuid":"d","parentUuid":"gone","timestamp":"yesterday"}',
        b'{"type":"user","uuid":"e","parentUuid":"d","timestamp":"2025-01-01T01:00:00+01:00"}',
        b'{"type":"user","uuid":"b","parentUuid":"e","timestamp":"2025-01-01T00:00:09.000Z"}',
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    monkeypatch.setattr(records, "_STAMP_BLOCK", block)  # timestamps decoded 2 nodes at a time
    transcript = read_transcript(path)
    assert (transcript.parent_map(), transcript.timestamp_map()) == _plain_maps(transcript)
    assert transcript.parent_map()["d"] == "gone"
    plain_parents, plain_stamps = _plain_maps(transcript)
    _assert_reads_as(transcript.parent_map(), plain_parents)
    _assert_reads_as(transcript.timestamp_map(), plain_stamps)
    assert transcript.parent_map().key_positions() == {u: i for i, u in enumerate(plain_parents)}


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.name[:60]) for p in real_client_files() + dev_files()]
)
def test_maps_of_real_transcripts(path: Path) -> None:
    transcript = read_transcript(path)
    assert (transcript.parent_map(), transcript.timestamp_map()) == _plain_maps(transcript)
    plain_parents, plain_stamps = _plain_maps(transcript)
    _assert_reads_as(transcript.parent_map(), plain_parents)
    _assert_reads_as(transcript.timestamp_map(), plain_stamps)


def test_message_keys_are_equal_exactly_where_the_ids_are() -> None:
    ids = ["msg_1", None, "msg_2", "msg_1", "", "msg_2"]
    keys = list(message_keys(ids))
    assert keys[1] == keys[4] == 0  # no id, or an empty one: no response
    assert keys[0] == keys[3] != keys[2] == keys[5]
    assert 0 not in (keys[0], keys[2])


@pytest.mark.parametrize("chunk", [64, 1 << 17])
def test_parents_found_from_the_record_before_or_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A parent that is the record before is taken from it, the others from the index:
    across batch boundaries (a batch per 64-byte chunk), after a record without a uuid,
    after a repeated uuid, for a missing parent and for a cycle."""
    monkeypatch.setattr(reader, "READ_CHUNK_BYTES", chunk)
    monkeypatch.setattr(reader, "_BATCH_BYTES", 1)
    rows: list[dict[str, object]] = [
        {"type": "user", "uuid": "a", "parentUuid": None},
        {"type": "assistant", "uuid": "b", "parentUuid": "a"},
        {"type": "summary", "summary": "no uuid", "parentUuid": "b"},
        {"type": "user", "uuid": "c", "parentUuid": None},
        {"type": "assistant", "uuid": "d", "parentUuid": "c"},
        {"type": "assistant", "uuid": "c", "parentUuid": "d"},
        {"type": "user", "uuid": "f", "parentUuid": "c"},
        {"type": "user", "uuid": "g", "parentUuid": "gone"},
        {"type": "assistant", "uuid": "h", "parentUuid": "g"},
        {"type": "user", "uuid": "i", "parentUuid": "a"},
        {"type": "user", "uuid": "j", "parentUuid": "k"},
        {"type": "assistant", "uuid": "k", "parentUuid": "j"},
        {"type": "user", "uuid": "l", "parentUuid": "l"},
    ]
    path = _write(tmp_path / "s.jsonl", list(rows))
    transcript = read_transcript(path)
    expected: dict[str, object] = {}
    for row in rows:
        if "uuid" in row:
            expected.setdefault(str(row["uuid"]), row["parentUuid"])
    assert transcript.parent_map() == expected
    assert [r.parent_uuid for r in transcript.records] == [row["parentUuid"] for row in rows]
    assert sorted(map(sorted, build_graph(transcript).cycles())) == [["j", "k"], ["l"]]


def test_a_sparse_column_answers_by_record() -> None:
    refs = RowStrings()
    refs.append(3, "toolu_a")
    refs.extend(iter([5, 9]), iter(["toolu_b", "toolu_a"]))
    assert len(refs) == 3
    assert [refs.get(i) for i in range(11)] == [
        *[None] * 3,
        "toolu_a",
        None,
        "toolu_b",
        *[None] * 3,
        "toolu_a",
        None,
    ]
    with pytest.raises(ValueError, match="not aligned"):
        refs.extend([10, 11], ["only one"])
