"""The dashboard's aggregates: the health of the projects dir and what the log says.

`build_aggregates` is pure: it takes scan results (the `riff scan --json`
session objects), events with their derived status and a way to look up when a
repaired message was written, and returns one JSON-ready document. The HTML
dashboard draws exactly this document and `riff report --json` prints it, so
the page and the data cannot disagree. `collect_dashboard` gathers the inputs
from a workspace (scan with the cache, the log, its verification).
"""

from __future__ import annotations

import heapq
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from riff.app.errors import AppError
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.model import parse_timestamp

DASHBOARD_FORMAT = "riff.dashboard/1"
Period = Literal["auto", "day", "week"]
# Above this many days of events the time chart counts weeks, not days.
AUTO_WEEK_AFTER_DAYS = 62
WORST_SESSIONS = 25
RECENT_EVENTS = 100
LISTED_BREAKS = 50
# Severities that make a session broken (info findings are remarks, not breaks).
BREAKING = frozenset({"error", "warning"})
SCORE_BUCKETS = 10
# (label, upper bound in hours) for the time from a break to its repair.
DELAY_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 1.0),
    ("1–24 h", 24.0),
    ("1–7 d", 24.0 * 7),
    ("7–30 d", 24.0 * 30),
    ("> 30 d", float("inf")),
)

MessageTime = Callable[[str, str], str | None]  # (session_id, message_id) -> ISO time


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboard covers. Time and operator select events; project selects both."""

    since: str | None = None
    until: str | None = None
    operator: str | None = None
    project: str | None = None
    session: str | None = None  # a session id or its prefix
    period: Period = "auto"

    def admits_event(self, event: RepairEvent, project: str | None) -> bool:
        return (
            (self.operator is None or event.operator == self.operator)
            and (self.since is None or event.timestamp >= self.since)
            and (self.until is None or event.timestamp <= self.until)
            and self.admits_session(event.session_id, project)
        )

    def admits_session(self, session_id: str, project: str | None) -> bool:
        """`--project` matches part of the project's directory name."""
        return (self.session is None or session_id.startswith(self.session)) and (
            self.project is None or (project is not None and self.project in project)
        )

    def to_json(self) -> dict[str, str | None]:
        return {
            "since": self.since,
            "until": self.until,
            "operator": self.operator,
            "project": self.project,
            "session": self.session,
            "period": self.period,
        }


