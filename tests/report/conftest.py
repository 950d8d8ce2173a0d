"""A team's projects dir and log, built once per module, and the dashboard rendered from it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from riff.app.demo_log import build_demo_log
from riff.app.repairs import revert_event
from riff.app.workspace import Workspace
from riff.cli.app import app
from riff.settings import Settings
from riff.testing.synthetic import generate_session, inject, write_generated_session

# User strings are data: these must reach the page as text, never as markup.
HOSTILE_OPERATOR = "</script><script>alert(1)</script>"
HOSTILE_REASON = "<img src=x onerror=alert(2)> & </td></tr></table>"
HOSTILE_PROJECT_CWD = "/tmp/<svg onload=alert(3)>"


@dataclass(frozen=True)
class TeamLog:
    root: Path
    env: dict[str, str]
    settings: Settings

    def riff(self, *args: str) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env)
        return result


def build_team_log(root: Path, *, sessions: int = 18) -> TeamLog:
    settings = Settings(
        data_dir=root / "data",
        projects_dir=root / "projects",
        db_url=f"surrealkv://{root / 'data' / 'store'}",
        operator="alice",
    )
    with Workspace(settings) as ws:
        log = build_demo_log(ws, sessions=sessions, days=20, seed=5)
        # A broken session in a project whose name is markup.
        rng = random.Random(3)
        session = generate_session(150, seed=99, cwd=HOSTILE_PROJECT_CWD, version="2.0.76")
        inject(session, "orphan", 1, rng)
        path = settings.projects_dir / session.project_slug / f"{session.session_id}.jsonl"
        write_generated_session(path, session)
        reverted = {e.reverts_event_id for e in log.events}
        target = next(e for e in log.events if e.kind == "repair" and e.event_id not in reverted)
        revert_event(ws, target.event_id, operator=HOSTILE_OPERATOR, reason=HOSTILE_REASON)
    env = {
        "RIFF_PROJECTS_DIR": str(settings.projects_dir),
        "RIFF_DATA_DIR": str(settings.data_dir),
        "RIFF_DB_URL": settings.db_url,
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(root / "no-config.toml"),
    }
    return TeamLog(root, env, settings)


@pytest.fixture(scope="module")
def team_log(tmp_path_factory: pytest.TempPathFactory) -> TeamLog:
    return build_team_log(tmp_path_factory.mktemp("team"))


@pytest.fixture(scope="module")
def dashboard(team_log: TeamLog) -> tuple[Path, dict[str, Any]]:
    """The dashboard file and the `--json` aggregates, from the same log."""
    page = team_log.root / "dashboard.html"
    written = team_log.riff("report", "-o", str(page))
    assert written.exit_code == 0, written.output
    data = team_log.riff("report", "--json")
    assert data.exit_code == 0, data.output
    return page, orjson.loads(data.stdout)
