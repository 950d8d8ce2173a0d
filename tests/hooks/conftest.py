from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from riff.app.demo import DemoSession, build_demo_projects
from riff.settings import Settings, load_settings


@pytest.fixture
def riff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A projects dir and a temp embedded store, as environment for riff (and its children)."""
    env = {
        "RIFF_PROJECTS_DIR": str(tmp_path / "projects"),
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_DB_URL": f"surrealkv://{tmp_path / 'data' / 'store'}",
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env


@pytest.fixture
def demo(riff_env: dict[str, str]) -> list[DemoSession]:
    return build_demo_projects(Path(riff_env["RIFF_PROJECTS_DIR"]), seed=7)


@pytest.fixture
def settings(riff_env: dict[str, str]) -> Settings:
    return load_settings()


def pick(demo: list[DemoSession], breakages: tuple[str, ...]) -> DemoSession:
    return next(s for s in demo if s.breakages == breakages)


def hook_input(event: str, session: DemoSession, **extra: str) -> bytes:
    """What Claude Code writes on the hook's stdin (the fields riff reads, as 2.1.332 sends)."""
    return orjson.dumps(
        {
            "session_id": session.session_id,
            "transcript_path": str(session.path),
            "cwd": "/home/dev/projects/shop",
            "hook_event_name": event,
            **extra,
        }
    )


def wait_until(condition: Callable[[], bool], what: str, bound: float = 120.0) -> None:
    """Wait for a condition, polling; a generous upper bound only turns a hang into a failure
    (nothing here measures speed)."""
    give_up = time.monotonic() + bound
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"gave up after {bound:.0f} s waiting until {what}")
        time.sleep(0.1)
