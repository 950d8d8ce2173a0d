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
    # Re-parenting only: the line kinds (the default plan) repair the genuine torn
    # lines and unanswered tool calls a few of these files hold.
    result = CliRunner().invoke(app, ["repair", str(copy), "--kinds", "parent", "--yes", "--write"])
    assert result.exit_code == 0, result.output
    assert copy.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in copy.parent.iterdir()) == [path.name]  # no backup either


def test_compaction_agent_rows_pointing_into_the_session_file_are_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orjson

    def line(uuid: str, parent: str | None, kind: str, second: int, **extra: object) -> bytes:
        content = "go" if kind == "user" else [{"type": "text", "text": "ok"}]
        return (
            orjson.dumps(
                {
                    "type": kind,
                    "uuid": uuid,
                    "parentUuid": parent,
                    "sessionId": "5e55aaaa-0000-4000-8000-000000000000",
                    "timestamp": f"2026-01-01T00:00:{second:02d}.000Z",
                    "message": {"role": kind, "content": content, "id": f"m{second}"},
                    **extra,
                }
            )
            + b"\n"
        )

    project = tmp_path / "projects" / "-home-dev-x"
    project.mkdir(parents=True)
    main = project / "5e55aaaa-0000-4000-8000-000000000000.jsonl"
    main.write_bytes(
        line("u1", None, "user", 1)
        + line("a1", "u1", "assistant", 2)
        + line("u2", "a1", "user", 3)
        + line("a2", "u2", "assistant", 4)
    )
    agent = project / "agent-acompact-1234.jsonl"
    side = {"isSidechain": True}
    agent.write_bytes(
        line("c1", "a2", "user", 5, **side)
        + line("c2", "c1", "assistant", 6, **side)
        + line("c3", "a1", "user", 7, **side)  # its parent lives in the session file
        + line("c4", "c3", "assistant", 8, **side)
    )
    before = agent.read_bytes()
    for key, value in {
        "RIFF_PROJECTS_DIR": str(tmp_path / "projects"),
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_DB_URL": "mem://",
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    scanned = CliRunner().invoke(app, ["--json", "scan", "agent-acompact-1234"])
    assert scanned.exit_code == 0, scanned.output
    result = CliRunner().invoke(app, ["repair", "agent-acompact-1234", "--yes", "--write"])
    assert result.exit_code == 0, result.output
    assert agent.read_bytes() == before
