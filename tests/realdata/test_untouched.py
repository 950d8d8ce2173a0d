"""Real transcripts as Claude Code wrote them: no false alarms, nothing rewritten."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riff.cli.main import app
from riff.transcript.detect import detect_findings
from riff.transcript.findings import Finding
from riff.transcript.reader import read_transcript
from riff.transcript.suggest import AUTO_APPLY_SCORE, ConversationRepairEngine
from tests.realdata.corpus import real_files

GENUINE = {"malformed_line", "truncated_line"}


def _genuine(finding: Finding) -> bool:
    """Properties really there: unreadable bytes, a session that ended during a call."""
    if finding.kind in GENUINE:
        return True
    return finding.kind == "tool_use_without_result" and finding.severity == "warning"


@pytest.mark.parametrize("path", real_files())
def test_no_false_alarms(path: Path) -> None:
    findings = detect_findings(read_transcript(path))
    false = [(f.kind, f.lines) for f in findings if not _genuine(f)]
    assert false == []


@pytest.mark.parametrize("path", real_files())
def test_nothing_to_auto_apply(path: Path) -> None:
    transcript = read_transcript(path)
    confident = [
        o.message_id
        for o in ConversationRepairEngine().suggest_all(transcript, k=1)
        if o.candidates and o.candidates[0].score >= AUTO_APPLY_SCORE
    ]
    assert confident == []


@pytest.mark.parametrize("path", real_files())
def test_repair_yes_write_changes_no_byte(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    projects = tmp_path / "projects"
    copy = projects / "-home-dev-real" / path.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(path, copy)
    for key, value in {
        "RIFF_PROJECTS_DIR": str(projects),
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_DB_URL": "mem://",
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["repair", str(copy), "--yes", "--write"])
    assert result.exit_code == 0, result.output
    assert copy.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in copy.parent.iterdir()) == [path.name]  # no backup either
