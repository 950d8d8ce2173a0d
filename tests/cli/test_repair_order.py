"""The events of one row apply in log order, each against the bytes the one before left,
and undo in the opposite order, across kinds and across runs.

A prompt whose parent was lost sits after a tool call nobody answered: it is
re-linked under the call (by a plan, or by hand in an earlier run without
--write), then tool pairing inserts an interrupted-call result after the call and
moves the prompt under it. That move is a re-link event after the insert, so
`riff write` (which writes what the log's re-links say) has nothing left to
change, and reverts go newest first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from riff.events.line_edit import split_segments
from tests.cli.test_end_to_end import riff, riff_json

SID = "5d0c3f0e-1111-4c0e-a4f5-000000000001"
U = "0b6e3c2e-9a57-4c0e-a4f5-00000000000"
LOST = "99999999-9999-4999-8999-999999999999"


def _row(second: int, **fields: object) -> bytes:
    stamp = f"2026-11-29T10:00:{second:02d}.000Z"
    return orjson.dumps({"sessionId": SID, "timestamp": stamp} | fields)


def _session(riff_env: dict[str, str]) -> tuple[Path, bytes]:
    """Prompt, a call never answered, a prompt whose parent is lost, an answer."""
    call = [{"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {"command": "ls"}}]
    answer = [{"type": "text", "text": "It was interrupted."}]
    rows = [
        _row(
            0, parentUuid=None, type="user", uuid=U + "1", message={"role": "user", "content": "ls"}
        ),
        _row(
            1,
            parentUuid=U + "1",
            type="assistant",
            uuid=U + "2",
            message={"id": "m2", "role": "assistant", "content": call},
        ),
        _row(
            5,
            parentUuid=LOST,
            type="user",
            uuid=U + "3",
            message={"role": "user", "content": "why?"},
        ),
        _row(
            6,
            parentUuid=U + "3",
            type="assistant",
            uuid=U + "4",
            message={"id": "m4", "role": "assistant", "content": answer},
        ),
    ]
    data = b"\n".join(rows) + b"\n"
    path = Path(riff_env["RIFF_PROJECTS_DIR"]) / "-home-dev-x" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path, data


def _parent_in_file(path: Path, uuid: str) -> object:
    for segment in split_segments(path.read_bytes()):
        row = orjson.loads(segment)
        if row.get("uuid") == uuid:
            return row.get("parentUuid")
    raise AssertionError(f"{uuid} is not in {path}")


def _log_and_file_agree(path: Path) -> None:
    """Nothing for `riff write` to do, no finding, a plan with nothing left, the log intact."""
    assert riff_json("write", SID, "--dry-run")["written"] is False
    assert riff_json("scan", str(path))["sessions"][0]["findings"] == []
    again = riff_json("repair", SID, "--write")
    assert again["events"] == [], again["plan"]
    assert riff_json("verify", "--db")["ok"] is True


def _revert_newest_first(events: list[dict[str, Any]]) -> None:
    for event in reversed(events):
        undone = riff("revert", event["event_id"], "--write", "--yes")
        assert undone.exit_code == 0, undone.stderr


def test_a_relink_recorded_without_write_then_tool_pairing_with_write(
    riff_env: dict[str, str],
) -> None:
    path, data = _session(riff_env)
    # Run 1: the prompt goes under the call by hand, recorded only (the file is untouched).
    first = riff_json("repair", SID, "--message", U + "3", "--parent", U + "2")
    assert [e["kind"] for e in first["events"]] == ["repair"] and first["written"] is False
    assert path.read_bytes() == data

    # Run 2: tool pairing only, written. The earlier re-link applies first (log order),
    # so the prompt is the call's child and goes under the inserted result.
    done = riff_json("repair", SID, "--kinds", "tool_result", "--write")
    assert [e["kind"] for e in done["events"]] == ["insert_tool_result", "repair"]
    inserted = done["events"][0]["message_id"]
    moved = done["events"][1]
    assert (moved["message_id"], moved["old_parent_uuid"], moved["new_parent_uuid"]) == (
        U + "3",
        U + "2",
        inserted,
    )
    assert _parent_in_file(path, U + "3") == inserted
    assert _parent_in_file(path, inserted) == U + "2"
    # Before: `riff write` would set the prompt back under the call (the run-1 re-link),
    # leaving the call unanswered on the chain resume loads.
    _log_and_file_agree(path)

    # Undo: out of order is refused with the event to revert first; newest first
    # gives the original bytes back.
    blocked = riff("revert", done["events"][0]["event_id"], "--write", "--yes")
    assert blocked.exit_code == 2 and moved["event_id"] in blocked.stderr
    assert riff("revert", first["events"][0]["event_id"], "--yes").exit_code == 2
    _revert_newest_first(first["events"] + done["events"])
    assert path.read_bytes() == data
    assert riff_json("verify", "--db")["ok"] is True


def test_a_relink_written_earlier_then_tool_pairing_in_a_later_run(
    riff_env: dict[str, str],
) -> None:
    path, data = _session(riff_env)
    first = riff_json("repair", SID, "--message", U + "3", "--parent", U + "2", "--write")
    assert _parent_in_file(path, U + "3") == U + "2"
    done = riff_json("repair", SID, "--write")
    assert [e["kind"] for e in done["events"]] == ["insert_tool_result", "repair"]
    assert _parent_in_file(path, U + "3") == done["events"][0]["message_id"]
    _log_and_file_agree(path)
    _revert_newest_first(first["events"] + done["events"])
    assert path.read_bytes() == data


def test_one_plan_relinks_then_moves_the_row_under_the_inserted_result(
    riff_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-link under the call and the move under the inserted result in one plan:
    two re-link events around the insert, in the order they apply."""
    monkeypatch.setenv("RIFF_MIN_SCORE", "0.5")  # the suggestion scores about 0.9 here
    path, data = _session(riff_env)
    done = riff_json("repair", SID, "--write")
    kinds = [(e["kind"], e["message_id"]) for e in done["events"]]
    inserted = done["events"][1]["message_id"]
    assert kinds == [("repair", U + "3"), ("insert_tool_result", inserted), ("repair", U + "3")]
    assert [e["new_parent_uuid"] for e in done["events"]] == [U + "2", None, inserted]
    assert done["plan"]["tool_pairing_relinks"][0]["new_parent_uuid"] == inserted
    _log_and_file_agree(path)
    _revert_newest_first(done["events"])
    assert path.read_bytes() == data


