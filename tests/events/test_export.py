"""Exports in both forms, the loader, and `riff verify` on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from riff.cli.app import app
from riff.events import ExportFormatError, RepairEvent
from riff.events.audit import verify_export
from riff.events.export import ExportReader, export_event_log, load_export, write_export
from tests.event_factories import LogBuilder, iter_sessions, message_uuid
from tests.waiting import HANG_LIMIT

runner = CliRunner()


def _events() -> list[RepairEvent]:
    a, b = message_uuid(1), message_uuid(2)
    log = LogBuilder("s-1", {a: None, b: None})
    first = log.repair(a, b, operator="alice", similarity_score=0.8)
    log.revert(first, operator="bob")
    log.repair(b, None, operator="alice")
    other = next(iter_sessions(1, 3))
    return log.events + other.events


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_round_trips_and_verifies(tmp_path: Path, fmt: str) -> None:
    events = _events()
    path = tmp_path / f"log.{fmt}"
    write_export(path, events, fmt=fmt, materialization_digests={"s-1": "ab" * 32})  # type: ignore[arg-type]
    reader, loaded = load_export(path)
    assert reader.fmt == fmt
    assert sorted(loaded, key=lambda e: (e.session_id, e.seq)) == sorted(
        events, key=lambda e: (e.session_id, e.seq)
    )
    assert reader.trailer is not None
    meta = reader.trailer.metadata
    assert meta["total_events"] == 6
    assert meta["reverted_events"] == 1  # the first repair of s-1
    assert meta["active_events"] == 1 + 3
    assert meta["operators"] == {"alice": 5, "bob": 1}
    assert reader.trailer.sessions["s-1"]["materialization_digest"] == "ab" * 32
    assert verify_export(path).ok


def test_export_marks_derived_status() -> None:
    doc = export_event_log(_events())
    flags = {(r["session_id"], r["seq"]): r["is_reverted"] for r in doc["events"]}
    assert flags[("s-1", 1)] is True
    assert flags[("s-1", 2)] is False
    assert doc["format_version"] == "1.0"
    assert doc["metadata"]["first_timestamp"] <= doc["metadata"]["last_timestamp"]


def _good_json(tmp_path: Path) -> bytes:
    path = tmp_path / "good.json"
    write_export(path, _events())
    return path.read_bytes()


def _good_jsonl(tmp_path: Path) -> bytes:
    path = tmp_path / "good.jsonl"
    write_export(path, _events(), fmt="jsonl")
    return path.read_bytes()


BAD_INPUTS = {
    "empty": lambda tmp: b"",
    "whitespace": lambda tmp: b"  \n\n",
    "truncated_json": lambda tmp: _good_json(tmp)[:-40],
    "truncated_jsonl": lambda tmp: b"\n".join(_good_jsonl(tmp).split(b"\n")[:3]) + b"\n",
    "cut_jsonl_line": lambda tmp: _good_jsonl(tmp)[:-30],
    "not_json": lambda tmp: b"hello, I am not an export\n",
    "nul_bytes": lambda tmp: b"\x00" * 64,
    "nul_inside": lambda tmp: _good_jsonl(tmp).replace(b"\n", b"\n\x00\x00", 1),
    "wrong_version": lambda tmp: _good_json(tmp).replace(b'"1.0"', b'"2.0"', 1),
    "array": lambda tmp: b"[1, 2, 3]",
    "wrong_type_seq": lambda tmp: _good_json(tmp).replace(b'"seq": 1', b'"seq": "1"', 1),
    "wrong_type_events": lambda tmp: orjson.dumps(
        orjson.loads(_good_json(tmp)) | {"events": {"a": 1}}
    ),
    "uuid_bad_chars_jsonl": lambda tmp: _good_jsonl(tmp).replace(
        b'"event_id":"0', b'"event_id":"Z', 1
    ),
    "uuid_bad_chars_json": lambda tmp: _good_json(tmp).replace(
        b'"message_id": "0', b'"message_id": "Z', 1
    ),
    "digest_not_hex": lambda tmp: _good_jsonl(tmp).replace(
        b'"prev_digest":"0', b'"prev_digest":"g', 1
    ),
    "unicode_digit_time": lambda tmp: _good_jsonl(tmp).replace(
        b'"timestamp":"2', '"timestamp":"\u0662'.encode(), 1
    ),
    "event_not_object": lambda tmp: orjson.dumps(orjson.loads(_good_json(tmp)) | {"events": [3]}),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_inputs_are_refused_with_exit_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(BAD_INPUTS[name](tmp_path))
    with pytest.raises(ExportFormatError) as info:
        reader = ExportReader.open(path)
        list(reader.events())
    assert str(path) in str(info.value)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_anchor(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json" in result.stderr
    path = tmp_path / "good.json"
    path.write_bytes(_good_json(tmp_path))
    result = runner.invoke(app, ["verify", str(path), "--expect-head", "s-1=abc"])
    assert result.exit_code == 2
    assert "SESSION=DIGEST" in result.stderr


def test_verify_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_bytes(_good_jsonl(tmp_path))
    riff = [sys.executable, "-m", "riff.cli.main"]
    ok = subprocess.run(
        [*riff, "verify", "--json", str(path)], capture_output=True, timeout=HANG_LIMIT
    )
    assert ok.returncode == 0, ok.stderr
    report = orjson.loads(ok.stdout)
    assert report == {"ok": True, "events_checked": 6, "sessions_checked": 2, "breaks": []}
    path.write_bytes(path.read_bytes().replace(b'"operator":"bob"', b'"operator":"eve"'))
    bad = subprocess.run([*riff, "verify", str(path)], capture_output=True, timeout=HANG_LIMIT)
    assert bad.returncode == 1
    assert b"digest_mismatch" in bad.stdout
    assert b"Traceback" not in bad.stderr
