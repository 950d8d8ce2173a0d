"""Generated data for the jobs tests: synthetic transcripts, their views, real repairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from riff.app.eventlog import EventLog
from riff.app.recording import append_repair, current_state
from riff.app.viewstore import rebuild_from_file
from riff.settings import Settings
from riff.testing.synthetic import generate_session, write_generated_session

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    session_id: str
    path: Path


def stepping_clock(
    start: datetime = T0, step: timedelta = timedelta(days=1)
) -> Callable[[], datetime]:
    """A clock that advances `step` per call: event timestamps far apart, deterministically."""
    state = {"now": start - step}

    def tick() -> datetime:
        state["now"] += step
        return state["now"]

    return tick


def seed_sessions(
    store: EventLog,
    root: Path,
    *,
    sessions: int = 4,
    repairs: int = 3,
    messages: int = 40,
) -> list[Seeded]:
    """Write transcripts, materialize their views, append valid repairs through the store."""
    seeded: list[Seeded] = []
    for n in range(sessions):
        generated = generate_session(messages, seed=1000 + n)
        path = write_generated_session(
            root / "projects" / f"{generated.session_id}.jsonl", generated
        )
        view = rebuild_from_file(store, path)
        sid = view.session_id
        append_repairs(store, sid, repairs)
        seeded.append(Seeded(sid, path))
    return seeded


def append_repairs(store: EventLog, session_id: str, count: int) -> None:
    """`count` valid repairs: move later messages under the session's first message and back."""
    parents, _times, _seq = current_state(store, session_id)
    roots = sorted(m for m, p in parents.items() if p is None)
    movable = sorted(m for m, p in parents.items() if p is not None and p not in roots)
    for k in range(count):
        parents, _times, _seq = current_state(store, session_id)
        message = movable[k % len(movable)]
        root = _root_of(parents, message)
        original = store.get_view(session_id)
        assert original is not None
        target = root if parents[message] != root else original.base_parents[message]
        append_repair(store, session_id, message, target, operator="alice", reason=f"job test {k}")


def _root_of(parents: dict[str, str | None], message: str) -> str:
    node = message
    while parents.get(node) is not None:
        node = parents[node]  # type: ignore[assignment]
    return node


def mem_settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(db_url="mem://", data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def kv_settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(db_url=f"surrealkv://{tmp_path / 'store'}", data_dir=tmp_path, **kw)  # type: ignore[arg-type]
