"""A realistic ``projects/<slug>/<session>.jsonl`` tree of healthy and broken sessions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from riff.testing.synthetic import (
    BREAKAGE_KINDS,
    DEFAULT_START,
    GeneratedSession,
    GroundTruth,
    generate_session,
    write_generated_session,
)
from riff.testing.synthetic_inject import inject


@dataclass(frozen=True)
class BuiltSession:
    path: Path
    session_id: str
    project: str
    is_subagent: bool
    parent_session_id: str | None = None
    breakages: list[GroundTruth] = field(default_factory=list)


_PROJECTS = ("/home/dev/projects/shop", "/home/dev/projects/riff-demo", "/home/dev/work/api")


def build_projects_dir(
    projects_dir: Path, *, sessions: int = 8, seed: int = 0, messages: int = 300
) -> list[BuiltSession]:
    """Lay out ``sessions`` sessions (about half broken) plus subagent files.

    The first session is healthy and gets a 2.x subagent file and a
    compaction-agent file whose first parent lives in the session's own file.
    """
    rng = random.Random(seed)
    built: list[BuiltSession] = []
    for n in range(sessions):
        cwd = _PROJECTS[n % len(_PROJECTS)]
        start = DEFAULT_START + timedelta(days=n, minutes=rng.randint(0, 600))
        inline = n % 4 == 3  # a 1.x-style session with inline sidechains
        session = generate_session(
            messages + rng.randint(0, messages),
            seed=rng.getrandbits(32),
            start=start,
            cwd=cwd,
            version="1.0.98" if inline else "2.0.76",
            inline_sidechains=inline,
        )
        truths: list[GroundTruth] = []
        if n % 2 == 1:
            for kind in rng.sample(BREAKAGE_KINDS, rng.randint(1, 2)):
                truths += inject(session, kind, 1, rng)
        path = projects_dir / session.project_slug / f"{session.session_id}.jsonl"
        write_generated_session(path, session)
        built.append(
            BuiltSession(path, session.session_id, session.project_slug, False, None, truths)
        )
        if n == 0:
            built += _subagents(projects_dir, session, rng)
    return built


def _subagents(
    projects_dir: Path, parent: GeneratedSession, rng: random.Random
) -> list[BuiltSession]:
    out = []
    folder = projects_dir / parent.project_slug / parent.session_id / "subagents"
    agent_id = f"{rng.getrandbits(32):08x}"
    agent = generate_session(
        40,
        seed=rng.getrandbits(32),
        session_id=parent.session_id,
        cwd=parent.cwd,
        sidechain=True,
        agent_id=agent_id,
        compactions=False,
    )
    path = write_generated_session(folder / f"agent-{agent_id}.jsonl", agent)
    out.append(
        BuiltSession(path, f"agent-{agent_id}", parent.project_slug, True, parent.session_id)
    )
    # A compaction agent continues from a message of the parent's own file.
    anchor = parent.messages()[-1]["uuid"]
    compact_id = f"acompact-{rng.getrandbits(32):08x}"
    compact = generate_session(
        12,
        seed=rng.getrandbits(32),
        session_id=parent.session_id,
        cwd=parent.cwd,
        sidechain=True,
        agent_id=compact_id,
        compactions=False,
        first_parent=anchor,
    )
    path = write_generated_session(folder / f"agent-{compact_id}.jsonl", compact)
    out.append(
        BuiltSession(path, f"agent-{compact_id}", parent.project_slug, True, parent.session_id)
    )
    return out
