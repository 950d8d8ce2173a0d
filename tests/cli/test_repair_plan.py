"""One plan for every kind: line edits and re-links in one `riff repair`, composed.

A generated session with an orphan and an unanswered tool call is torn the
way crashed writers tear files (a NUL run before the orphan, the orphan's row
glued to the next one, a duplicate line), so the line numbers shift under the
re-link and the re-link lands on a row a line edit rescued.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson

from riff.app.demo import DemoSession
from riff.events.line_edit import split_segments
from tests.cli.test_end_to_end import riff, riff_json

LINE_KINDS = {"quarantine_line", "drop_duplicate", "insert_tool_result"}


def _row(segment: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(segment)
    return value


def _tear(target: DemoSession, orphan: str) -> bytes:
    segments = split_segments(target.path.read_bytes())
    at = next(i for i, s in enumerate(segments) if f'"uuid":"{orphan}"'.encode() in s)
    assert 2 < at < len(segments) - 2
    torn = [
        *segments[: at - 1],
        b"\x00" * 32 + b"\n",  # a NUL run: every line after it moves up when it leaves
        segments[at - 1],
        segments[1],  # a byte-identical duplicate of an earlier row
        segments[at].rstrip(b"\n") + segments[at + 1],  # the orphan glued to the next row
        *segments[at + 2 :],
    ]
    data = b"".join(torn)
    target.path.write_bytes(data)
    return data


def _parent_in_file(path: Path, uuid: str) -> object:
    for segment in split_segments(path.read_bytes()):
        if segment.strip():
            row = _row(segment)
            if row.get("uuid") == uuid:
                return row.get("parentUuid")
    raise AssertionError(f"{uuid} is not in {path}")


def test_one_plan_composes_line_edits_and_relinks_and_reverts_exactly(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(
        s for s in demo_sessions if {"orphan", "tool_use_without_result"} <= set(s.breakages)
    )
    truth = next(t for t in target.truths if t.kind == "orphan")
    assert truth.message_id is not None
    broken = _tear(target, truth.message_id)

    plan = riff_json("repair", target.session_id, "--dry-run")["plan"]
    assert plan["kinds"] == ["parent", "torn", "duplicate", "tool_result"]
    edits = {e["kind"] for e in plan["line_edits"]}
    assert edits == LINE_KINDS, plan["line_edits"]
    relinks = {r["message_id"]: r["new_parent_uuid"] for r in plan["parent_repairs"]}
    assert relinks[truth.message_id] == truth.true_parent
    assert plan["problems"] == []
    assert target.path.read_bytes() == broken  # a dry run changes nothing

    # Without --write the line edits cannot be applied: asked by name, refused.
    refused = riff("repair", target.session_id, "--kinds", "torn,parent", "--yes")
    assert refused.exit_code == 2 and "--write" in refused.stderr
    assert riff_json("log", target.session_id)["events"] == []

    done = riff_json("repair", target.session_id, "--write", "--yes")
    kinds = [e["kind"] for e in done["events"]]
    # Structure first, then the re-links, then tool pairing on the re-linked file, then
    # the rows tool pairing moves under the results it inserted (re-links, in the log).
    first_relink = kinds.index("repair")
    first_tool = kinds.index("insert_tool_result")
    assert set(kinds[:first_relink]) == {"quarantine_line", "drop_duplicate"}
    assert set(kinds[first_relink:first_tool]) == {"repair"}
    tail = kinds[first_tool:]
    assert tail[: tail.count("insert_tool_result")] == ["insert_tool_result"] * tail.count(
        "insert_tool_result"
    )
    assert set(tail[tail.count("insert_tool_result") :]) <= {"repair"}
    assert len(done["plan"]["tool_pairing_relinks"]) == tail.count("repair")
    assert done["written"] is True and Path(done["backup"]).read_bytes() == broken
    backups = [p for p in target.path.parent.iterdir() if p.name.endswith(".riff-backup")]
    assert len(backups) == 1  # one rewrite for the whole plan

    for segment in split_segments(target.path.read_bytes()):
        if segment.strip():
            _row(segment)  # every line reads as JSON
    assert _parent_in_file(target.path, truth.message_id) == truth.true_parent
    assert riff_json("scan", str(target.path))["sessions"][0]["findings"] == []
    assert riff_json("verify", "--db")["ok"] is True
    again = riff_json("repair", target.session_id, "--write", "--yes")
    assert again["events"] == [], json.dumps([again["plan"], done["plan"]], indent=1)

    # The split put the orphan's row back into the file and the re-link changed
    # that row: reverting the split first would not find its bytes.
    split = next(
        e
        for e in done["events"]
        if e["kind"] == "quarantine_line" and e["message_id"] == truth.message_id
    )
    relink = next(
        e for e in done["events"] if e["message_id"] == truth.message_id and e["kind"] == "repair"
    )
    later = [e for e in done["events"] if e["seq"] > split["seq"] and e is not relink]
    for event in reversed(later):
        undone = riff("revert", event["event_id"], "--write", "--yes")
        assert undone.exit_code == 0, undone.stderr
    blocked = riff("revert", split["event_id"], "--write", "--yes")
    assert blocked.exit_code == 2 and relink["event_id"] in blocked.stderr

    # Newest first, every kind: the bytes come back exactly.
    log = riff_json("log", target.session_id)["events"]
    for event in reversed([e for e in log if not e["is_reverted"] and e["kind"] != "revert"]):
        undone = riff("revert", event["event_id"], "--write", "--yes")
        assert undone.exit_code == 0, undone.stderr
    assert target.path.read_bytes() == broken  # byte for byte
    assert riff_json("verify", "--db")["ok"] is True


def test_by_default_without_write_the_relinks_go_ahead_and_line_edits_wait(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(
        s for s in demo_sessions if {"orphan", "tool_use_without_result"} <= set(s.breakages)
    )
    before = target.path.read_bytes()
    done = riff_json("repair", target.session_id, "--yes")
    assert {e["kind"] for e in done["events"]} == {"repair"}
    assert done["plan"]["line_edits_need_write"] is True and done["written"] is False
    assert target.path.read_bytes() == before
    # --write then writes the recorded re-links and applies the line edits in one rewrite.
    written = riff_json("repair", target.session_id, "--write", "--yes")
    assert [e["kind"] for e in written["events"]] == ["insert_tool_result", "repair"]
    assert written["written"] is True
    findings = riff_json("scan", str(target.path))["sessions"][0]["findings"]
    assert {f["kind"] for f in findings} & {"orphan", "tool_use_without_result"} == set()


def test_yes_applies_only_relinks_above_the_calibrated_threshold(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    done = riff_json("repair", target.session_id, "--kinds", "parent", "--yes", "--min-score", "0")
    scores = [r["score"] for r in done["plan"]["parent_repairs"]]
    assert all(score >= 0.95 for score in scores), scores
    lower = [s for s in done["plan"]["skipped"] if "below" in s["reason"]]
    assert all("0.95" in s["reason"] for s in lower)


def test_show_event_prints_the_bytes_a_repair_removed_escaped(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    hostile = b'{"uuid": "x", "text": "\x1b[31m[bold red]boom[/] \xff\xfe' + b"\x00" * 3 + b"\n"
    target.path.write_bytes(target.path.read_bytes() + hostile)
    done = riff_json("repair", target.session_id, "--kinds", "torn", "--write", "--yes")
    (event,) = done["events"]

    detail = riff_json("show", "--event", event["event_id"][:13])
    assert detail["event"]["event_id"] == event["event_id"]
    assert detail["event"]["kind"] == "quarantine_line" and detail["inserted"] == []
    (removed,) = detail["removed"]
    assert base64.b64decode(removed["base64"]) == hostile  # every byte, exactly
    assert removed["stored"] is True and "\\xff" in removed["text"]

    shown = riff("show", "--event", event["event_id"])
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert "quarantine_line" in text and "\x1b" not in text and "\x00" not in text
    assert "\\x1b[31m[bold red]boom[/]" in text and "\\x00" in text and "\\xff" in text

    reverted = riff_json("revert", event["event_id"], "--write", "--yes")["events"][0]
    again = riff_json("show", "--event", event["event_id"])
    assert again["event"]["is_reverted"] is True
    assert again["reverted_by"] == [reverted["event_id"]]
    back = riff_json("show", "--event", reverted["event_id"])
    assert base64.b64decode(back["inserted"][0]["base64"]) == hostile

    assert riff("show").exit_code == 2
    assert riff("show", "--event", "no-such-event").exit_code == 2


def test_show_event_of_a_relink(demo_sessions: list[DemoSession]) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    done = riff_json("repair", target.session_id, "--kinds", "parent", "--yes")
    event = done["events"][0]
    detail = riff_json("show", "--event", event["event_id"])
    assert detail["event"]["new_parent_uuid"] == event["new_parent_uuid"]
    assert detail["removed"] == [] and detail["line"] is None
    shown = riff("show", "--event", event["event_id"]).stdout
    assert event["message_id"] in shown and "repair" in shown
