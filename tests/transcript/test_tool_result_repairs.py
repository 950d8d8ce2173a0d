"""insert_tool_result: a failed result after an unanswered tool call; the next row re-linked."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from riff.events.line_edit import apply_edits, mirror_edit, split_segments
from riff.transcript.api_rules import api_violations_of_bytes
from riff.transcript.findings import API_SERVER_TOOL_NOT_ANSWERED, API_TOOL_RESULT_NOT_AFTER_USE
from riff.transcript.tool_result_repairs import (
    INTERRUPTED_TEXT,
    NEUTRAL_HEADER,
    plan_tool_results,
)

U = "0b6e3c2e-9a57-4c0e-a4f5-00000000000"


def _row(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def _use(uid: str, parent: str, call: str, reply: str = "msg_1") -> bytes:
    content = [{"type": "tool_use", "id": call, "name": "Bash", "input": {}}]
    return _row(
        parentUuid=parent,
        sessionId="s",
        type="assistant",
        message={"id": reply, "role": "assistant", "content": content},
        uuid=uid,
        timestamp="2026-11-29T10:00:00.000Z",
    )


def _result(uid: str, parent: str, call: str) -> bytes:
    content = [{"type": "tool_result", "tool_use_id": call, "content": "ok"}]
    return _row(
        parentUuid=parent, type="user", message={"role": "user", "content": content}, uuid=uid
    )


def _text(uid: str, parent: str) -> bytes:
    return _row(
        parentUuid=parent, type="user", message={"role": "user", "content": "next"}, uuid=uid
    )


def _fresh() -> uuid.UUID:
    return uuid.UUID(int=0xF00 + next(_counter))


_counter = itertools.count()


def _applied(data: bytes) -> tuple[bytes, list]:  # type: ignore[type-arg]
    plan = plan_tool_results(data, new_uuid=_fresh)
    blobs = {k: v for p in plan for k, v in p.edit.blobs().items()}
    return apply_edits(data, [p.edit.to_value() for p in plan], blobs), plan


def test_unanswered_call_gets_a_result_and_the_next_row_is_relinked() -> None:
    data = _text(U + "1", "").replace(b'"parentUuid":""', b'"parentUuid":null')
    data += _use(U + "2", U + "1", "toolu_a") + _text(U + "3", U + "2")
    repaired, plan = _applied(data)
    assert len(plan) == 1
    segments = split_segments(repaired)
    assert len(segments) == 4
    inserted = orjson.loads(segments[2])
    assert inserted["parentUuid"] == U + "2" and inserted["uuid"] == plan[0].message_id
    block = inserted["message"]["content"][0]
    assert block == {
        "type": "tool_result",
        "tool_use_id": "toolu_a",
        "content": INTERRUPTED_TEXT,
        "is_error": True,
    }
    assert orjson.loads(segments[3])["parentUuid"] == inserted["uuid"]
    # Only the parentUuid value of the next row changed.
    assert segments[3].replace(inserted["uuid"].encode(), (U + "2").encode()) == _text(
        U + "3", U + "2"
    )
    # Nothing left to do, and the mirror edit restores the bytes exactly.
    assert plan_tool_results(repaired) == []
    undo = mirror_edit(plan[0].edit.to_value())
    assert apply_edits(repaired, [undo], plan[0].edit.blobs()) == data


def test_answered_calls_and_untouched_files_are_left_alone() -> None:
    data = _use(U + "2", U + "1", "toolu_a") + _result(U + "3", U + "2", "toolu_a")
    assert plan_tool_results(data) == []


def test_a_split_reply_gets_one_result_after_its_last_row() -> None:
    data = (
        _use(U + "2", U + "1", "toolu_a")
        + _use(U + "4", U + "2", "toolu_b")  # same message.id: one reply over two rows
        + _text(U + "5", U + "4")
    )
    repaired, plan = _applied(data)
    assert len(plan) == 1
    segments = split_segments(repaired)
    inserted = orjson.loads(segments[2])
    assert inserted["parentUuid"] == U + "4"
    assert [b["tool_use_id"] for b in inserted["message"]["content"]] == ["toolu_a", "toolu_b"]
    assert orjson.loads(segments[3])["parentUuid"] == inserted["uuid"]


def test_a_call_at_the_end_of_the_file_gets_its_result_appended() -> None:
    data = _use(U + "2", U + "1", "toolu_a")
    repaired, plan = _applied(data)
    assert len(split_segments(repaired)) == 2
    undo = mirror_edit(plan[0].edit.to_value())
    assert apply_edits(repaired, [undo], plan[0].edit.blobs()) == data


def _assistant(uid: str, parent: str, reply: str, *blocks: object) -> bytes:
    return _row(
        parentUuid=parent,
        type="assistant",
        message={"id": reply, "role": "assistant", "content": list(blocks)},
        uuid=uid,
    )


def _violations(data: bytes) -> list[tuple[str, str]]:
    return [v.key for v in api_violations_of_bytes(data)]


def test_an_unanswered_server_tool_gets_its_error_result_in_the_same_response() -> None:
    use = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
    data = (
        _text(U + "1", "").replace(b'"parentUuid":""', b'"parentUuid":null')
        + _assistant(U + "2", U + "1", "msg_9", use)
        + _assistant(U + "3", U + "2", "msg_9", {"type": "text", "text": "found it"})
        + _text(U + "4", U + "3")
    )
    assert _violations(data) == [(API_SERVER_TOOL_NOT_ANSWERED, "srvtoolu_1")]
    repaired, plan = _applied(data)
    assert [p.kind for p in plan] == ["insert_tool_result"]
    assert plan[0].fixes == ((API_SERVER_TOOL_NOT_ANSWERED, "srvtoolu_1"),)
    segments = split_segments(repaired)
    inserted = orjson.loads(segments[2])
    assert inserted["type"] == "assistant" and inserted["message"]["id"] == "msg_9"
    assert inserted["message"]["content"] == [
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": {"type": "web_search_tool_result_error", "error_code": "unavailable"},
        }
    ]
    assert orjson.loads(segments[3])["parentUuid"] == inserted["uuid"]
    assert _violations(repaired) == []
    undo = mirror_edit(plan[0].edit.to_value())
    assert apply_edits(repaired, [undo], plan[0].edit.blobs()) == data


def test_a_result_whose_call_was_compacted_away_becomes_text() -> None:
    orphan = {"type": "tool_result", "tool_use_id": "toolu_gone", "content": "42 files"}
    data = (
        _row(
            parentUuid=None,
            type="system",
            subtype="compact_boundary",
            uuid=U + "0",
            logicalParentUuid="before",
        )
        + _row(
            parentUuid=U + "0",
            type="user",
            isCompactSummary=True,
            uuid=U + "1",
            message={"role": "user", "content": "summary"},
        )
        + _assistant(U + "2", U + "1", "msg_1", {"type": "text", "text": "ok"})
        + _row(
            parentUuid=U + "2",
            type="user",
            uuid=U + "3",
            message={"role": "user", "content": [orphan]},
        )
        + _assistant(U + "4", U + "3", "msg_2", {"type": "text", "text": "done"})
    )
    assert _violations(data) == [(API_TOOL_RESULT_NOT_AFTER_USE, "toolu_gone")]
    repaired, plan = _applied(data)
    assert [p.kind for p in plan] == ["neutralize_tool_result"]
    assert plan[0].message_id == U + "3"
    row = orjson.loads(split_segments(repaired)[3])
    text = NEUTRAL_HEADER.format(call_id="toolu_gone") + "\n42 files"
    assert row["message"]["content"] == [{"type": "text", "text": text}]
    assert _violations(repaired) == []
    # Only that line changed, and the mirror gives the bytes back.
    assert split_segments(repaired)[:3] == split_segments(data)[:3]
    assert split_segments(repaired)[4:] == split_segments(data)[4:]
    undo = mirror_edit(plan[0].edit.to_value())
    assert apply_edits(repaired, [undo], plan[0].edit.blobs()) == data


def test_neutralized_blocks_go_after_the_rows_valid_results() -> None:
    blocks = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_gone",
            "content": [{"type": "text", "text": ""}, {"type": "text", "text": "x"}],
        },
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "ok"},
    ]
    data = (
        _text(U + "1", "").replace(b'"parentUuid":""', b'"parentUuid":null')
        + _use(U + "2", U + "1", "toolu_a")
        + _row(
            parentUuid=U + "2",
            type="user",
            uuid=U + "3",
            message={"role": "user", "content": blocks},
        )
    )
    repaired, _ = _applied(data)
    content = orjson.loads(split_segments(repaired)[2])["message"]["content"]
    assert [b["type"] for b in content] == ["tool_result", "text", "text"]
    assert content[2] == {"type": "text", "text": "x"}  # the empty inner text is left out
    assert _violations(repaired) == []


def test_a_call_compacted_while_it_ran_is_left_alone() -> None:
    # Real 2.1.39 shape: the call is the last row before a compact_boundary; resume
    # never sends it, so nothing is inserted (the file stays as it is).
    data = (
        _text(U + "1", "").replace(b'"parentUuid":""', b'"parentUuid":null')
        + _use(U + "2", U + "1", "toolu_a")
        + _row(
            parentUuid=None,
            type="system",
            subtype="compact_boundary",
            uuid=U + "3",
            logicalParentUuid=U + "2",
        )
        + _text(U + "4", U + "3")
    )
    assert plan_tool_results(data) == []


@pytest.mark.parametrize(
    "recording", ["real_2.0.77_parallel_interactive", "real_2.1.332_hooks", "real_2.1.332_parallel"]
)
def test_a_lost_result_is_replaced_where_the_conversation_goes_on(recording: str) -> None:
    """Lose a call's result and re-link its child to the lost row's parent (the call's
    row), as riff's suggestion does. The inserted result goes under that call's row
    and the child under it, so the chain resume follows holds the call and its
    answer again: 2.0.x hangs each parallel call's result under its call (not under
    the reply's last row), and 2.1.x hooks write an attachment under the call before
    its result (the first child in file order, a leaf). The real 2.0.77 CLI dropped
    the call's row when the result went elsewhere. Other rows keep their parents."""
    folder = Path(__file__).parents[1] / "fixtures" / "real_client" / recording
    (path,) = [
        p for p in folder.glob("*.jsonl") if p.stat().st_size and not p.name.startswith("agent-")
    ]
    rows = [orjson.loads(s) for s in split_segments(path.read_bytes())]
    by_uuid = {r.get("uuid"): r for r in rows}

    def is_result(r: dict[str, Any]) -> bool:
        content = r.get("message", {}).get("content") if r.get("type") == "user" else None
        return isinstance(content, list) and content[0].get("type") == "tool_result"

    lost = next(
        r
        for r in rows
        if is_result(r)
        and any(c.get("parentUuid") == r["uuid"] and c["type"] != "progress" for c in rows)
    )
    call_row = by_uuid[lost["parentUuid"]]
    child = next(c for c in rows if c.get("parentUuid") == lost["uuid"])
    kept = [r for r in rows if r is not lost]
    child["parentUuid"] = call_row["uuid"]
    broken = b"".join(orjson.dumps(r) + b"\n" for r in kept)

    edits = plan_tool_results(broken, new_uuid=lambda: "synthetic")
    blobs = {k: v for p in edits for k, v in p.edit.blobs().items()}
    repaired_bytes = apply_edits(broken, [p.edit.to_value() for p in edits], blobs)
    repaired = [orjson.loads(s) for s in split_segments(repaired_bytes)]

    (inserted,) = [r for r in repaired if r.get("uuid") == "synthetic"]
    assert inserted["parentUuid"] == call_row["uuid"]
    parents = {r.get("uuid"): r.get("parentUuid") for r in repaired}
    assert parents[child["uuid"]] == "synthetic"
    assert {u: p for u, p in parents.items() if u not in ("synthetic", child["uuid"])} == {
        r.get("uuid"): r.get("parentUuid") for r in kept if r.get("uuid") != child["uuid"]
    }
