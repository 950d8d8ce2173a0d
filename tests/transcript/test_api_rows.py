"""The API rules read a row through a decoder of only the fields they use.

Held equal, as the rules see rows (through `.get`), to the general path
(orjson of the whole line, then `_slim`) on generated sessions, on odd rows
written here, and on every real transcript present; and a huge text is not
decoded (the 100 MB-line bound of the scan holds with the rules on).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

from riff.transcript.api_rules import _LineSource, _slim, api_violations
from riff.transcript.detect import build_graph
from riff.transcript.reader import read_transcript
from tests.factories import generate_session, write_generated_session
from tests.realdata.corpus import dev_files, real_client_files

_BLOCK_KEYS = ("type", "id", "tool_use_id", "name", "text")


def _seen(value: dict[str, Any] | None) -> Any:
    """A row as the rules read it."""
    if value is None:
        return None
    row = tuple(value.get(k) for k in ("type", "isSidechain", "isMeta", "isApiErrorMessage"))
    message = value.get("message")
    if not isinstance(message, dict):
        return row, "no message"
    content = message.get("content")
    if isinstance(content, list):
        blocks = [
            tuple(b.get(k) for k in _BLOCK_KEYS) if isinstance(b, dict) else "not a block"
            for b in content
        ]
        return row, blocks
    return row, content == "", content == [], content is None


def _general(data: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            value = orjson.loads(data.strip(b" \t\r\n\x00"))
        except orjson.JSONDecodeError:
            return None
    return _slim(value) if isinstance(value, dict) else None


def _check(path: Path) -> None:
    transcript = read_transcript(path, content_hash=False)
    cols = transcript.columns
    source = _LineSource(transcript)
    try:
        with path.open("rb") as handle:
            for rec in range(len(cols)):
                handle.seek(cols.offset[rec])
                data = handle.read(cols.length[rec])
                assert _seen(source.value(rec)) == _seen(_general(data)), data[:200]
    finally:
        source.close()


_ODD_ROWS = [
    {"type": "user", "message": {"role": "user", "content": ""}},
    {"type": "user", "message": {"role": "user", "content": []}},
    {"type": "user", "message": {"role": "user", "content": None}},
    {"type": "user", "message": {"role": "user"}},
    {"type": "user", "message": "not an object"},
    {"type": "user", "message": None},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": ""}]}},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": None}]}},
    {"type": "assistant", "message": {"content": [{"type": "text"}]}},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": "\u00e9"}]}},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": 5}]}},
    {"type": "assistant", "message": {"content": ["a string block", {"type": "text"}]}},
    {"type": 7, "isSidechain": "yes", "isMeta": 0, "message": {"content": 3}},
    {"type": "assistant", "isApiErrorMessage": True, "message": {"content": [{"id": 5}]}},
    {
        "type": "assistant",
        "message": {"content": [{"type": "server_tool_use", "id": "srv_1", "name": "web"}]},
    },
]


def test_odd_rows_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    rows = [orjson.dumps({**row, "uuid": f"u{i}"}) for i, row in enumerate(_ODD_ROWS)]
    rows.append(b'{"type":"user","uuid":"pad","message":{"content":"x"}}\x00\x00')
    rows.append(b'{"type": "user" , "uuid": "spaced", "message" : {"content" : [ ] } }')
    path.write_bytes(b"\n".join(rows) + b"\n")
    _check(path)


@pytest.mark.parametrize("seed", range(4))
def test_generated_rows_read_alike(tmp_path: Path, seed: int) -> None:
    session = generate_session(300, seed=seed, inline_sidechains=seed % 2 == 1)
    _check(write_generated_session(tmp_path / "s.jsonl", session))


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.name[:60]) for p in real_client_files() + dev_files()]
)
def test_real_rows_read_alike(path: Path) -> None:
    _check(path)


def test_a_huge_text_on_the_chain_is_not_decoded(tmp_path: Path) -> None:
    session = generate_session(20, seed=3)
    size = 20_000_000
    for line in session.lines:
        if line.get("type") == "user" and isinstance(line.get("message"), dict):
            line["message"] = {"role": "user", "content": "x" * size}
            break
    path = write_generated_session(tmp_path / "big.jsonl", session)
    transcript = read_transcript(path, content_hash=False)
    graph = build_graph(transcript)
    tracemalloc.start()
    try:
        api_violations(transcript, graph)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * size  # the line read once; not its text decoded beside it
