"""`riff report`: the dashboard file, its --json aggregates and its filters."""

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
    assert page.count("<tr class='reverted'>") == 1
    assert "Log intact" in page and target.session_id[:8] in page
    assert "alice" in page  # the operator from the environment
    assert "http://" not in page and "https://" not in page  # nothing to fetch

    only_bob = tmp_path / "bob.html"
    assert runner.invoke(app, ["report", "-o", str(only_bob), "--operator", "bob"]).exit_code == 0
    assert events[0]["event_id"] not in only_bob.read_text()


def test_report_json_is_the_aggregates_and_filters_apply(
    demo_sessions: list[DemoSession], tmp_path: Path
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    assert runner.invoke(app, ["repair", target.session_id, "--yes"]).exit_code == 0
    result = runner.invoke(app, ["report", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["format"] == "riff.dashboard/1"
    assert doc["health"]["sessions"] == len(demo_sessions)
    assert doc["repairs"]["repairs"] == len(target.truths) - sum(
        1 for t in target.truths if t.kind != "orphan"
    )
    assert doc["verification"]["ok"] is True and doc["checkpoint"] is None

    nobody = orjson.loads(runner.invoke(app, ["report", "--json", "--operator", "bob"]).stdout)
    assert nobody["repairs"]["events"] == 0 and nobody["filters"]["operator"] == "bob"
    future = orjson.loads(runner.invoke(app, ["report", "--json", "--since", "2999-01-01"]).stdout)
    assert future["repairs"]["events"] == 0
    project = demo_sessions[0].path.parent.name
    one = orjson.loads(runner.invoke(app, ["report", "--json", "--project", project]).stdout)
    assert {p["project"] for p in one["health"]["projects"]} == {project}


def test_report_bad_input_is_one_line_exit_2(riff_env: dict[str, str], tmp_path: Path) -> None:
    for args, needle in (
        (["report", "--json", "--since", "last tuesday"], "--since 'last tuesday'"),
        (["report", "--json", "--period", "month"], "--period 'month'"),
        (["report"], "give -o FILE.html"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert needle in result.output and "Traceback" not in result.output
