"""Demo data: a realistic Claude Code projects directory with known breakages."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from riff.app.workspace import Workspace
from riff.testing.synthetic import (
    DEFAULT_START,
    GroundTruth,
    generate_session,
    inject,
    write_generated_session,
)


@dataclass(frozen=True)
class DemoSession:
    path: Path
    session_id: str
    breakages: tuple[str, ...]
    truths: tuple[GroundTruth, ...] = ()


# (project working dir, messages, Claude Code version, inline sidechains, breakages)
_PLAN: tuple[tuple[str, int, str, bool, tuple[str, ...]], ...] = (
    ("/home/dev/projects/shop", 420, "2.0.76", False, ("orphan", "orphan")),
    ("/home/dev/projects/shop", 260, "2.0.76", False, ()),
    ("/home/dev/work/api", 380, "2.0.76", False, ("orphan", "unexpected_root")),
    ("/home/dev/work/api", 300, "1.0.98", True, ()),
    ("/home/dev/projects/riff-demo", 340, "2.0.76", False, ("orphan", "tool_use_without_result")),
    ("/home/dev/projects/riff-demo", 200, "2.0.76", False, ("malformed_line", "truncated_line")),
)


def build_demo_projects(projects_dir: Path, *, seed: int = 7) -> list[DemoSession]:
    """Write the demo sessions under `projects_dir`; deterministic for a seed."""
    rng = random.Random(seed)
    built = []
    for n, (cwd, messages, version, inline, breakages) in enumerate(_PLAN):
        session = generate_session(
            messages,
            seed=rng.getrandbits(32),
            start=DEFAULT_START + timedelta(days=n, minutes=rng.randint(0, 600)),
            cwd=cwd,
            version=version,
            inline_sidechains=inline,
        )
        truths: list[GroundTruth] = []
        for kind in breakages:
            truths += inject(session, kind, 1, rng)
        path = projects_dir / session.project_slug / f"{session.session_id}.jsonl"
        write_generated_session(path, session)
        built.append(DemoSession(path, session.session_id, breakages, tuple(truths)))
    return built


@dataclass(frozen=True)
class Refusal:
    statement: str
    refused: bool
    reason: str


def database_refusals(ws: Workspace) -> list[Refusal]:
    """Try to rewrite and to delete the log with raw statements, as root: the database refuses.

    The statements go to SurrealDB itself, past riff's own checks, to show
    that the append-only rule lives in the schema (READONLY fields, a table
    event refusing UPDATE and DELETE), not only in riff's code.
    """
    from riff.app.admin import surreal_store
    from riff.store import QueryFailed

    conn = surreal_store(ws).conn
    results: list[Refusal] = []
    for statement in ("UPDATE repairs_events SET operator = 'mallory'", "DELETE repairs_events"):
        try:
            conn.run(statement)
        except QueryFailed as exc:  # the engine's refusal; its first clause says why
            results.append(Refusal(statement, True, str(exc).split(",")[0]))
        else:
            results.append(Refusal(statement, False, "went through"))
    return results
