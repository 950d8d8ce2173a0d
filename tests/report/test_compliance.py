"""The compliance package: written by `riff report --compliance`, checked by `riff verify DIR`."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.report.browser import chromium_page, find_chromium
from tests.report.conftest import TeamLog


@pytest.fixture(scope="module")
def package(team_log: TeamLog) -> tuple[Path, dict[str, Any]]:
    events = orjson.loads(team_log.riff("log", "--json").stdout)["events"]
    days = sorted({e["timestamp"][:10] for e in events})
    since, until = days[1], days[-2]
    out = team_log.root / "package"
    result = team_log.riff(
        "report", "--compliance", "-o", str(out), "--since", since, "--until", until, "--json"
    )
    assert result.exit_code == 0, result.output
    return out, orjson.loads(result.stdout) | {"since": since, "until": until, "all": events}


def _copy(package: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    return copy


def test_package_holds_the_period_and_verifies(
    team_log: TeamLog, package: tuple[Path, dict[str, Any]]
) -> None:
    out, info = package
    assert sorted(p.name for p in out.iterdir()) == [
        "MANIFEST.json", "VERIFY.md", "checkpoint.note", "events.csv", "events.jsonl",
        "key.vkey", "proofs", "report.html", "report.json",
    ]  # fmt: skip
    in_period = [e for e in info["all"] if info["since"] <= e["timestamp"][:10] <= info["until"]]
    assert info["events_in_period"] == len(in_period) > 0
    sessions = {e["session_id"] for e in in_period}
    whole_chains = [e for e in info["all"] if e["session_id"] in sessions]
    assert info["events_exported"] == len(whole_chains)
    with (out / "events.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["event_id"] for r in rows if r["in_period"] == "true"] == [
        e["event_id"] for e in sorted(in_period, key=lambda e: (e["session_id"], e["seq"]))
    ]
    verify_md = (out / "VERIFY.md").read_text()
    assert "riff verify" in verify_md and "--key VKEY" in verify_md
    report = orjson.loads((out / "report.json").read_bytes())
    assert report["repairs"]["events"] == len(in_period)
    # One proof per event of the period, against the checkpoint made for the package.
    proofs = sorted(p.stem for p in (out / "proofs").iterdir())
    assert proofs == sorted(e["event_id"] for e in in_period)
    manifest = orjson.loads((out / "MANIFEST.json").read_bytes())
    assert manifest["checkpoint"]["size"] == len(info["all"])
    assert report["checkpoint"]["size"] == len(info["all"]) and report["checkpoint"]["ok"]

    checked = team_log.riff("verify", str(out), "--json")
    assert checked.exit_code == 0, checked.output
    doc = orjson.loads(checked.stdout)
    assert doc["ok"] and doc["events_checked"] == len(whole_chains)
    assert doc["events_in_period"] == len(in_period)
    assert doc["files_checked"] == len(manifest["files"]) == 7 + len(in_period)
    assert doc["proofs_checked"] == len(in_period) and doc["key"] == "key.vkey"
    vkey = (out / "key.vkey").read_text().strip()
    with_key = team_log.riff("verify", str(out), "--key", vkey, "--json")
    assert with_key.exit_code == 0 and orjson.loads(with_key.stdout)["key"] == "--key"
    plain = team_log.riff("verify", str(out))
    said = " ".join(plain.stdout.split())
    assert plain.exit_code == 0 and "intact" in said and "csv matches" in said


def _edit_csv_cell(path: Path, column: str, value: str | None) -> None:
    """Set `column` of the first event; None flips a true/false cell."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index(column)
    rows[1][at] = value if value is not None else {"true": "false", "false": "true"}[rows[1][at]]
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _reseal_manifest(directory: Path, name: str) -> None:
    """What a careful forger does: fix the manifest's hash of the file they changed."""
    import hashlib

    manifest = orjson.loads((directory / "MANIFEST.json").read_bytes())
    manifest["files"][name]["sha256"] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    (directory / "MANIFEST.json").write_bytes(orjson.dumps(manifest))


def _first_proof(directory: Path) -> Path:
    return sorted((directory / "proofs").iterdir())[0]


def _edit_proof(directory: Path) -> None:
    """Change one hash of the inclusion path (base64 lines after `index N`)."""
    path = _first_proof(directory)
    lines = path.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("index ")) + 1
    lines[at] = ("B" if lines[at][0] == "A" else "A") + lines[at][1:]
    path.write_text("\n".join(lines))


def test_tampering_is_found(
    team_log: TeamLog, package: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = package
    cases = {
        "proof edited": _edit_proof,
        "proof missing": lambda d: _first_proof(d).unlink(),
        "csv operator": lambda d: _edit_csv_cell(d / "events.csv", "operator", "mallory"),
        "csv period flag": lambda d: _edit_csv_cell(d / "events.csv", "in_period", None),
        "missing report": lambda d: (d / "report.html").unlink(),
        "extra file": lambda d: (d / "notes.txt").write_text("trust me"),
        "export edited": lambda d: (d / "events.jsonl").write_text(
            (d / "events.jsonl").read_text().replace('"operator":"', '"operator":"mallory-', 1)
        ),
    }
    for name, damage in cases.items():
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(out, copy)
        damage(copy)
        result = team_log.riff("verify", str(copy))
        assert result.exit_code == 1, (name, result.output)
        assert "PROBLEMS" in result.stdout, name
        # Even with the manifest's hashes made to match, the content checks catch it.
        resealed = {"csv operator": "events.csv", "export edited": "events.jsonl",
                     "proof edited": f"proofs/{_first_proof(copy).name}"}  # fmt: skip
        if name in resealed:
            target = resealed[name]
            _reseal_manifest(copy, target)
            again = team_log.riff("verify", str(copy), "--json")
            assert again.exit_code == 1, (name, again.output)
            problems = orjson.loads(again.stdout)["problems"]
            assert problems and all("SHA-256" not in p for p in problems), problems


def test_a_key_other_than_the_signers_fails(
    team_log: TeamLog, package: tuple[Path, dict[str, Any]]
) -> None:
    from riff.tlog import NoteSigner

    out, _ = package
    other = NoteSigner.generate("riff").verifier().vkey
    result = team_log.riff("verify", str(out), "--key", other, "--json")
    assert result.exit_code == 1, result.output
    assert any("checkpoint.note" in p for p in orjson.loads(result.stdout)["problems"])


def test_not_a_package_is_exit_2(team_log: TeamLog, tmp_path: Path) -> None:
    result = team_log.riff("verify", str(tmp_path))
    assert result.exit_code == 2
    assert "not a riff compliance package" in result.output
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    refused = team_log.riff("report", "--compliance", "-o", str(tmp_path / "x"))
    assert refused.exit_code == 2 and "not an empty directory" in refused.output
    assert team_log.riff("report", "--compliance").exit_code == 2


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")
def test_package_report_opens_cleanly(package: tuple[Path, dict[str, Any]]) -> None:
    out, info = package
    with chromium_page() as page:
        page.open(out / "report.html")
        assert page.console_errors() == []
        assert page.requests() == [(out / "report.html").resolve().as_uri()]
        title = page.evaluate("document.querySelector('h1').textContent")
        assert title == "riff compliance report"
        verdict = page.evaluate("document.querySelector('.checkpoint .verdict').textContent")
        assert verdict == "Newest signed checkpoint"
        size = page.evaluate("document.querySelector('.checkpoint .kv td').textContent")
        assert size.startswith(f"{len(info['all']):,} events")
        meta = page.evaluate("document.querySelector('.meta').textContent")
        assert info["since"] in meta and info["until"] in meta
