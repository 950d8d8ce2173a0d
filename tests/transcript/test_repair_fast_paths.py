"""The repair planners' fast paths plan exactly what the full planners plan.

`plan_tool_results` skips the full tool-pairing planners (every row held, an
API-rule check) when one light pass shows neither could plan an edit;
`plan_line_edits` reads each line once for torn lines and duplicates and keeps
no parsed row. These tests hold both to the full rule: the tool-pairing
planners called without the pass, and the duplicate rule as first written
(every first row kept in memory).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.events.line_edit import LineEdit, apply_edits, split_segments
from riff.testing.repair_kinds import REPAIR_BREAKS, inject_break
from riff.testing.synthetic import generate_session, inject
from riff.transcript.line_repairs import (
    DROP_DUPLICATE,
    LINE_KINDS,
    LinePlan,
    PlannedLineEdit,
    plan_line_edits,
)
from riff.transcript.tool_result_repairs import (
    may_need_tool_pairing,
    plan_inserts,
    plan_neutralize,
)
from tests.realdata.corpus import dev_files, real_client_files

_INJECTED = (
    "tool_use_without_result",
    "tool_result_without_use",
    "duplicate_uuid",
    "orphan",
    "malformed_line",
    "truncated_line",
)


def _full_tool_plans(data: bytes) -> list[PlannedLineEdit]:
    """plan_tool_results without its fast path."""
    neutralized = plan_neutralize(data)
    if neutralized:
        blobs = {k: v for p in neutralized for k, v in p.edit.blobs().items()}
        data = apply_edits(data, [p.edit.to_value() for p in neutralized], blobs)
    return [*neutralized, *plan_inserts(data, new_uuid=lambda: "fresh")]


def _held_to_the_full_rule(data: bytes) -> bool:
    """The pass never says "nothing to do" where the planners would plan something;
    returns what the pass said."""
    needed = may_need_tool_pairing(data)
    if not needed:
        assert _full_tool_plans(data) == []
    return needed


def _duplicates_as_first_written(data: bytes) -> LinePlan:
    """drop_duplicate's rule holding every first row (the reference)."""
    plan = LinePlan()
    dropped = 0
    seen_bytes: set[bytes] = set()
    seen_rows: dict[str, Any] = {}
    for index, segment in enumerate(split_segments(data)):
        body = segment.rstrip(b"\n")
        if not body.strip(b" \t\r\n"):
            continue
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue
        row_id = value.get("uuid") if isinstance(value, dict) else None
        if not isinstance(row_id, str):
            continue
        key = body.strip(b" \t\r\n")
        if key in seen_bytes:
            why = "byte for byte the same as an earlier line"
        elif row_id in seen_rows:
            if seen_rows[row_id] != value:
                plan.needs_decision.append(
                    f"line {index + 1}: uuid {row_id} appears again with different content; "
                    "riff leaves it for a decision by hand"
                )
                continue
            why = f"the same row (uuid {row_id}) as an earlier line"
        else:
            seen_bytes.add(key)
            seen_rows[row_id] = value
            continue
        plan.edits.append(
            PlannedLineEdit(
                DROP_DUPLICATE,
                row_id,
                LineEdit(index + 1 - dropped, (segment,), ()),
                f"line {index + 1}: {why}",
            )
        )
        dropped += 1
    return plan


def _same_duplicates(data: bytes) -> None:
    """Duplicates planned by the one-read path (with torn lines) and by the
    duplicates alone agree with the reference, edit for edit."""
    reference = _duplicates_as_first_written(data)
    want = [(p.message_id, p.edit, p.reason) for p in reference.edits]
    for kinds in ((DROP_DUPLICATE,), LINE_KINDS):
        plan = plan_line_edits(data, kinds)
        if kinds == LINE_KINDS and any(p.kind != DROP_DUPLICATE for p in plan.edits):
            continue  # torn lines first: the duplicates are read on the edited file
        assert [(p.message_id, p.edit, p.reason) for p in plan.edits] == want
        assert plan.needs_decision == reference.needs_decision


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(10, 160),
    kind=st.sampled_from(REPAIR_BREAKS),
)
def test_the_fast_paths_on_generated_sessions_with_a_repair_break(
    seed: int, size: int, kind: str
) -> None:
    clean = generate_session(size, seed=seed).to_bytes()
    broken = inject_break(kind, clean, random.Random(seed))
    data = broken.data if broken is not None else clean
    _held_to_the_full_rule(data)
    _same_duplicates(data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(20, 160),
    kind=st.sampled_from(_INJECTED),
)
def test_the_fast_paths_on_generated_sessions_with_an_injected_break(
    seed: int, size: int, kind: str
) -> None:
    session = generate_session(size, seed=seed)
    try:
        inject(session, kind, 1, random.Random(seed))
    except (ValueError, IndexError):  # no place for that break in so short a session
        return
    data = session.to_bytes()
    _held_to_the_full_rule(data)
    _same_duplicates(data)


