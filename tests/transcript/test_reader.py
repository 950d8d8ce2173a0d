from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.transcript import reader
from riff.transcript.reader import read_message, read_transcript
from tests.factories import generate_session, write_generated_session

FIELDS = (
    "uuid",
    "parentUuid",
    "logicalParentUuid",
    "type",
    "subtype",
    "timestamp",
    "isSidechain",
    "isMeta",
    "message",
    "leafUuid",
    "sessionId",
    "data",
    "toolUseID",
)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_reads_every_field_it_keeps(tmp_path: Path) -> None:
    line = {
        "parentUuid": "p-1",
        "isSidechain": True,
        "type": "assistant",
        "uuid": "u-1",
        "timestamp": "2025-09-01T10:00:00.123Z",
        "message": {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Hello   there\nworld " + "x" * 200},
                {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}},
            ],
        },
    }
    result = {
        "type": "user",
        "uuid": "u-2",
        "parentUuid": "u-1",
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}],
        },
    }
    path = _write(tmp_path / "s.jsonl", orjson.dumps(line) + b"\n" + orjson.dumps(result) + b"\n")
    transcript = read_transcript(path)
    first, second = transcript.records
    assert (first.uuid, first.parent_uuid, first.type, first.role) == (
        "u-1",
        "p-1",
        "assistant",
        "assistant",
    )
    assert first.is_sidechain and first.tool_use_ids == ("toolu_1",)
    assert first.preview.startswith("Hello there world") and len(first.preview) == 80
    assert (first.line, first.offset) == (1, 0)
    assert second.tool_result_ids == ("toolu_1",) and not second.is_conversation
    assert second.offset == first.length + 1 and second.line == 2
    assert read_message(path, first) == line
    assert transcript.fingerprint.size == path.stat().st_size
    assert transcript.problems == []


def test_reads_message_id_and_compact_summary_on_both_paths(tmp_path: Path) -> None:
    split = [
        {
            "type": "assistant",
            "uuid": f"a{k}",
            "parentUuid": None if k == 0 else f"a{k - 1}",
            "message": {"id": "msg_1", "role": "assistant", "content": [{"type": "text"}]},
        }
        for k in range(2)
    ]
    summary = {
        "type": "user",
        "uuid": "s",
        "parentUuid": None,
        "isCompactSummary": True,
        "message": {"role": "user", "content": "This session is being continued"},
    }
    # An odd-typed field sends a line down the tolerant path: it keeps both fields too.
    odd = {**split[1], "uuid": "a2", "parentUuid": "a1", "isSidechain": "no"}
    odd_summary = {**summary, "uuid": "s2", "timestamp": 5}
    lines = [*split, summary, odd, odd_summary]
    path = _write(tmp_path / "s.jsonl", b"\n".join(map(orjson.dumps, lines)) + b"\n")
    records = read_transcript(path).records
    assert [r.message_id for r in records] == ["msg_1", "msg_1", None, "msg_1", None]
    assert [r.is_compact_summary for r in records] == [False, False, True, False, True]


def test_bad_lines_become_problems_and_reading_goes_on(tmp_path: Path) -> None:
    good = orjson.dumps(
        {
            "type": "user",
            "uuid": "a",
            "parentUuid": None,
            "message": {"role": "user", "content": "hi"},
        }
    )
    data = (
        good
        + b"\n"
        + b"\n   \n"  # blank lines: silently skipped
        + b"\x00" * 50
        + b"\n"  # NUL run: reported
        + b"{not json\n"  # garbage: reported
        + b"[1, 2]\n"  # valid JSON, not an object
        + b"\x00\x00"
        + good.replace(b'"a"', b'"b"')
        + b"\n"  # NULs glued to a line
        + b'{"type": "frobnicate", "uuid": "c", "parentUuid": "b"}\n'  # unknown type
        + good[:20]  # truncated tail
    )
    transcript = read_transcript(_write(tmp_path / "s.jsonl", data))
    kinds = [(p.kind, p.line) for p in transcript.problems]
    assert kinds == [
        ("malformed_line", 4),
        ("malformed_line", 5),
        ("malformed_line", 6),
        ("malformed_line", 7),
        ("truncated_line", 9),
    ]
    assert [r.uuid for r in transcript.records] == ["a", "b", "c"]
    assert transcript.records[2].type == "frobnicate"
    assert transcript.problems[1].offset == data.index(b"{not json")
    assert transcript.line_count == 9


def test_wrong_types_fall_back_to_tolerant_path(tmp_path: Path) -> None:
    line = {
        "type": "user",
        "uuid": "u",
        "parentUuid": 7,
        "isSidechain": "yes",
        "timestamp": 12,
        "message": {"role": "user", "content": [1, "x", {"type": 5}]},
    }
    transcript = read_transcript(_write(tmp_path / "s.jsonl", orjson.dumps(line) + b"\n"))
    (record,) = transcript.records
    assert record.uuid == "u" and record.parent_uuid is None and record.timestamp is None
    assert not record.is_sidechain


