"""A team's few weeks with riff, generated: the data behind the dashboard's demo.

Generated transcripts across a handful of projects, repaired through the same
pipeline `riff repair` uses (suggested parents with their real scores, a few
chosen by hand, some reverted later) by several operators over several weeks.
The event log's clock is set to each repair's moment so the charts over time have
something to show. Deterministic for a seed (except event ids).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from riff.app.repairs import apply_plan, plan_repairs, revert_event
from riff.app.sessions import load_session
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.chain import utc_now
from riff.testing.synthetic import (
    DEFAULT_START,
    generate_session,
    inject,
    write_generated_session,
)

PROJECTS = (
    "/home/dev/projects/shop",
    "/home/dev/work/api",
    "/home/dev/projects/riff-demo",
    "/home/dev/oss/parser",
    "/home/dev/work/infra",
)
OPERATORS = ("alice", "bob", "carol", "dmitri")
# Breakages per session, drawn in turn; empty means a healthy session.
BREAKAGES: tuple[tuple[str, ...], ...] = (
    ("orphan",),
    (),
    ("orphan", "orphan"),
    ("tool_use_without_result",),
    (),
    ("orphan", "unexpected_root"),
    ("malformed_line",),
    (),
    ("orphan",),
    ("truncated_line",),
    ("orphan", "tool_use_without_result"),
    (),
)


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


@dataclass(frozen=True)
class DemoLog:
    sessions: int
    events: list[RepairEvent]


def build_demo_log(
    ws: Workspace,
    *,
    sessions: int = 36,
    days: int = 42,
    seed: int = 11,
    start: datetime = DEFAULT_START,
    operators: Sequence[str] = OPERATORS,
) -> DemoLog:
    """Write `sessions` transcripts under the workspace's projects dir and repair most."""
    rng = random.Random(seed)
    projects_dir: Path = ws.projects_dir
    broken: list[tuple[Path, datetime]] = []
    for n in range(sessions):
        begun = start + timedelta(days=days * n / sessions, minutes=rng.randint(0, 600))
        session = generate_session(
            rng.randint(120, 320),
            seed=rng.getrandbits(32),
            start=begun,
            cwd=PROJECTS[n % len(PROJECTS)],
            version="2.0.76",
        )
        kinds = BREAKAGES[n % len(BREAKAGES)]
        for kind in kinds:
            inject(session, kind, 1, rng)
        path = projects_dir / session.project_slug / f"{session.session_id}.jsonl"
        write_generated_session(path, session)
        if "orphan" in kinds:
            broken.append((path, begun))
    ws.forget_sessions()

    store = ws.store  # its clock seals each repair at the moment chosen for it
    events: list[RepairEvent] = []
    for path, begun in broken:
        if rng.random() < 0.2:
            continue  # not repaired yet: the dashboard's broken sessions
        moment = begun + timedelta(hours=rng.choice((0.3, 2, 5, 20, 50, 130, 400)))
        store.clock = _fixed(moment)
        operator = rng.choice(operators)
        state = load_session(ws, ws.resolve(str(path)))
        by_hand = rng.random() < 0.2
        plan = plan_repairs(state, min_score=0.0)
        if by_hand and plan.items:
            item = plan.items[0]
            parent, root = item.new_parent, item.new_parent is None
            plan = plan_repairs(
                state, min_score=0.0, message=item.message_id, parent=parent, root=root
            )
        # The generator wrote these files a moment ago and nothing else has them open.
        result = apply_plan(ws, plan, operator=operator, write=True, backup=False, force_live=True)
        events += result.events
        for event in result.events:
            if rng.random() < 0.15:
                later = moment + timedelta(hours=rng.randint(1, 72))
                store.clock = _fixed(later)
                revert, _ = revert_event(
                    ws, event.event_id, operator=rng.choice(operators),
                    reason="wrong parent: the answer belongs to the earlier question",
                    write=True, backup=False, force_live=True,
                )  # fmt: skip
                events.append(revert)
        ws.forget_sessions()
    store.clock = utc_now
    return DemoLog(sessions, events)
