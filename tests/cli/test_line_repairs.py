"""Line repairs through the CLI: riff repair --kinds torn,duplicate --write, riff revert, verify."""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson

from riff.app.demo import DemoSession
from riff.events.line_edit import split_segments
from riff.testing.repair_kinds import TORN_THEN_ROW, inject_break
from tests.cli.test_end_to_end import riff, riff_json


def _break(path: Path) -> bytes:
    """Tear the file as crashed writers do: a NUL run, a duplicate, a `}{` join, a torn tail."""
    segments = split_segments(path.read_bytes())
    broken = [
        segments[0],
        b"\x00" * 64 + b"\n",  # NUL run
        segments[1],
        segments[1],  # byte-identical duplicate
        segments[2].rstrip(b"\n") + segments[3],  # two rows on one line
        *segments[4:],
        segments[5][: len(segments[5]) // 2],  # torn last line, no newline
    ]
    data = b"".join(broken)
    path.write_bytes(data)
    return data


def test_torn_and_duplicate_lines_repair_revert_and_verify(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    clean = target.path.read_bytes()
    broken = _break(target.path)
    untouched = {s.path: s.path.read_bytes() for s in demo_sessions if s is not target}

    assert riff("repair", target.session_id, "--kinds", "torn").exit_code == 2  # needs --write
    assert riff("repair", target.session_id, "--kinds", "bogus").exit_code == 2
    assert target.path.read_bytes() == broken

    plan = riff_json("repair", target.session_id, "--kinds", "torn,duplicate", "--dry-run")
    assert plan["events"] == [] and target.path.read_bytes() == broken

    done = riff_json("repair", target.session_id, "--kinds", "torn,duplicate", "--write", "--yes")
    kinds = [e["kind"] for e in done["events"]]
    assert kinds == ["quarantine_line", "quarantine_line", "quarantine_line", "drop_duplicate"]
    assert all(e["format"] == "riff.repair-event/2" for e in done["events"])
    assert Path(done["backup"]).read_bytes() == broken
    # Everything that was readable is back as it was; the torn tail is gone.
    assert target.path.read_bytes() == clean
    for path, data in untouched.items():
        assert path.read_bytes() == data  # an untouched file is never changed

    again = riff_json("repair", target.session_id, "--kinds", "torn,duplicate", "--write", "--yes")
    assert again["events"] == []

    verdict = riff_json("verify", "--db")
    assert verdict["ok"] is True

    # Reverts go in reverse order (edits stack); the bytes come back exactly.
    assert riff("revert", done["events"][0]["event_id"], "--write", "--yes").exit_code != 0
    for event in reversed(done["events"]):
        reverted = riff_json("revert", event["event_id"], "--write", "--yes")
        assert reverted["events"][0]["reverts_event_id"] == event["event_id"]
    assert target.path.read_bytes() == broken

    export = Path(os.environ["RIFF_DATA_DIR"]) / "export.jsonl"
    riff_json("export", "-o", str(export), "--format", "jsonl")
    result = riff_json("verify", str(export))
    assert result["ok"] is True and result["events_checked"] == 8
    text = export.read_bytes()
    assert b'"line":2' in text
    export.write_bytes(text.replace(b'"line":2', b'"line":3', 1))
    assert riff_json("verify", str(export), code=1)["breaks"][0]["problem"] == "digest_mismatch"
    assert riff_json("verify", "--db")["ok"] is True


def test_generated_breakages_are_repaired_and_reverted_byte_for_byte(
    demo_sessions: list[DemoSession],
) -> None:
    """On generated sessions: torn/truncated lines and an unanswered tool call."""
    targets = [
        s
        for s in demo_sessions
        if {"malformed_line", "truncated_line", "tool_use_without_result"} & set(s.breakages)
    ]
    assert len(targets) == 2
    fixed_kinds = {"malformed_line", "truncated_line", "tool_use_without_result"}
    for target in targets:
        original = target.path.read_bytes()
        before = riff_json("scan", str(target.path), code=1)["sessions"][0]["findings"]
        assert fixed_kinds & {f["kind"] for f in before}
        done = riff_json(
            "repair", target.session_id, "--kinds", "torn,duplicate,tool_result", "--write", "--yes"
        )
        assert done["events"], done
        scan = orjson.loads(riff("scan", str(target.path), "--json").stdout)
        after = scan["sessions"][0]["findings"]
        assert not fixed_kinds & {f["kind"] for f in after}, after
        for segment in split_segments(target.path.read_bytes()):
            if segment.strip():
                orjson.loads(segment)  # every line reads as JSON
        for event in reversed(done["events"]):
            riff_json("revert", event["event_id"], "--write", "--yes")
        assert target.path.read_bytes() == original
    assert riff_json("verify", "--db")["ok"] is True


def test_a_row_written_onto_a_torn_line_gets_its_own_line_back(
    demo_sessions: list[DemoSession],
) -> None:
    # What Claude Code 2.0 writes when it resumes a session whose last line is torn.
    target = next(s for s in demo_sessions if not s.breakages)
    broken = inject_break(TORN_THEN_ROW, target.path.read_bytes(), random.Random(3))
    assert broken is not None
    target.path.write_bytes(broken.data)
    glued = split_segments(broken.data)[broken.line - 1]
    row = glued[glued.rindex(b'{"parentUuid"') :]
    done = riff_json("repair", target.session_id, "--write", "--yes")
    assert [e["kind"] for e in done["events"]] == ["quarantine_line"]
    assert split_segments(target.path.read_bytes())[broken.line - 1] == row
    after = riff_json("scan", target.session_id, "--no-cache")
    assert after["sessions"][0]["findings"] == []
