"""`verify_export` folds reverts a session at a time: sessions must not leak into each other."""

from __future__ import annotations

from pathlib import Path

from riff.events import ChainHead, RepairEvent
from riff.events.audit import verify_export
from riff.events.export import write_export
from tests.event_factories import LogBuilder, message_uuid, revert_of


def _interleaved(*logs: list[RepairEvent]) -> list[RepairEvent]:
    """Events of several sessions, alternating (each session's runs split in the file)."""
    out: list[RepairEvent] = []
    longest = max(len(log) for log in logs)
    for i in range(longest):
        out += [log[i] for log in logs if i < len(log)]
    return out


def _logs() -> tuple[LogBuilder, LogBuilder]:
    a1, a2, b1, b2 = (message_uuid(n) for n in (1, 2, 3, 4))
    first = LogBuilder("s-a", {a1: None, a2: None})
    second = LogBuilder("s-b", {b1: None, b2: None})
    for log, (x, y) in ((first, (a1, a2)), (second, (b1, b2))):
        one = log.repair(x, y)
        log.revert(one)
        two = log.repair(y, x)
        log.repair(x, y)
        log.revert(two)
    return first, second


def test_interleaved_sessions_with_reverts_verify(tmp_path: Path) -> None:
    first, second = _logs()
    path = tmp_path / "log.jsonl"
    write_export(path, _interleaved(first.events, second.events), fmt="jsonl")

    result = verify_export(path)

    assert result.ok, [str(b) for b in result.breaks]
    assert result.reverted_ids == {
        e.reverts_event_id for e in first.events + second.events if e.reverts_event_id
    }


def test_a_revert_of_another_sessions_event_is_caught(tmp_path: Path) -> None:
    first, second = _logs()
    target = first.events[2]  # a repair of session s-a, still in effect
    head = ChainHead("s-b", second.events[-1].seq, second.events[-1].event_digest)
    stray = revert_of(target, head, second.clock)
    path = tmp_path / "log.jsonl"
    write_export(path, _interleaved(first.events, [*second.events, stray]), fmt="jsonl")

    result = verify_export(path)

    assert [(b.session_id, b.problem) for b in result.breaks if b.problem == "bad_revert"] == [
        ("s-b", "bad_revert")
    ]
    assert "not an earlier event of this session" in next(
        b.detail for b in result.breaks if b.problem == "bad_revert"
    )
