"""Team mode through the CLI: a record user repairs without writing views; root creates users."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.cli.app import app
from tests.cli.conftest import demo_sessions, riff_env  # noqa: F401 (fixtures)

runner = CliRunner()


@pytest.fixture
def alice(demo_sessions: list[DemoSession], monkeypatch: pytest.MonkeyPatch) -> list[DemoSession]:  # noqa: F811
    created = runner.invoke(app, ["db", "create-user", "alice", "--password", "pw-alice"])
    assert created.exit_code == 0, created.output
    monkeypatch.setenv("RIFF_DB_ACCESS", "operator")
    monkeypatch.setenv("RIFF_DB_USERNAME", "alice")
    monkeypatch.setenv("RIFF_DB_PASSWORD", "pw-alice")
    return demo_sessions


def test_a_record_user_repairs_and_root_verifies(
    alice: list[DemoSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    orphaned = next(s for s in alice if "orphan" in s.breakages)
    done = runner.invoke(app, ["repair", orphaned.session_id, "--yes", "--write", "--json"])
    assert done.exit_code == 0, done.output
    events = orjson.loads(done.stdout)["events"]
    assert events and {e["operator"] for e in events} == {"alice"}
    for key in ("RIFF_DB_ACCESS", "RIFF_DB_USERNAME", "RIFF_DB_PASSWORD"):
        monkeypatch.delenv(key)
    checked = runner.invoke(app, ["verify", "--db", "--json"])
    assert checked.exit_code == 0, checked.output
    assert orjson.loads(checked.stdout)["events_checked"] == len(events)


def test_a_record_user_cannot_create_users(alice: list[DemoSession]) -> None:
    result = runner.invoke(app, ["db", "create-user", "bob", "--password", "pw-bob"])
    assert result.exit_code == 2
    assert "created record user" not in result.output and "root" in result.stderr