def test_a_healthy_session_takes_the_fast_path_and_a_broken_one_does_not() -> None:
    clean = generate_session(120, seed=5, compactions=False).to_bytes()
    assert not _held_to_the_full_rule(clean)
    for kind in ("unanswered_tool_use", "orphan_tool_result"):
        broken = inject_break(kind, clean, random.Random(1))
        assert broken is not None
        assert _full_tool_plans(broken.data)
        assert may_need_tool_pairing(broken.data)


def _row(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def _assistant(uid: str, parent: str | None, *blocks: dict[str, Any], reply: str = "m1") -> bytes:
    message = {"id": reply, "role": "assistant", "content": list(blocks)}
    return _row(parentUuid=parent, type="assistant", message=message, uuid=uid)


def _user(uid: str, parent: str | None, *blocks: dict[str, Any]) -> bytes:
    return _row(
        parentUuid=parent, type="user", message={"role": "user", "content": list(blocks)}, uuid=uid
    )


USE = {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "call_1", "content": "ok"}
BOUNDARY = _row(parentUuid=None, type="system", subtype="compact_boundary", uuid="b")


@pytest.mark.parametrize(
    ("data", "needed"),
    [
        (_user("u", None, {"type": "text", "text": "hi"}) + _assistant("a", "u", USE), True),
        (_user("u", None) + _assistant("a", "u", USE) + _user("r", "a", RESULT), False),
        (_user("u", None) + _user("r", "u", RESULT), True),  # a result without its call
        # the call before the last compaction: not "present" for the result after it
        (_assistant("a", None, USE) + BOUNDARY + _user("r", "b", RESULT), True),
        (_user("u", None) + b"{torn\n" + _assistant("a", "u", USE), True),
        (_user("u", None) + _user("r", "u", {**RESULT, "tool_use_id": 7}), True),
        (
            _assistant("a", None, {"type": "server_tool_use", "id": "s1", "name": "web_search"}),
            True,
        ),
        (
            _assistant("a", None, {"type": "server_tool_use", "id": "s1", "name": "web_search"})
            + _assistant(
                "a2", "a", {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []}
            ),
            False,
        ),
        (_user("u", None) + b"\n  \n" + _assistant("a", "u") + _user("r", "a"), False),
    ],
)
def test_the_tool_pairing_pass_on_small_files(data: bytes, needed: bool) -> None:
    assert _held_to_the_full_rule(data) is needed


def test_duplicates_read_once_name_the_same_lines_as_the_rule() -> None:
    first = _user("u1", None, {"type": "text", "text": "hi"})
    reordered = orjson.dumps(
        {
            "uuid": "u1",
            "type": "user",
            "parentUuid": None,
            "message": orjson.loads(first)["message"],
        }
    )
    other = _user("u1", None, {"type": "text", "text": "different"})
    data = (
        first
        + _assistant("a", "u1")
        + b"  "
        + first.rstrip(b"\n")
        + b" \r\n"
        + reordered
        + b"\n"
        + other
        + first.rstrip(b"\n")
    )
    _same_duplicates(data)
    plan = plan_line_edits(data)
    assert [p.reason.split(": ", 1)[1] for p in plan.edits] == [
        "byte for byte the same as an earlier line",
        "the same row (uuid u1) as an earlier line",
        "byte for byte the same as an earlier line",
    ]
    assert len(plan.needs_decision) == 1


def _real() -> list[Any]:
    return [pytest.param(p, id=p.name[:50]) for p in real_client_files() + dev_files()]


@pytest.mark.parametrize("path", _real())
def test_the_fast_paths_on_real_transcripts_with_each_break(path: Path) -> None:
    clean = path.read_bytes()
    _held_to_the_full_rule(clean)
    _same_duplicates(clean)
    for kind in REPAIR_BREAKS:
        broken = inject_break(kind, clean, random.Random(f"{path.name}/{kind}"))
        if broken is not None:
            _held_to_the_full_rule(broken.data)
            _same_duplicates(broken.data)
