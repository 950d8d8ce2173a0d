"""`riff show` only reads: it creates no store, and finds the events of one that exists."""

from __future__ import annotations

from pathlib import Path

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
