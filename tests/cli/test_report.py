"""`riff report`: the HTML report of what was repaired, by whom and why."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.cli.app import app

runner = CliRunner()


def test_report_lists_events_with_status_and_escapes_text(
    demo_sessions: list[DemoSession], tmp_path: Path
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    repaired = runner.invoke(
        app, ["repair", target.session_id, "--yes", "--json", "--reason", "<script>x</script>"]
    )
    assert repaired.exit_code == 0, repaired.output
    events = orjson.loads(repaired.stdout)["events"]
    assert runner.invoke(app, ["revert", events[0]["event_id"], "--yes"]).exit_code == 0

    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    for event in events:
        assert event["event_id"] in page
    assert page.count('<tr class="reverted">') == 1
    assert "intact" in page and target.session_id in page
    assert "alice" in page  # the operator from the environment

    only_bob = tmp_path / "bob.html"
    assert runner.invoke(app, ["report", "-o", str(only_bob), "--operator", "bob"]).exit_code == 0
    assert events[0]["event_id"] not in only_bob.read_text()