def test_generated_session_reads_clean(tmp_path: Path) -> None:
    session = generate_session(300, seed=3)
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    assert transcript.problems == []
    assert len(transcript.records) == len(session.lines)
    assert transcript.last_prompt_leaf is not None
    assert transcript.session_id == session.session_id
    for record, line in zip(transcript.records, session.lines, strict=True):
        assert isinstance(line, dict)
        assert record.uuid == line.get("uuid")
    some = transcript.messages[len(transcript.messages) // 2]
    assert read_message(transcript.path, some)["uuid"] == some.uuid


def _check_never_raises_and_reports(path: Path, data: bytes) -> None:
    transcript = read_transcript(path)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    assert transcript.line_count == len(lines)
    reported = {p.line for p in transcript.problems} | {r.line for r in transcript.records}
    for number, raw in enumerate(lines, start=1):
        payload = raw.strip(b" \t\r\n\x00")
        if not payload:
            continue
        try:
            ok = isinstance(json.loads(payload.decode("utf-8")), dict)
        except (ValueError, RecursionError):
            ok = False
        assert number in reported, (number, raw[:80])
        if not ok:
            assert number in {p.line for p in transcript.problems}


_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path / "r.jsonl", data)
    _check_never_raises_and_reports(path, data)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what orjson can write
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@_SETTINGS
@given(
    seed=st.integers(0, 10_000),
    mutations=st.lists(
        st.tuples(
            st.sampled_from(["cut", "nul", "deep", "huge", "wrongtype", "garbage"]),
            st.integers(0, 10_000),
            st.sampled_from(FIELDS),
            _json_values,
        ),
        max_size=6,
    ),
)
def test_mutated_sessions_never_crash(
    tmp_path: Path, seed: int, mutations: list[tuple[str, int, str, object]]
) -> None:
    session = generate_session(30, seed=seed, compactions=False)
    lines = [orjson.dumps(x) if isinstance(x, dict) else x for x in session.lines]
    for action, where, field, value in mutations:
        i = where % len(lines)
        if action == "cut":
            lines[i] = lines[i][: where % max(1, len(lines[i]))]
        elif action == "nul":
            lines.insert(i, b"\x00" * (where % 300 + 1))
        elif action == "deep":
            lines.insert(i, b"[" * 5000 + b"]" * 5000)
        elif action == "huge":
            lines.insert(
                i,
                orjson.dumps(
                    {
                        "type": "user",
                        "uuid": f"h{i}",
                        "message": {"role": "user", "content": "z" * 2_000_000},
                    }
                ),
            )
        elif action == "wrongtype":
            obj = (
                orjson.loads(lines[i])
                if lines[i].startswith(b"{") and lines[i].endswith(b"}")
                else {}
            )
            if isinstance(obj, dict):
                obj[field] = value
                lines[i] = orjson.dumps(obj)
        else:
            lines.insert(
                i, bytes((where * 7 + k) % 256 for k in range(where % 200)).replace(b"\n", b"")
            )
    data = b"\n".join(lines) + (b"\n" if where_ends_with_newline(seed) else b"")
    path = _write(tmp_path / "m.jsonl", data)
    _check_never_raises_and_reports(path, data)


def where_ends_with_newline(seed: int) -> bool:
    return seed % 2 == 0


@pytest.mark.parametrize("buffer", [7, 64, 1 << 19])
def test_fingerprint_hashes_every_chunk_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buffer: int
) -> None:
    # The hashing thread runs behind the reader: every chunk must still be
    # hashed once, in file order, including a last line without a newline.
    monkeypatch.setattr(reader, "READ_CHUNK_BYTES", buffer)
    path = write_generated_session(tmp_path / "s.jsonl", generate_session(60, seed=5))
    data = path.read_bytes() + b'{"type":"summary","summary":"cut'
    path.write_bytes(data)
    transcript = read_transcript(path)
    assert transcript.fingerprint.sha256 == hashlib.sha256(data).hexdigest()
    assert transcript.fingerprint.size == len(data)
    assert [p.kind for p in transcript.problems] == ["truncated_line"]


@pytest.mark.parametrize(
    ("line", "why", "claude_code"),
    [
        (b'{"type":"user","uuid":"b","parentUuid":"a"}{"type":"summary","leafUuid":"b"}',
         "two rows written onto one line", "2.1 reads the first row"),
        (b'{"type":"user","uuid":"b","parentUuid":"a"}x',
         "1 byte after a whole row", "2.1 reads the row"),
        (b'{"type":"assistant","uuid":"b","mess{"type":"user","uuid":"c","parentUuid":"a"}',
         "of no JSON, then a whole row", "Claude Code skips it"),
        (b'{"type":"user","uuid":"b","parentUuid":"a","x":' + b"[" * 5000 + b"]" * 5000 + b"}",
         "nested over 4096 levels deep", "deeper than Claude Code can send"),
    ],
)  # fmt: skip
def test_an_unread_line_says_why_and_what_claude_code_does_with_it(
    tmp_path: Path, line: bytes, why: str, claude_code: str
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"type":"user","uuid":"a","parentUuid":null}\n' + line + b"\n")
    [problem] = read_transcript(path).problems
    assert why in problem.reason and claude_code in problem.claude_code