def normalize_time(value: str | None, flag: str, *, end: bool = False) -> str | None:
    """A --since/--until value as the events' UTC form; a bare date covers the whole day."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end:
                moment += timedelta(days=1) - timedelta(microseconds=1)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise AppError(
            f"{flag} {value!r}: give a UTC date or time like 2026-11-01 or 2026-11-01T12:00:00Z"
        ) from None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_kind(event: RepairEvent) -> str:
    """What an event did, for people: re-parent, make a root, or revert."""
    if event.kind == "repair":
        return "make root" if event.new_parent_uuid is None else "re-parent"
    return event.kind


def repair_method(event: RepairEvent) -> str:
    """`suggested` when riff chose the parent (it carries riff's score), else `by hand`."""
    return "suggested" if event.similarity_score is not None else "by hand"


def session_state(session: Mapping[str, Any], active_repairs: int) -> str:
    if any(f.get("severity") in BREAKING for f in session.get("findings") or ()):
        return "broken"
    return "repaired" if active_repairs else "healthy"


def _period_start(moment: datetime, unit: str) -> str:
    day = moment.date()
    if unit == "week":
        day -= timedelta(days=day.weekday())
    return day.isoformat()


def _score_bucket(score: float) -> int:
    return min(int(score * SCORE_BUCKETS), SCORE_BUCKETS - 1)


def _bucket_label(index: int) -> str:
    return f"{index / SCORE_BUCKETS:.1f}–{(index + 1) / SCORE_BUCKETS:.1f}"


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _health(
    sessions: Sequence[Mapping[str, Any]], active_by_session: Mapping[str, int]
) -> dict[str, Any]:
    by_state: Counter[str] = Counter({"healthy": 0, "broken": 0, "repaired": 0})
    kinds: Counter[str] = Counter()
    projects: dict[str, Counter[str]] = defaultdict(Counter)
    rows: list[dict[str, Any]] = []
    for session in sessions:
        sid = str(session["session_id"])
        state = session_state(session, active_by_session.get(sid, 0))
        findings = session.get("findings") or []
        loss = int(session.get("resume_loss") or 0)
        by_state[state] += 1
        session_kinds = Counter(str(f["kind"]) for f in findings)
        kinds.update(session_kinds)
        project = projects[str(session.get("project") or "")]
        project["sessions"] += 1
        project[state] += 1
        project["findings"] += len(findings)
        project["resume_loss"] += loss
        if state == "broken":
            errors = sum(1 for f in findings if f.get("severity") == "error")
            rows.append(
                {
                    "session_id": sid,
                    "project": session.get("project"),
                    "path": session.get("path"),
                    "messages": int(session.get("messages") or 0),
                    "resume_loss": loss,
                    "errors": errors,
                    "findings": dict(sorted(session_kinds.items())),
                    "explanations": [str(f.get("explanation") or "") for f in findings[:5]],
                }
            )
    rows.sort(key=lambda r: (-r["resume_loss"], -r["errors"], -sum(r["findings"].values()),
                             r["session_id"]))  # fmt: skip
    return {
        "sessions": len(sessions),
        "by_state": dict(by_state),
        "findings_by_kind": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        "findings": sum(kinds.values()),
        "resume_loss": sum(int(s.get("resume_loss") or 0) for s in sessions),
        "broken_sessions": len(rows),
        "projects": [
            {
                "project": name,
                "sessions": c["sessions"],
                "healthy": c["healthy"],
                "broken": c["broken"],
                "repaired": c["repaired"],
                "findings": c["findings"],
                "resume_loss": c["resume_loss"],
            }
            for name, c in sorted(projects.items(), key=lambda kv: (-kv[1]["resume_loss"], kv[0]))
        ],
        "worst_sessions": rows[:WORST_SESSIONS],
    }


def _event_row(event: RepairEvent, reverted: bool, project: str | None) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "session_id": event.session_id,
        "project": project,
        "seq": event.seq,
        "timestamp": event.timestamp,
        "kind": event_kind(event),
        "message_id": event.message_id,
        "operator": event.operator,
        "score": event.similarity_score,
        "method": repair_method(event) if event.kind == "repair" else None,
        "is_reverted": reverted,
        "forced": not event.validation_passed,
        "reason": event.reason,
    }


