from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from riff.transcript.validation import (
    CREATES_CYCLE,
    SELF_PARENT,
    TIMESTAMP_ORDER,
    UNKNOWN_PARENT,
    check_repair,
    validate_repair,
)

PARENTS: dict[str, str | None] = {"a": None, "b": "a", "c": "b", "d": "c", "x": "ghost"}
TIMES: dict[str, str | None] = {
    "a": "2025-01-01T00:00:00.000Z",
    "b": "2025-01-01T00:00:01.000Z",
    "c": "2025-01-01T00:00:01.000Z",
    "d": "2025-01-01T00:05:00.000Z",
    "x": None,
    "y": "2024-12-31T23:59:40.000Z",
}


def test_valid_changes() -> None:
    assert validate_repair(PARENTS, TIMES, "x", "d") == []
    assert validate_repair(PARENTS, TIMES, "c", "a") == []
    assert validate_repair(PARENTS, TIMES, "c", "b") == []  # equal timestamps are fine
    assert validate_repair(PARENTS, TIMES, "b", None) == []
    # A parent stamped up to a minute after its child is clock skew that real
    # transcripts have (meta and progress rows, resumed sessions): allowed.
    assert validate_repair({**PARENTS, "y": None}, TIMES, "y", "a") == []


def test_a_parent_much_later_than_its_child_is_refused() -> None:
    parents = {**PARENTS, "y": None}
    assert [p.code for p in check_repair(parents, TIMES, "y", "b")] == []
    late = {**TIMES, "y": "2024-12-31T23:58:59.000Z"}
    assert [p.code for p in check_repair(parents, late, "y", "a")] == [TIMESTAMP_ORDER]


def test_problems_have_codes_and_messages() -> None:
    assert [p.code for p in check_repair(PARENTS, TIMES, "b", "b")] == [SELF_PARENT]
    assert [p.code for p in check_repair(PARENTS, TIMES, "b", "nope")] == [UNKNOWN_PARENT]
    codes = [p.code for p in check_repair(PARENTS, TIMES, "b", "d")]
    assert codes == [CREATES_CYCLE, TIMESTAMP_ORDER]
    (message,) = validate_repair(PARENTS, TIMES, "b", "nope")
    assert "nope" in message and "\n" not in message


def test_existing_cycle_does_not_loop_forever() -> None:
    parents: dict[str, str | None] = {"p": "q", "q": "p", "m": None}
    assert validate_repair(parents, {}, "m", "p") == []
    assert [p.code for p in check_repair(parents, {}, "p", "q")] == [CREATES_CYCLE]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_accepted_changes_never_create_a_cycle(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 15))
    ids = [f"n{i}" for i in range(n)]
    parents: dict[str, str | None] = {
        i: data.draw(st.none() | st.sampled_from(ids[:k] or [None]))
        if (k := ids.index(i))
        else None
        for i in ids
    }  # a forest
    node = data.draw(st.sampled_from(ids))
    new = data.draw(st.none() | st.sampled_from(ids))
    if validate_repair(parents, {}, node, new):
        return
    changed = {**parents, node: new}
    cur, seen = node, set()
    while cur is not None:
        assert cur not in seen
        seen.add(cur)
        cur = changed[cur]
