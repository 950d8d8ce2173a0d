from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from riff.app.demo import DemoSession, build_demo_projects


@pytest.fixture
def riff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A generated projects dir and a temp embedded store, as environment for riff."""
    env = {
        "RIFF_PROJECTS_DIR": str(tmp_path / "projects"),
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_DB_URL": f"surrealkv://{tmp_path / 'data' / 'store'}",
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env


@pytest.fixture
def demo_sessions(riff_env: dict[str, str]) -> list[DemoSession]:
    return build_demo_projects(Path(riff_env["RIFF_PROJECTS_DIR"]), seed=7)