def _repairs(
    events: Iterable[tuple[RepairEvent, bool]],
    projects_of: Mapping[str, str],
    flt: DashboardFilter,
    message_time: MessageTime | None,
) -> tuple[dict[str, Any], Counter[str]]:
    """The repair aggregates, and per session its active repairs (for the health states)."""
    active_by_session: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    times: dict[str, Counter[str]] = defaultdict(Counter)
    operators: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: Counter[str] = Counter()
    methods: Counter[str] = Counter({"suggested": 0, "by hand": 0})
    method_reverted: Counter[str] = Counter({"suggested": 0, "by hand": 0})
    buckets = [Counter[str]() for _ in range(SCORE_BUCKETS)]
    delays_hours: list[float] = []
    unknown_delay = 0
    recent: list[tuple[str, int, RepairEvent, bool, str | None]] = []
    first: str | None = None
    last: str | None = None
    for event, reverted in events:
        project = projects_of.get(event.session_id)
        if (
            event.kind == "repair"
            and not reverted
            and flt.admits_session(event.session_id, project)
        ):
            # The health is of now, not of the period: every active repair counts.
            active_by_session[event.session_id] += 1
        if not flt.admits_event(event, project):
            continue
        first = event.timestamp if first is None or event.timestamp < first else first
        last = event.timestamp if last is None or event.timestamp > last else last
        kind = event_kind(event)
        kinds[kind] += 1
        totals["events"] += 1
        operator = operators[event.operator]
        times[event.timestamp[:10]]["revert" if event.kind == "revert" else "repair"] += 1
        # The newest events, kept in a small heap; rows are built for those only.
        entry = (event.timestamp, totals["events"], event, reverted, project)
        if len(recent) < RECENT_EVENTS:
            heapq.heappush(recent, entry)
        elif entry[0] > recent[0][0]:
            heapq.heapreplace(recent, entry)
        if event.kind == "revert":
            totals["reverts"] += 1
            operator["reverts"] += 1
            continue
        totals["repairs"] += 1
        operator["repairs"] += 1
        method = repair_method(event)
        methods[method] += 1
        if reverted:
            totals["reverted"] += 1
            operator["reverted"] += 1
            method_reverted[method] += 1
        if not event.validation_passed:
            totals["forced"] += 1
        if event.similarity_score is not None:
            bucket = buckets[_score_bucket(event.similarity_score)]
            bucket["repairs"] += 1
            bucket["reverted"] += int(reverted)
        written = message_time(event.session_id, event.message_id) if message_time else None
        if written is None:
            unknown_delay += 1
        else:
            delay = parse_timestamp(event.timestamp) - _parse_any(written)
            delays_hours.append(max(delay.total_seconds(), 0.0) / 3600)

    unit = flt.period
    if unit == "auto":
        span = (parse_timestamp(last) - parse_timestamp(first)).days if first and last else 0
        unit = "week" if span > AUTO_WEEK_AFTER_DAYS else "day"
    over_time: dict[str, Counter[str]] = {}
    if first and last:  # every period from the first to the last, empty ones too
        step = timedelta(days=7 if unit == "week" else 1)
        moment = datetime.fromisoformat(_period_start(parse_timestamp(first), unit))
        while moment <= parse_timestamp(last).replace(tzinfo=None):
            over_time[moment.date().isoformat()] = Counter()
            moment += step
    for day, counts in times.items():
        over_time[_period_start(datetime.fromisoformat(day), unit)].update(counts)
    delay_counts = Counter[str]()
    for hours in delays_hours:
        delay_counts[next(label for label, bound in DELAY_BUCKETS if hours < bound)] += 1
    repairs = totals["repairs"]
    doc = {
        "events": totals["events"],
        "repairs": repairs,
        "reverts": totals["reverts"],
        "active": repairs - totals["reverted"],
        "reverted": totals["reverted"],
        "reverted_share": _share(totals["reverted"], repairs),
        "forced": totals["forced"],
        "first_timestamp": first,
        "last_timestamp": last,
        "over_time": {
            "unit": unit,
            "buckets": [
                {"period": p, "repairs": c["repair"], "reverts": c["revert"]}
                for p, c in sorted(over_time.items())
            ],
        },
        "by_operator": [
            {
                "operator": name,
                "repairs": c["repairs"],
                "reverts": c["reverts"],
                "reverted": c["reverted"],
            }
            for name, c in sorted(
                operators.items(), key=lambda kv: (-(kv[1]["repairs"] + kv[1]["reverts"]), kv[0])
            )
        ],
        "by_kind": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_method": [
            {
                "method": m,
                "repairs": methods[m],
                "reverted": method_reverted[m],
                "reverted_share": _share(method_reverted[m], methods[m]),
            }
            for m in ("suggested", "by hand")
        ],
        "score_calibration": [
            {
                "bucket": _bucket_label(i),
                "low": i / SCORE_BUCKETS,
                "high": (i + 1) / SCORE_BUCKETS,
                "repairs": b["repairs"],
                "reverted": b["reverted"],
                "reverted_share": _share(b["reverted"], b["repairs"]),
            }
            for i, b in enumerate(buckets)
        ],
        "time_to_repair": {
            "known": len(delays_hours),
            "unknown": unknown_delay,
            "median_hours": round(statistics.median(delays_hours), 2) if delays_hours else None,
            "buckets": [
                {"label": label, "repairs": delay_counts[label]} for label, _ in DELAY_BUCKETS
            ],
        },
        "recent": [
            _event_row(event, reverted, project)
            for _, _, event, reverted, project in sorted(recent, reverse=True, key=lambda r: r[:2])
        ],
    }
    return doc, active_by_session


