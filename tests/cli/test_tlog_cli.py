"""`riff checkpoint`, `riff key show`, `riff prove`, `riff verify` of proofs and `--db`
against checkpoints, through the real CLI and the embedded store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.cli.app import app

runner = CliRunner()


def riff(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def riff_json(*args: str, code: int = 0) -> Any:
    result = riff(*args, "--json")
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return orjson.loads(result.stdout)


def repaired(demo_sessions: list[DemoSession]) -> list[dict[str, Any]]:
    for demo in demo_sessions:
        if "orphan" in demo.breakages:
            assert riff("repair", demo.session_id, "--yes").exit_code in (0, 1)
    events: list[dict[str, Any]] = riff_json("log")["events"]
    assert events
    return events


def test_checkpoint_prove_and_verify_offline(
    riff_env: dict[str, str], demo_sessions: list[DemoSession], tmp_path: Path
) -> None:
    events = repaired(demo_sessions)
    made = riff_json("checkpoint")
    assert made["size"] == len(events) and made["created"]
    assert Path(made["path"]).read_text() == made["note"]
    plain = riff("checkpoint")
    assert plain.exit_code == 0 and made["note"] in plain.stdout
    key = riff_json("key", "show")
    assert key["vkey"].startswith(key["name"] + "+" + key["key_id"] + "+")

    proof_file = tmp_path / "event.tlog-proof"
    target = events[-1]["event_id"]
    assert riff("prove", target, "-o", str(proof_file)).exit_code == 0
    assert proof_file.read_text().startswith("c2sp.org/tlog-proof@v1\n")
    # Another machine: no data dir, only the public key.
    checked = runner.invoke(
        app,
        [
            "--data-dir",
            str(tmp_path / "elsewhere"),
            "verify",
            str(proof_file),
            "--key",
            key["vkey"],
            "--json",
        ],
    )
    assert checked.exit_code == 0, checked.output
    doc = orjson.loads(checked.stdout)
    assert doc["ok"] and doc["event_id"] == target and doc["kind"] == "inclusion"

    # Any edit fails: the event, the path, the note, the signature.
    text = proof_file.read_text()
    lines = text.split("\n")
    edits = {
        "event": text.replace(
            lines[1], lines[1][:-6] + ("A" if lines[1][-6] != "A" else "B") + lines[1][-5:]
        ),
        "path": text.replace(lines[3], lines[3][::-1], 1),
        "note": text.replace(f"\n{made['size']}\n", f"\n{made['size'] + 1}\n"),
        "signature": text[:-10] + ("A" if text[-10] != "A" else "B") + text[-9:],
    }
    for name, edited in edits.items():
        assert edited != text, name
        bad = tmp_path / f"{name}.tlog-proof"
        bad.write_text(edited)
        result = riff("verify", str(bad), "--key", key["vkey"])
        assert result.exit_code == 1, (name, result.output)
        assert "INVALID PROOF" in result.stdout

    consistency = tmp_path / "grow.json"
    assert riff("revert", events[0]["event_id"], "--yes").exit_code == 0
    riff_json("checkpoint")
    assert (
        riff(
            "prove", "--consistency", str(made["size"]), "newest", "-o", str(consistency)
        ).exit_code
        == 0
    )
    assert riff_json("verify", str(consistency), "--key", key["vkey"])["kind"] == "consistency"


def test_verify_db_against_checkpoints_and_an_auditors_copy(
    riff_env: dict[str, str], demo_sessions: list[DemoSession], tmp_path: Path
) -> None:
    repaired(demo_sessions)
    made = riff_json("checkpoint")
    auditor = tmp_path / "auditor.note"
    auditor.write_text(made["note"])
    doc = riff_json("verify", "--db", "--checkpoint", str(auditor))
    assert doc["ok"] and doc["tlog"]["ok"]
    assert {c["source"] for c in doc["tlog"]["checkpoints"]} == {"disk", "database", "given"}

    # Replace the store by a fresh one: the checkpoint outside it remembers.
    data = Path(riff_env["RIFF_DATA_DIR"])
    shutil.rmtree(data / "store")
    (data / "checkpoints" / f"{made['size']}.note").unlink()
    result = riff("verify", "--db", "--checkpoint", str(auditor))
    assert result.exit_code == 1, result.output
    assert "replaced or re-created" in " ".join(result.stdout.split())


def test_verify_db_after_root_deletes_an_event(
    riff_env: dict[str, str], demo_sessions: list[DemoSession]
) -> None:
    events = repaired(demo_sessions)
    riff_json("checkpoint")
    from riff.settings import load_settings
    from riff.store import open_store

    victim = events[0]
    with open_store(load_settings()) as store:
        store.conn.run("REMOVE EVENT repairs_no_mut ON repairs_events")
        store.conn.run(
            "DELETE type::thing('repairs_events', [$s, $q])",
            {"s": victim["session_id"], "q": victim["seq"]},
        )
    result = riff("verify", "--db")
    assert result.exit_code == 1
    assert victim["event_id"] in result.stdout
    assert "missing from the database" in result.stdout


def test_repair_and_revert_checkpoint_when_the_setting_asks(
    riff_env: dict[str, str], demo_sessions: list[DemoSession], monkeypatch: Any
) -> None:
    monkeypatch.setenv("RIFF_CHECKPOINT_ON_CHANGE", "true")
    events = repaired(demo_sessions)
    listed = riff_json("checkpoint", "--list")["checkpoints"]
    assert listed[-1]["size"] == len(events)
    assert riff("revert", events[0]["event_id"], "--yes").exit_code == 0
    listed = riff_json("checkpoint", "--list")["checkpoints"]
    assert listed[-1]["size"] == len(events) + 1 and listed[-1]["on_disk"]


def test_verify_export_against_its_checkpoint_and_an_auditors(
    riff_env: dict[str, str], demo_sessions: list[DemoSession], tmp_path: Path
) -> None:
    repaired(demo_sessions)
    made = riff_json("checkpoint")
    export = tmp_path / "log.jsonl"
    assert riff("export", "-o", str(export), "--format", "jsonl").exit_code == 0
    auditor = tmp_path / "auditor.note"
    auditor.write_text(made["note"])
    doc = riff_json("verify", str(export), "--checkpoint", str(auditor))
    assert doc["ok"] and len(doc["tlog"]["checkpoints"]) == 2
    forged = tmp_path / "forged.note"
    forged.write_text(made["note"].replace(f"\n{made['size']}\n", f"\n{made['size'] - 1}\n"))
    result = riff("verify", str(export), "--checkpoint", str(forged))
    assert result.exit_code == 1 and "invalid signature" in result.stdout
