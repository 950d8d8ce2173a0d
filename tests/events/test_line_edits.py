"""Format 2: line-edit events, their digests and chains, reverts, and v1 exports unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riff.events import (
    ChainHead,
    EventDraft,
    EventKind,
    EventValidationError,
    RepairEvent,
    RevertError,
    create_revert_event,
    seal_event,
    validate_event_immutability,
)
from riff.events.audit import verify_export
from riff.events.canonical import compute_event_digest, reference_canonical_bytes
from riff.events.export import load_export, write_export
from riff.events.line_edit import (
    LineEdit,
    LineEditError,
    apply_edits,
    blob_id,
    split_segments,
)
from riff.transcript import json_line
from riff.transcript.line_repairs import plan_line_edits
from tests.event_factories import TickingClock

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events_v1"
U = "0b6e3c2e-9a57-4c0e-a4f5-00000000000"


def _row(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


ROW_A = _row(type="user", uuid=U + "1", parentUuid=None)
ROW_B = _row(type="assistant", uuid=U + "2", parentUuid=U + "1")
ROW_C = _row(type="user", uuid=U + "3", parentUuid=U + "2")


def _seal_plan(data: bytes, clock: TickingClock) -> tuple[list[RepairEvent], dict[str, bytes]]:
    head = ChainHead("s-line")
    events: list[RepairEvent] = []
    blobs: dict[str, bytes] = {}
    for planned in plan_line_edits(data).edits:
        draft = EventDraft(
            planned.message_id,
            None,
            None,
            "alice",
            reason=planned.reason,
            kind=EventKind(planned.kind),
            edit=planned.edit.to_value(),
        )
        event = seal_event(head, draft, clock=clock)
        head = head.advanced_by(event)
        events.append(event)
        blobs.update(planned.edit.blobs())
    return events, blobs


def _revert_all(events: list[RepairEvent], clock: TickingClock) -> list[RepairEvent]:
    log = list(events)
    for target in reversed(events):
        log.append(create_revert_event(target, log, operator="bob", clock=clock))
    return log


# ------------------------------------------------------------------ the format


def test_a_line_edit_event_is_format_2_and_its_digest_covers_the_edit() -> None:
    edit = LineEdit(2, (b"\x00\x00\x00\n",), ())
    event = seal_event(
        ChainHead("s"),
        EventDraft(
            "0b6e3c2e-9a57-4c0e-a4f5-000000000009",
            None,
            None,
            "alice",
            kind=EventKind.QUARANTINE_LINE,
            edit=edit.to_value(),
        ),
        clock=TickingClock(),
    )
    assert event.format == "riff.repair-event/2"
    payload = event.digest_payload()
    assert "edit" in payload
    assert event.event_digest == compute_event_digest(payload)
    tampered = dict(payload) | {"edit": LineEdit(3, (b"\x00\x00\x00\n",), ()).to_value()}
    assert compute_event_digest(tampered) != event.event_digest
    assert reference_canonical_bytes(payload)  # the reference serialiser takes it as it is


def test_re_parentings_stay_format_1() -> None:
    event = seal_event(
        ChainHead("s"),
        EventDraft("0b6e3c2e-9a57-4c0e-a4f5-000000000002", None, None, "alice"),
        clock=TickingClock(),
    )
    assert event.format == "riff.repair-event/1"
    assert "edit" not in event.to_dict()


def test_line_edit_kinds_need_an_edit_and_no_parents() -> None:
    event = seal_event(
        ChainHead("s"),
        EventDraft(
            "0b6e3c2e-9a57-4c0e-a4f5-000000000009",
            None,
            None,
            "alice",
            kind=EventKind.DROP_DUPLICATE,
            edit=LineEdit(1, (ROW_A,), ()).to_value(),
        ),
        clock=TickingClock(),
    )
    data = event.to_dict()
    with pytest.raises(EventValidationError) as info:
        RepairEvent.from_dict(data | {"edit": None})
    assert info.value.field == "edit"
    with pytest.raises(EventValidationError):
        RepairEvent.from_dict(data | {"old_parent_uuid": "0b6e3c2e-9a57-4c0e-a4f5-000000000001"})
    with pytest.raises(EventValidationError):
        RepairEvent.from_dict(data | {"format": "riff.repair-event/1"})  # v1 knows no edit
    with pytest.raises(EventValidationError):
        RepairEvent.from_dict(data | {"edit": {"line": 0, "removed": [], "inserted": []}})


# --------------------------------------------------------- v1 exports unchanged


@pytest.mark.parametrize("name", ["v1_export.json", "v1_export.jsonl"])
def test_v1_exports_written_before_format_2_still_verify(name: str, tmp_path: Path) -> None:
    # Written by riff before format 2 existed (fixture), byte for byte.
    result = verify_export(FIXTURES / name)
    assert result.ok, result.breaks
    assert result.events_checked == 4
    _reader, events = load_export(FIXTURES / name)
    assert {e.format for e in events} == {"riff.repair-event/1"}
    # Re-exporting them gives the same event bytes: format 1 is written as before.
    out = tmp_path / name
    shutil.copy(FIXTURES / name, out)
    original = orjson.loads(out.read_bytes().splitlines()[1]) if name.endswith("jsonl") else None
    write_export(out, events, fmt="jsonl" if name.endswith("jsonl") else "json")
    if original is not None:
        assert orjson.loads(out.read_bytes().splitlines()[1]) == original


def test_tampered_v1_fixture_is_still_caught(tmp_path: Path) -> None:
    text = (
        (FIXTURES / "v1_export.jsonl")
        .read_bytes()
        .replace(b"re-parent orphan", b"re-parent 0rphan")
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(text)
    assert not verify_export(bad).ok


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_exports_mixing_both_formats_verify_and_tampering_is_named(
    fmt: str, tmp_path: Path
) -> None:
    clock = TickingClock()
    _reader, v1_events = load_export(FIXTURES / "v1_export.json")
    events, _blobs = _seal_plan(ROW_A + b"\x00\x00\x00\x00\n" + ROW_B + ROW_B + ROW_C, clock)
    events = _revert_all(events, clock)[:-1]  # leave the first edit effective
    path = tmp_path / f"mixed.{fmt}"
    write_export(path, [*v1_events, *events], fmt=fmt)  # type: ignore[arg-type]
    result = verify_export(path)
    assert result.ok, result.breaks
    assert result.events_checked == 4 + len(events)
    text = path.read_bytes()
    edit_ref = events[0].edit["removed"][0]["sha256"]  # type: ignore[index]
    tampered = tmp_path / f"tampered.{fmt}"
    tampered.write_bytes(text.replace(edit_ref.encode(), b"0" * 64, 1))
    broken = verify_export(tampered)
    assert not broken.ok
    assert any(
        b.problem == "digest_mismatch" and b.event_id == events[0].event_id for b in broken.breaks
    )


# ---------------------------------------------------------------- line edits


def test_a_torn_line_and_a_nul_run_leave_and_come_back() -> None:
    torn = ROW_B[:30]
    data = ROW_A + b"\x00" * 40 + b"\n" + ROW_B + torn
    plan = plan_line_edits(data)
    assert [p.kind for p in plan.edits] == ["quarantine_line", "quarantine_line"]
    blobs: dict[str, bytes] = {}
    for planned in plan.edits:
        blobs.update(planned.edit.blobs())
    repaired = apply_edits(data, [p.edit.to_value() for p in plan.edits], blobs)
    assert repaired == ROW_A + ROW_B
    assert blobs[blob_id(torn)] == torn


def test_two_rows_joined_on_one_line_are_split() -> None:
    data = ROW_A + ROW_B.rstrip(b"\n") + ROW_C
    plan = plan_line_edits(data)
    assert len(plan.edits) == 1
    repaired = apply_edits(data, [plan.edits[0].edit.to_value()], plan.edits[0].edit.blobs())
    assert repaired == ROW_A + ROW_B + ROW_C
    assert plan.edits[0].message_id == "0b6e3c2e-9a57-4c0e-a4f5-000000000002"


def test_nuls_around_a_readable_row_leave_and_the_row_stays() -> None:
    data = ROW_A + b"\x00\x00" + ROW_B
    plan = plan_line_edits(data)
    assert len(plan.edits) == 1
    assert (
        apply_edits(data, [plan.edits[0].edit.to_value()], plan.edits[0].edit.blobs())
        == ROW_A + ROW_B
    )


@pytest.mark.parametrize("junk", [b"xyz", b"}", b"\xff", b" \x00\x00x", b"]]"])
def test_bytes_after_a_whole_row_leave_and_the_row_stays(junk: bytes) -> None:
    # Claude Code 2.1 reads such a row (2.0 skips the line): cutting the line out lost it.
    data = ROW_A + ROW_B.rstrip(b"\n") + junk + b"\n" + ROW_C
    plan = plan_line_edits(data)
    assert [p.message_id for p in plan.edits] == [U + "2"]
    edit = plan.edits[0].edit
    assert apply_edits(data, [edit.to_value()], edit.blobs()) == ROW_A + ROW_B + ROW_C
    assert "after a readable row removed" in plan.edits[0].reason


@pytest.mark.parametrize("before", [ROW_B[:40], ROW_B[:-3], b"x", b"\xff\xfe garbage"])
def test_a_whole_row_after_a_torn_one_gets_its_own_line(before: bytes) -> None:
    # Claude Code 2.0 appends its next row to a torn last line without a newline first.
    data = ROW_A + before + ROW_C
    plan = plan_line_edits(data)
    assert [p.message_id for p in plan.edits] == [U + "3"]
    edit = plan.edits[0].edit
    blobs = edit.blobs()
    assert apply_edits(data, [edit.to_value()], blobs) == ROW_A + ROW_C
    assert before + ROW_C in blobs.values()  # the torn bytes stay in the store


def test_three_rows_on_one_line_are_split_into_three() -> None:
    # A real file holds a row and a summary row joined; a second join can meet it.
    braces = _row(type="user", uuid=U + "7", parentUuid=None, message={"content": "a}{b"})
    data = braces.rstrip(b"\n") + ROW_B.rstrip(b"\n") + ROW_C
    plan = plan_line_edits(data)
    assert [p.message_id for p in plan.edits] == [U + "7"]
    edit = plan.edits[0].edit
    assert apply_edits(data, [edit.to_value()], edit.blobs()) == braces + ROW_B + ROW_C
    assert "3 rows written onto one line" in plan.edits[0].reason


def test_two_whole_rows_with_bytes_between_them_are_split() -> None:
    data = ROW_A + ROW_B.rstrip(b"\n") + b"  " + ROW_C
    plan = plan_line_edits(data)
    edit = plan.edits[0].edit
    assert apply_edits(data, [edit.to_value()], edit.blobs()) == ROW_A + ROW_B + ROW_C


def test_a_tear_that_ends_after_a_content_block_is_no_row() -> None:
    torn = _row(
        type="assistant", uuid=U + "9", message={"content": [{"type": "text", "text": "x"}]}
    )
    data = ROW_A + torn[: torn.index(b"}]")] + b"\n"
    plan = plan_line_edits(data)
    assert [len(p.edit.to_value()["inserted"]) for p in plan.edits] == [0]  # moved out whole


def test_duplicates_dropped_split_rows_kept_conflicts_reported() -> None:
    split_1 = _row(type="assistant", uuid=U + "a", message={"id": "msg_1", "content": [1]})
    split_2 = _row(type="assistant", uuid=U + "b", message={"id": "msg_1", "content": [2]})
    same_row_respelt = _row(parentUuid=U + "1", type="assistant", uuid=U + "2")
    conflict = _row(type="user", uuid=U + "3", parentUuid=None)
    data = ROW_A + ROW_B + split_1 + split_2 + ROW_B + same_row_respelt + ROW_C + conflict
    plan = plan_line_edits(data)
    assert [(p.kind, p.edit.line) for p in plan.edits] == [
        ("drop_duplicate", 5),
        ("drop_duplicate", 5),
    ]
    assert len(plan.needs_decision) == 1 and "000000000003" in plan.needs_decision[0]
    blobs = {k: v for p in plan.edits for k, v in p.edit.blobs().items()}
    repaired = apply_edits(data, [p.edit.to_value() for p in plan.edits], blobs)
    assert repaired == ROW_A + ROW_B + split_1 + split_2 + ROW_C + conflict


def test_an_edit_refuses_a_file_that_changed() -> None:
    data = ROW_A + b"garbage\n"
    plan = plan_line_edits(data)
    with pytest.raises(LineEditError):
        apply_edits(ROW_A + b"other\n", [plan.edits[0].edit.to_value()], plan.edits[0].edit.blobs())


# ------------------------------------------------------------------ properties

_rows = st.sampled_from([ROW_A, ROW_B, ROW_C])
_breakage = st.one_of(
    _rows,
    _rows.map(lambda r: r[: len(r) // 2] + b"\n"),  # torn
    st.integers(1, 50).map(lambda n: b"\x00" * n + b"\n"),  # NUL run
    _rows.map(lambda r: b"\x00\x00" + r),  # NULs before a row
    _rows.map(lambda r: r.rstrip(b"\n") + b"x\xff\n"),  # bytes after a row
    st.tuples(_rows, _rows).map(lambda p: p[0].rstrip(b"\n") + p[1]),  # joined
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"),  # anything
    st.just(b"\n"),
)


@settings(max_examples=150)
@given(st.lists(_breakage, max_size=12), st.binary(max_size=20))
def test_repair_then_revert_restores_the_original_bytes(lines: list[bytes], tail: bytes) -> None:
    data = b"".join(lines) + tail.replace(b"\n", b"")
    clock = TickingClock()
    events, blobs = _seal_plan(data, clock)
    repaired = apply_edits(data, [e.edit for e in events if e.edit], blobs)
    for segment in split_segments(repaired):  # every line left reads as Claude Code reads it
        body = segment.rstrip(b"\n")
        if body.strip():
            json_line.loads(body)
    assert plan_line_edits(repaired).edits == []  # nothing left to do: idempotent
    log = _revert_all(events, clock)
    reverts = log[len(events) :]
    assert apply_edits(repaired, [r.edit for r in reverts if r.edit], blobs) == data
    assert validate_event_immutability(log).ok


@settings(max_examples=100)
@given(st.lists(st.sampled_from([ROW_A, ROW_B, ROW_C, b"\n"]), max_size=10, unique=True))
def test_an_untouched_file_is_never_changed(lines: list[bytes]) -> None:
    data = b"".join(lines)
    assert plan_line_edits(data).edits == []


def test_line_edits_revert_like_a_stack() -> None:
    clock = TickingClock()
    events, _blobs = _seal_plan(ROW_A + b"x\n" + b"y\n", clock)
    assert len(events) == 2
    with pytest.raises(RevertError, match="revert that one first"):
        create_revert_event(events[0], events, operator="bob", clock=clock)
    second = create_revert_event(events[1], events, operator="bob", clock=clock)
    assert second.edit is not None and second.format == "riff.repair-event/2"
    create_revert_event(events[0], [*events, second], operator="bob", clock=clock)


REAL_CLIENT = Path(__file__).parent.parent / "fixtures" / "real_client"


def test_repeated_lines_without_a_uuid_are_not_duplicates() -> None:
    # Claude Code writes state lines (queue operations, tool lists) again, byte for
    # byte; the healthy real recording has three such repeats and needs no edit.
    state = _row(type="queue-operation", operation="remove", sessionId="s")
    assert plan_line_edits(ROW_A + state + ROW_B + state + state).edits == []
    healthy = (REAL_CLIENT / "real_2.1.332_healthy.jsonl").read_bytes()
    assert plan_line_edits(healthy).edits == []
