"""`riff show`: it only reads (no store created), and prints user text as typed."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.cli.app import app

runner = CliRunner()


def test_show_creates_no_store(demo_sessions: list[DemoSession], riff_env: dict[str, str]) -> None:
    store = Path(riff_env["RIFF_DB_URL"].removeprefix("surrealkv://"))
    session = demo_sessions[0]
    result = runner.invoke(app, ["show", session.session_id[:8], "--no-pager"])
    assert result.exit_code == 0, result.output
    assert "0 repair events" in result.output
    assert not store.exists()


def test_show_counts_the_events_of_an_existing_store(
    demo_sessions: list[DemoSession], riff_env: dict[str, str]
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    repaired = runner.invoke(app, ["repair", target.session_id[:8], "--yes"])
    assert repaired.exit_code == 0, repaired.output
    result = runner.invoke(app, ["show", target.session_id[:8], "--no-pager"])
    assert result.exit_code == 0, result.output
    assert " 0 repair events" not in result.output
    assert "repair events" in result.output


def _show_one_message(riff_env: dict[str, str], message: dict[str, str]) -> str:
    """`riff show` of a session of one user row carrying ``message``; its output."""
    project = Path(riff_env["RIFF_PROJECTS_DIR"]) / "-home-dev-app"
    project.mkdir(parents=True)
    session = project / "11111111-1111-4111-8111-111111111111.jsonl"
    row = {
        "type": "user",
        "uuid": "aaaaaaaa-0000-4000-8000-000000000001",
        "parentUuid": None,
        "sessionId": "11111111-1111-4111-8111-111111111111",
        "timestamp": "2025-01-01T00:00:00.000Z",
        "message": message,
    }
    session.write_bytes(orjson.dumps(row) + b"\n")
    result = runner.invoke(app, ["show", str(session), "--no-pager"])
    assert result.exit_code == 0, result.output
    return result.output


def test_show_prints_emoji_codes_in_messages_as_typed(riff_env: dict[str, str]) -> None:
    output = _show_one_message(
        riff_env, {"role": "user", "content": "ship it :rocket: [bold]now[/bold]"}
    )
    assert "ship it :rocket: [bold]now[/bold]" in output


def test_an_error_names_an_emoji_code_as_typed(riff_env: dict[str, str]) -> None:
    Path(riff_env["RIFF_PROJECTS_DIR"]).mkdir(parents=True)
    result = runner.invoke(app, ["show", ":rocket:", "--no-pager"])
    assert result.exit_code == 2, result.output
    assert "':rocket:'" in result.stderr


def test_show_prints_control_characters_in_messages_as_escapes(riff_env: dict[str, str]) -> None:
    output = _show_one_message(
        riff_env, {"role": "us\x1b[1mer", "content": "red \x1b[31malert\x1b[0m [/x] done"}
    )
    assert "\x1b" not in output
    assert "red \\x1b[31malert\\x1b[0m [/x] done" in output
    assert "us\\x1b[1mer" in output
