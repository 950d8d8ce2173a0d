"""A workspace over one session file, for the app tests (real store in memory, real file)."""

from __future__ import annotations

from pathlib import Path

from riff.app.workspace import Workspace
from riff.settings import Settings


def workspace_with(
    root: Path, data: bytes, name: str = "s.jsonl", project: str = "-home-dev-p"
) -> tuple[Workspace, Path]:
    """A Workspace (not yet entered) whose projects dir holds ``data`` as one session."""
    path = root / "projects" / project / name
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    settings = Settings(
        db_url="mem://",
        data_dir=root / "data",
        projects_dir=root / "projects",
        operator="alice",
        live_quiet_seconds=0,  # the file was written a moment ago, by the test
    )
    return Workspace(settings), path