def test_a_relink_is_not_reverted_under_a_later_edit_of_its_row(
    riff_env: dict[str, str],
) -> None:
    """A row re-linked and written, whose line a crash later wrapped in NULs: the
    quarantine edit holds the row as the re-link left it, so the re-link cannot be
    undone before the edit is (the edit's own revert would no longer find its line)."""
    path, data = _session(riff_env)
    first = riff_json("repair", SID, "--message", U + "3", "--parent", U + "2", "--write")
    relinked = path.read_bytes()
    segments = split_segments(relinked)
    segments[2] = b"\x00" * 8 + segments[2]
    torn = b"".join(segments)
    path.write_bytes(torn)
    quarantine = riff_json("repair", SID, "--kinds", "torn", "--write")
    assert [e["kind"] for e in quarantine["events"]] == ["quarantine_line"]
    assert path.read_bytes() == relinked

    blocked = riff("revert", first["events"][0]["event_id"], "--write", "--yes")
    assert blocked.exit_code == 2, blocked.stdout
    assert quarantine["events"][0]["event_id"] in blocked.stderr
    assert path.read_bytes() == relinked
    assert len(riff_json("log", SID)["events"]) == 2  # nothing appended

    _revert_newest_first(first["events"] + quarantine["events"])
    original = split_segments(data)
    original[2] = b"\x00" * 8 + original[2]
    assert path.read_bytes() == b"".join(original)  # as the crash left it, before riff
    assert riff_json("verify", "--db")["ok"] is True


def test_json_applies_only_relinks_above_the_threshold_like_yes(
    riff_env: dict[str, str],
) -> None:
    """--json confirms by itself, so a lowered --min-score does not let it apply a
    suggestion below the calibrated threshold (0.95), as with --yes."""
    path, _ = _session(riff_env)
    for flags in (("--json",), ("--json", "--yes")):
        result = riff("repair", SID, "--kinds", "parent", "--min-score", "0.5", *flags)
        assert result.exit_code == 0, result.stderr
        shown = orjson.loads(result.stdout)
        assert shown["events"] == []
        (skipped,) = shown["plan"]["skipped"]
        assert skipped["message_id"] == U + "3" and "0.95" in skipped["reason"]
        assert "at least 0.95" in result.stderr
    # A person who confirms may go lower: here by naming the parent by hand.
    by_hand = riff_json("repair", SID, "--message", U + "3", "--parent", U + "2")
    assert [e["new_parent_uuid"] for e in by_hand["events"]] == [U + "2"]
    assert _parent_in_file(path, U + "3") == LOST  # recorded, not written


def test_a_later_write_puts_in_relinks_recorded_earlier(riff_env: dict[str, str]) -> None:
    """Nothing new to repair, re-links recorded without --write: `repair --write` writes them."""
    path, data = _session(riff_env)
    riff_json("repair", SID, "--message", U + "3", "--parent", U + "2")
    shown = riff("repair", SID, "--kinds", "parent")
    assert shown.exit_code == 0 and "--write puts them in" in shown.stdout
    assert path.read_bytes() == data
    done = riff_json("repair", SID, "--kinds", "parent", "--write")
    assert done["events"] == [] and done["written"] is True
    assert _parent_in_file(path, U + "3") == U + "2"
    assert riff_json("write", SID, "--dry-run")["written"] is False
