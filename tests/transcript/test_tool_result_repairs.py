"""insert_tool_result: a failed result after an unanswered tool call; the next row re-linked."""

from __future__ import annotations

import itertools
import uuid

import orjson

from riff.events.line_edit import apply_edits, mirror_edit, split_segments
from riff.transcript.tool_result_repairs import INTERRUPTED_TEXT, plan_tool_results

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
    return _row(parentUuid=parent, type="user", message={"role": "user", "content": content},
                uuid=uid)  # fmt: skip


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
    assert block == {"type": "tool_result", "tool_use_id": "toolu_a", "content": INTERRUPTED_TEXT,
                     "is_error": True}  # fmt: skip
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
