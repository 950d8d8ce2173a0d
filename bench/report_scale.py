"""The dashboard at scale: 100,000 events over 10,000 sessions.

    python bench/report_scale.py [--events 100000] [--sessions 10000] [--loads 3] [--store]

On generated data: scan results shaped like `riff scan --json` (a fifth of the
sessions broken, forty projects) and sealed events (twelve operators, a year,
8% reverted), aggregated by `riff.app.analytics.build_aggregates` and drawn by
`riff.report.dashboard.render_dashboard`, the two steps `riff report` runs
after reading the store. Prints the file's size (goal: under 5 MB), the time to
aggregate and render it, and the time headless Chromium takes to load it (goal:
under 2 s), each beside a baseline measured in the same run: serialising the
same events with orjson, and loading a one-line HTML file in the same browser.
With --store the events are also appended to an embedded SurrealDB store and
the whole `riff report` path is timed: read every event, verify every chain
and view, aggregate, render.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.report.browser import chromium_page, find_chromium

from riff.app.analytics import DashboardFilter, build_aggregates
from riff.events import ChainHead, EventDraft, EventKind, RepairEvent, seal_events
from riff.events.model import parse_timestamp
from riff.events.status import reverted_event_ids
from riff.report.dashboard import render_dashboard

KINDS = (
    "orphan",
    "unexpected_root",
    "tool_use_without_result",
    "malformed_line",
    "truncated_line",
    "duplicate_uuid",
    "lost_branch",
)
START = datetime(2025, 1, 6, tzinfo=UTC)


def make_sessions(n: int, rng: random.Random) -> list[dict[str, Any]]:
    sessions = []
    for i in range(n):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        project = f"-home-dev-team-project-{i % 40:02d}"
        findings = []
        loss = 0
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(KINDS)
                findings.append(
                    {
                        "kind": kind,
                        "severity": "info" if kind == "lost_branch" else "error",
                        "message_ids": [],
                        "lines": [rng.randint(1, 900)],
                        "explanation": f"{kind} near line {rng.randint(1, 900)}",
                        "repairable": kind == "orphan",
                    }
                )
            loss = rng.randint(0, 300)
        sessions.append(
            {
                "session_id": sid,
                "path": f"/home/dev/.claude/projects/{project}/{sid}.jsonl",
                "project": project,
                "messages": rng.randint(20, 2000),
                "lines": 0,
                "findings": findings,
                "resume_loss": loss,
            }
        )
    return sessions


def make_events(
    sessions: list[dict[str, Any]], total: int, rng: random.Random
) -> list[RepairEvent]:
    operators = [f"operator-{k:02d}" for k in range(12)]
    per_session = max(1, total // len(sessions))
    events: list[RepairEvent] = []
    for s in sessions:
        if len(events) >= total:
            break
        sid = s["session_id"]
        moments = sorted(
            START + timedelta(minutes=rng.randint(0, 365 * 24 * 60)) for _ in range(per_session)
        )
        clock = iter(moments)
        head = ChainHead(sid)
        sealed: list[RepairEvent] = []
        for k in range(per_session):
            mid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if sealed and rng.random() < 0.08 and sealed[-1].kind == "repair":
                last = sealed[-1]
                draft = EventDraft(
                    last.message_id,
                    last.new_parent_uuid,
                    last.old_parent_uuid,
                    rng.choice(operators),
                    "wrong parent",
                    None,
                    kind=EventKind.REVERT,
                    reverts_event_id=last.event_id,
                )
            else:
                score = None if rng.random() < 0.15 else round(rng.uniform(0.55, 0.99), 2)
                parent = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                draft = EventDraft(
                    mid, None, parent, rng.choice(operators), f"riff suggestion #{k}", score
                )
            event = seal_events(head, [draft], clock=clock.__next__)[0]
            head = head.advanced_by(event)
            sealed.append(event)
        events.extend(sealed)
    return events


def fill_store(store: Any, events: list[RepairEvent]) -> None:
    """Append the generated events through the store (new ids; reverts follow their targets)."""
    from itertools import groupby

    for sid, group in groupby(events, key=lambda e: e.session_id):
        session = list(group)
        store.clock = iter([parse_timestamp(e.timestamp) for e in session]).__next__
        new_ids: dict[str, str] = {}
        batch: list[tuple[str, EventDraft]] = []
        for e in session:
            draft = EventDraft(
                e.message_id,
                e.old_parent_uuid,
                e.new_parent_uuid,
                e.operator,
                e.reason,
                e.similarity_score,
                e.validation_passed,
                EventKind(e.kind),
                None,
            )
            if e.kind == "revert":
                _flush(store, sid, batch, new_ids)
                assert e.reverts_event_id is not None
                draft = replace(draft, reverts_event_id=new_ids[e.reverts_event_id])
            batch.append((e.event_id, draft))
        _flush(store, sid, batch, new_ids)


def _flush(
    store: Any, sid: str, batch: list[tuple[str, EventDraft]], new_ids: dict[str, str]
) -> None:
    if batch:
        sealed = store.append(sid, [draft for _, draft in batch])
        new_ids.update((old, e.event_id) for (old, _), e in zip(batch, sealed, strict=True))
        batch.clear()


def time_store_report(events: list[RepairEvent], sessions: int) -> None:
    from riff.app.analytics import collect_dashboard
    from riff.app.workspace import Workspace
    from riff.settings import Settings

    with tempfile.TemporaryDirectory(prefix="riff-report-store-") as tmp:
        root = Path(tmp)
        settings = Settings(
            data_dir=root / "data",
            projects_dir=root / "projects",
            db_url=f"surrealkv://{root / 'data' / 'store'}",
            operator="bench",
        )
        with Workspace(settings) as ws:
            start = time.perf_counter()
            fill_store(ws.store, events)
            filled = time.perf_counter() - start
            start = time.perf_counter()
            doc = collect_dashboard(
                ws, DashboardFilter(), generated_at="2026-01-01T00:00:00.000000Z", scan=False
            )
            page = render_dashboard(doc)
            report = time.perf_counter() - start
        print(
            f"through the store    {report:8.2f} s   read + verify + aggregate + render "
            f"{doc['repairs']['events']:,} events of {sessions:,} sessions "
            f"({len(page) / 1e6:.2f} MB; appending them took {filled:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--store", action="store_true", help="also time the report from a store")
    args = parser.parse_args()
    rng = random.Random(17)
    print(f"generating {args.sessions:,} sessions and {args.events:,} events …", flush=True)
    sessions = make_sessions(args.sessions, rng)
    events = make_events(sessions, args.events, rng)
    reverted = reverted_event_ids(events)

    start = time.perf_counter()
    baseline_bytes = orjson.dumps([e.to_dict() for e in events])
    serialise = time.perf_counter() - start

    start = time.perf_counter()
    doc = build_aggregates(
        sessions,
        ((e, e.event_id in reverted) for e in events),
        flt=DashboardFilter(),
        verification={
            "ok": True,
            "events_checked": len(events),
            "sessions_checked": args.sessions,
            "breaks": [],
            "break_count": 0,
        },
        checkpoint=None,
        generated_at="2026-01-01T00:00:00.000000Z",
        store_url="surrealkv://bench",
    )
    aggregate = time.perf_counter() - start
    start = time.perf_counter()
    page = render_dashboard(doc)
    render = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="riff-report-scale-") as tmp:
        path = Path(tmp) / "dashboard.html"
        path.write_text(page, encoding="utf-8")
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!doctype html><title>blank</title><p>blank</p>", encoding="utf-8")
        size = path.stat().st_size
        print(
            f"\non generated data: {len(events):,} events ({len(reverted):,} reverted) in "
            f"{args.sessions:,} sessions; the JSON of the events is "
            f"{len(baseline_bytes) / 1e6:.1f} MB"
        )
        print(
            f"file size            {size / 1e6:8.2f} MB   goal < 5 MB"
            f"   ({size / len(baseline_bytes):.1%} of the events' JSON)"
        )
        print(f"aggregate            {aggregate:8.2f} s")
        print(f"render HTML          {render:8.3f} s")
        print(
            f"aggregate + render   {aggregate + render:8.2f} s   baseline: orjson.dumps of the "
            f"events {serialise:.2f} s (ratio {(aggregate + render) / serialise:.1f})"
        )
        if args.store:
            time_store_report(events, args.sessions)
        if find_chromium() is None:
            print("chromium load        (no chromium installed: apt-get install chromium)")
            return
        with chromium_page() as browser:
            browser.set_viewport(1280, 900)
            blank_times = [browser.open(blank) for _ in range(args.loads)]
            loads, load_events = [], []
            for _ in range(args.loads):
                loads.append(browser.open(path))
                load_events.append(
                    browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                    / 1000
                )
            errors = browser.console_errors()
        load, base = statistics.median(loads), statistics.median(blank_times)
        print(
            f"chromium load        {load:8.2f} s   goal < 2 s (median of {args.loads}; "
            f"loadEventEnd {statistics.median(load_events):.2f} s)"
        )
        print(
            f"                              baseline: a one-line page {base:.2f} s "
            f"(ratio {load / base:.1f})"
        )
        print(f"console errors       {len(errors)}")


if __name__ == "__main__":
    main()
