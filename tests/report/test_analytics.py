"""The dashboard's aggregates, computed from sealed events and scan results."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from riff.app.analytics import DashboardFilter, build_aggregates, normalize_time
from riff.app.errors import AppError
from riff.events import ChainHead, EventDraft, EventKind, RepairEvent, seal_events
from riff.events.status import reverted_event_ids

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _mid(n: int) -> str:
    return str(uuid.UUID(int=0xABC0_0000_0000_4000_8000_0000_0000_0000 + n))


def _clock(moments: list[datetime]) -> Any:
    it: Iterator[datetime] = iter(moments)
    return lambda: next(it)


def _session(sid: str, drafts: list[EventDraft], moments: list[datetime]) -> list[RepairEvent]:
    return seal_events(ChainHead(sid), drafts, clock=_clock(moments))


def _log() -> list[RepairEvent]:
    a = _session(
        "sess-a",
        [
            EventDraft(_mid(1), _mid(90), _mid(0), "alice", "riff suggestion", 0.95),
            EventDraft(_mid(2), _mid(91), _mid(1), "alice", "riff suggestion", 0.72),
            EventDraft(_mid(3), _mid(92), None, "bob", "by hand: a new root"),
        ],
        [T0, T0 + timedelta(hours=1), T0 + timedelta(days=2)],
    )
    revert = seal_events(
        ChainHead("sess-a", 3, a[-1].event_digest),
        [
            EventDraft(
                _mid(2),
                _mid(1),
                _mid(91),
                "carol",
                "wrong",
                None,
                kind=EventKind.REVERT,
                reverts_event_id=a[1].event_id,
            )
        ],
        clock=_clock([T0 + timedelta(days=9)]),
    )
    b = _session(
        "sess-b",
        [
            EventDraft(
                _mid(5), _mid(93), _mid(4), "bob", "riff suggestion", 0.99, validation_passed=False
            )
        ],
        [T0 + timedelta(days=1)],
    )
    return [*a, *revert, *b]


SCAN = [
    {"session_id": "sess-a", "project": "-home-p-shop", "path": "/p/a.jsonl", "messages": 90,
     "resume_loss": 0, "findings": []},
    {"session_id": "sess-b", "project": "-home-p-api", "path": "/p/b.jsonl", "messages": 50,
     "resume_loss": 12, "findings": [
         {"kind": "orphan", "severity": "error", "explanation": "x"},
         {"kind": "lost_branch", "severity": "info", "explanation": "y"}]},
    {"session_id": "sess-c", "project": "-home-p-api", "path": "/p/c.jsonl", "messages": 10,
     "resume_loss": 0, "findings": [{"kind": "lost_branch", "severity": "info"}]},
]  # fmt: skip


def _aggregate(flt: DashboardFilter | None = None) -> dict[str, Any]:
    events = _log()
    reverted = reverted_event_ids(events)
    written = {(_mid(1), "sess-a"): (T0 - timedelta(minutes=30)).isoformat()}
    return build_aggregates(
        SCAN,
        [(e, e.event_id in reverted) for e in events],
        flt=flt or DashboardFilter(),
        verification={"ok": True, "events_checked": 5, "sessions_checked": 2, "breaks": []},
        checkpoint=None,
        generated_at="2026-03-20T00:00:00.000000Z",
        store_url="mem://",
        message_time=lambda sid, mid: written.get((mid, sid)),
    )


def test_health_states_kinds_and_projects() -> None:
    health = _aggregate()["health"]
    # a: no findings and active repairs; b: an error finding; c: only an info finding.
    assert health["by_state"] == {"healthy": 1, "broken": 1, "repaired": 1}
    assert health["findings_by_kind"] == {"lost_branch": 2, "orphan": 1}
    assert health["resume_loss"] == 12
    assert [p["project"] for p in health["projects"]] == ["-home-p-api", "-home-p-shop"]
    assert health["projects"][0] == {"project": "-home-p-api", "sessions": 2, "healthy": 1,
                                     "broken": 1, "repaired": 0, "findings": 3,
                                     "resume_loss": 12}  # fmt: skip
    assert [s["session_id"] for s in health["worst_sessions"]] == ["sess-b"]


def test_repair_aggregates() -> None:
    repairs = _aggregate()["repairs"]
    assert (repairs["events"], repairs["repairs"], repairs["reverts"]) == (5, 4, 1)
    assert (repairs["reverted"], repairs["active"], repairs["forced"]) == (1, 3, 1)
    assert repairs["reverted_share"] == 0.25
    assert repairs["by_kind"] == {"re-parent": 3, "make root": 1, "revert": 1}
    assert repairs["by_method"] == [
        {"method": "suggested", "repairs": 3, "reverted": 1, "reverted_share": 0.3333},
        {"method": "by hand", "repairs": 1, "reverted": 0, "reverted_share": 0.0},
    ]
    by_op = {o["operator"]: o for o in repairs["by_operator"]}
    assert by_op["alice"] == {"operator": "alice", "repairs": 2, "reverts": 0, "reverted": 1}
    assert by_op["carol"]["reverts"] == 1
    buckets = {b["bucket"]: (b["repairs"], b["reverted"]) for b in repairs["score_calibration"]}
    assert buckets["0.9–1.0"] == (2, 0) and buckets["0.7–0.8"] == (1, 1)
    assert sum(b["repairs"] for b in repairs["score_calibration"]) == 3


def test_time_axis_has_every_day_and_delays_where_known() -> None:
    repairs = _aggregate()["repairs"]
    over_time = repairs["over_time"]
    assert over_time["unit"] == "day"
    days = [b["period"] for b in over_time["buckets"]]
    assert days[0] == "2026-03-02" and days[-1] == "2026-03-11" and len(days) == 10
    assert sum(b["repairs"] for b in over_time["buckets"]) == 4
    assert sum(b["reverts"] for b in over_time["buckets"]) == 1
    weekly = _aggregate(DashboardFilter(period="week"))["repairs"]["over_time"]
    assert [b["period"] for b in weekly["buckets"]] == ["2026-03-02", "2026-03-09"]
    delay = repairs["time_to_repair"]
    assert (delay["known"], delay["unknown"], delay["median_hours"]) == (1, 3, 0.5)
    assert delay["buckets"][0] == {"label": "< 1 h", "repairs": 1}


def test_filters_select_events_and_projects() -> None:
    bob = _aggregate(DashboardFilter(operator="bob"))["repairs"]
    assert (bob["repairs"], bob["reverts"]) == (2, 0)
    first_day = _aggregate(
        DashboardFilter(until=normalize_time("2026-03-02", "--until", end=True))
    )["repairs"]
    assert first_day["repairs"] == 2
    api = _aggregate(DashboardFilter(project="api"))
    assert api["health"]["sessions"] == 2 and api["repairs"]["repairs"] == 1
    # The health is of now: a filter on time does not make repaired sessions broken.
    later = _aggregate(DashboardFilter(since="2027-01-01T00:00:00.000000Z"))
    assert later["health"]["by_state"]["repaired"] == 1 and later["repairs"]["events"] == 0


def test_normalize_time() -> None:
    assert normalize_time("2026-11-01", "--since") == "2026-11-01T00:00:00.000000Z"
    assert normalize_time("2026-11-01", "--until", end=True) == "2026-11-01T23:59:59.999999Z"
    assert normalize_time("2026-11-01T12:00:00+02:00", "--since") == "2026-11-01T10:00:00.000000Z"
    with pytest.raises(AppError, match="--since 'yesterday'"):
        normalize_time("yesterday", "--since")