def _parse_any(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verification_summary(verification: Any) -> dict[str, Any]:
    """The log's verification, with its breaks cut to a readable number."""
    doc: dict[str, Any] = verification.to_dict()
    breaks = doc.get("breaks") or []
    doc["break_count"] = len(breaks)
    doc["breaks"] = breaks[:LISTED_BREAKS]
    return doc


def build_aggregates(
    sessions: Sequence[Mapping[str, Any]],
    events: Iterable[tuple[RepairEvent, bool]],
    *,
    flt: DashboardFilter,
    verification: Mapping[str, Any],
    checkpoint: Mapping[str, Any] | None,
    generated_at: str,
    store_url: str,
    session_projects: Mapping[str, str] | None = None,
    message_time: MessageTime | None = None,
) -> dict[str, Any]:
    """The dashboard as data: health, repairs, verification, checkpoint.

    `sessions` are scan results; `events` every event of the log with its
    derived status, each session in seq order; `session_projects` the project
    of sessions that are no longer on disk.
    """
    projects_of = dict(session_projects or {})
    projects_of.update({str(s["session_id"]): str(s.get("project") or "") for s in sessions})
    shown = [
        s for s in sessions if flt.admits_session(str(s["session_id"]), str(s.get("project") or ""))
    ]
    repairs, active_by_session = _repairs(events, projects_of, flt, message_time)
    return {
        "format": DASHBOARD_FORMAT,
        "generated_at": generated_at,
        "store": store_url,
        "filters": flt.to_json(),
        "verification": dict(verification),
        "checkpoint": dict(checkpoint) if checkpoint is not None else None,
        "health": _health(shown, active_by_session),
        "repairs": repairs,
    }


# -- gathering from a workspace ------------------------------------------------


def _project_of_path(path: str | None) -> str | None:
    return Path(path).parent.name if path else None


def newest_checkpoint(ws: Workspace) -> dict[str, Any] | None:
    """The newest signed checkpoint and its quick check (None when the log has none)."""
    from riff.app.checkpoints import newest_checkpoint as tlog_newest

    status = tlog_newest(ws)
    return status.to_dict() if status is not None else None


def collect_dashboard(
    ws: Workspace,
    flt: DashboardFilter,
    *,
    generated_at: str,
    scan: bool = True,
    stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Scan the projects dir (with the scan cache), read and verify the log, aggregate.

    `stage` hears what is being done, for a progress display.
    """
    from riff.app.integrity import verify_database
    from riff.app.scanning import ScanCache, scan_files

    say = stage or (lambda _text: None)
    sessions: list[dict[str, Any]] = []
    if scan and ws.projects_dir.is_dir():
        say("scanning the projects dir")
        cache = ScanCache(ws.settings.cache_dir / "scan.json")
        sessions = scan_files(ws.sessions(), cache=cache).sessions
        cache.save()
    say("reading the log")
    store = ws.store
    reverted = store.reverted_ids()
    views = {str(row["session_id"]): row for row in store.view_summaries()}
    session_projects = {
        sid: project
        for sid, row in views.items()
        if (project := _project_of_path(row.get("source_path"))) is not None
    }
    timestamps: dict[str, Mapping[str, str | None]] = {}

    def message_time(session_id: str, message_id: str) -> str | None:
        if session_id not in timestamps:
            view = store.get_view(session_id) if session_id in views else None
            timestamps[session_id] = view.timestamps if view is not None else {}
        return timestamps[session_id].get(message_id)

    events = ((event, event.event_id in reverted) for event in store.all_events())
    say("verifying the log")
    verification = verification_summary(verify_database(store))
    say("adding up")
    return build_aggregates(
        sessions,
        events,
        flt=flt,
        verification=verification,
        checkpoint=newest_checkpoint(ws),
        generated_at=generated_at,
        store_url=store.url,
        session_projects=session_projects,
        message_time=message_time,
    )
