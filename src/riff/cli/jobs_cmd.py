"""`riff jobs`: the background jobs (filled in by the jobs work)."""

from __future__ import annotations

import typer

jobs_app = typer.Typer(help="Background jobs: keep views fresh, verify integrity, archive.")
