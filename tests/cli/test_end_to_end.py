"""The whole flow through the CLI: scan → repair → log → revert → export → verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.cli.app import app
from riff.events.audit import verify_export
from tests.waiting import HANG_LIMIT

runner = CliRunner()


def riff(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def riff_json(*args: str, code: int = 0) -> Any:
    result = riff(*args, "--json")
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return orjson.loads(result.stdout)


def _changed_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    a, b = before.split(b"\n"), after.split(b"\n")
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_scan_repair_log_revert_export_verify(demo_sessions: list[DemoSession]) -> None:
    orphaned = [s for s in demo_sessions if "orphan" in s.breakages]
    target = orphaned[0]
    truths = {t.message_id: t.true_parent for t in target.truths}

    report = riff_json("scan", code=1)
    assert report["totals"]["sessions"] == len(demo_sessions)
    assert report["totals"]["findings"]["orphan"] >= len(orphaned)
    by_id = {s["session_id"]: s for s in report["sessions"]}
    assert {f["kind"] for f in by_id[target.session_id]["findings"]} >= {"orphan"}
    assert by_id[target.session_id]["resume_loss"] > 0

    original = target.path.read_bytes()
    plan = riff_json("repair", target.session_id[:8], "--dry-run")
    assert plan["dry_run"] is True and plan["events"] == []
    assert target.path.read_bytes() == original  # a dry run changes nothing

    repaired = riff_json("repair", target.session_id[:8], "--write", "--yes")
    events = repaired["events"]
    assert {e["message_id"]: e["new_parent_uuid"] for e in events} == truths
    assert all(e["operator"] == "alice" and e["validation_passed"] for e in events)
    assert repaired["written"] is True and Path(repaired["backup"]).read_bytes() == original

    # Only the parentUuid values of the repaired lines changed, byte for byte.
    changes = _changed_lines(original, target.path.read_bytes())
    assert len(changes) == len(truths)
    for old, new in changes:
        assert old.replace(b"parentUuid", b"") != new.replace(b"parentUuid", b"")
        assert len(old) == len(new)  # uuid for uuid

    rescanned = riff_json("scan", str(target.path), code=0)
    assert [f for f in rescanned["sessions"][0]["findings"] if f["kind"] == "orphan"] == []

    log = riff_json("log", target.session_id)["events"]
    assert [e["seq"] for e in log] == [1, 2][: len(truths)]
    assert not any(e["is_reverted"] for e in log)

    first = log[0]["event_id"]
    reverted = riff_json("revert", first, "--write", "--yes")
    assert reverted["events"][0]["reverts_event_id"] == first
    log = riff_json("log", target.session_id)["events"]
    assert [e["is_reverted"] for e in log] == [True] + [False] * (len(log) - 2) + [False]
    # The reverted message is an orphan again on disk.
    again = riff_json("scan", str(target.path), code=1)
    orphans = [f for f in again["sessions"][0]["findings"] if f["kind"] == "orphan"]
    assert orphans and orphans[0]["message_ids"][0] == log[0]["message_id"]

    export = Path(os.environ["RIFF_DATA_DIR"]) / "export.jsonl"
    riff_json("export", "-o", str(export), "--format", "jsonl")
    assert verify_export(export).ok
    verdict = riff_json("verify", str(export))
    assert verdict["ok"] is True and verdict["events_checked"] == len(truths) + 1

    tampered = export.read_bytes().replace(b'"operator":"alice"', b'"operator":"eve"', 1)
    export.write_bytes(tampered)
    broken = riff_json("verify", str(export), code=1)
    assert broken["breaks"][0]["problem"] == "digest_mismatch"


def test_manual_repair_is_validated_and_forcing_needs_a_reason(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    truth = target.truths[0]
    # A message cannot be its own parent: refused, nothing appended.
    refused = riff_json(
        "repair", target.session_id, "-m", truth.message_id, "-p", truth.message_id, "--yes",
        code=1,
    )  # fmt: skip
    assert refused["events"] == [] and "own parent" in refused["refused"][0]["reason"]
    assert riff_json("log")["events"] == []
    result = riff("repair", target.session_id, "-m", truth.message_id, "-p", truth.message_id,
                  "--force", "--yes")  # fmt: skip
    assert result.exit_code == 2 and "--reason" in result.stderr
    forced = riff_json(
        "repair", target.session_id, "-m", truth.message_id, "-p", truth.message_id,
        "--force", "--reason", "testing", "--yes",
    )  # fmt: skip
    assert forced["events"][0]["validation_passed"] is False
    assert "own parent" in forced["events"][0]["reason"]


def test_show_and_suggest(demo_sessions: list[DemoSession]) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    suggestions = riff_json("suggest", target.session_id)
    truths = {t.message_id: t.true_parent for t in target.truths}
    assert {
        o["message_id"]: o["candidates"][0]["parent_uuid"] for o in suggestions["orphans"]
    } == truths
    for orphan in suggestions["orphans"]:
        scores = [c["score"] for c in orphan["candidates"]]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        assert orphan["candidates"][0]["signals"]
    shown = riff_json("show", target.session_id)
    assert shown["resume_chain"] and {f["kind"] for f in shown["findings"]} >= {"orphan"}
    chain = riff("show", target.session_id)
    assert chain.exit_code == 0 and f"resume loads {len(shown['resume_chain'])}" in chain.stdout
    tree = riff("show", target.session_id, "--tree", "--limit", "5000")
    assert tree.exit_code == 0 and "(parent missing)" in tree.stdout and "✗ orphan" in tree.stdout


def test_views_and_db_commands(demo_sessions: list[DemoSession]) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    riff_json("repair", target.session_id, "--yes")
    status = riff_json("db", "status")
    assert status["current"] >= 1 and status["events"] >= 1
    views = riff_json("views", "status")["views"]
    assert [v["session_id"] for v in views] == [target.session_id]
    assert riff_json("views", "validate")["drifted"] == 0
    # Claude Code appends a line: the view drifts from the file.
    with target.path.open("ab") as fh:
        fh.write(orjson.dumps({"type": "user", "uuid": "0b6e3c2e-9a57-4c0e-a4f5-2c1d6c3ab999",
                               "parentUuid": None, "timestamp": "2030-01-01T00:00:00.000Z",
                               "message": {"role": "user", "content": "hi"}}) + b"\n")  # fmt: skip
    drift = riff_json("views", "validate", code=1)
    assert drift["drifted"] == 1
    assert drift["views"][0]["new_messages"] == ["0b6e3c2e-9a57-4c0e-a4f5-2c1d6c3ab999"]
    rebuilt = riff_json("views", "rebuild")
    assert rebuilt["rebuilt"][0]["session_id"] == target.session_id
    assert riff_json("views", "validate")["drifted"] == 0


def test_demo_runs_and_leaves_user_data_alone(riff_env: dict[str, str], tmp_path: Path) -> None:
    result = riff("demo", "--dir", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    for step in ("Scan", "Suggest", "Repair", "Log", "Verify", "Revert", "Export", "Resume"):
        assert step in result.stdout
    assert "demo finished" in result.stdout
    assert "0 orphans left" in result.stdout
    assert "UPDATE repairs_events … → refused" in result.stdout  # the database's own refusals
    assert "DELETE repairs_events → refused" in result.stdout
    assert not Path(riff_env["RIFF_DATA_DIR"]).exists()  # the configured store was not touched


def test_real_process_scan_and_repair(demo_sessions: list[DemoSession]) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    cmd = [sys.executable, "-m", "riff.cli.main"]
    scan = subprocess.run([*cmd, "scan", "--json"], capture_output=True, timeout=HANG_LIMIT)
    assert scan.returncode == 1, scan.stderr
    assert orjson.loads(scan.stdout)["totals"]["sessions"] == len(demo_sessions)
    repair = subprocess.run(
        [*cmd, "repair", target.session_id, "--yes", "--json"],
        capture_output=True,
        timeout=HANG_LIMIT,
    )
    assert repair.returncode == 0, repair.stderr
    assert len(orjson.loads(repair.stdout)["events"]) == len(target.truths)
    again = subprocess.run([*cmd, "repair", target.session_id, "--yes", "--json"],
                           capture_output=True, timeout=HANG_LIMIT)  # fmt: skip
    assert again.returncode == 0 and orjson.loads(again.stdout)["events"] == []


def test_global_json_and_verify_db(demo_sessions: list[DemoSession]) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    riff_json("repair", target.session_id, "--yes")
    as_global = runner.invoke(app, ["--json", "log"])
    assert as_global.exit_code == 0
    assert len(orjson.loads(as_global.stdout)["events"]) == len(target.truths)
    verdict = runner.invoke(app, ["--json", "verify", "--db"])
    assert verdict.exit_code == 0, verdict.output
    assert orjson.loads(verdict.stdout)["ok"] is True
    assert runner.invoke(app, ["verify"]).exit_code == 2
