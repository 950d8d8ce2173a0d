"""Append throughput: riff's ImmutableEventStore vs raw INSERT vs eventsourcing/SQLite.

    python bench/append_speed.py [--events 100000] [--sessions 100] [--batch 1000]

All three store the same sealed events, in the same run, on fresh stores.
Prints events/s for each and the ratios (goal: riff within 1.5x of raw INSERT),
by wall time and by this process's CPU time (the embedded engine runs in this
process, so CPU time is the steadier figure on a busy machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from surrealdb import Surreal

from riff.app.stores import open_event_store as open_store
from riff.events import ChainHead, EventDraft, RepairEvent, seal_events
from riff.settings import Settings


def make_drafts(n: int, messages: int = 200) -> list[EventDraft]:
    ids = [str(uuid.UUID(int=0x0B6E3C2E_9A57_4C0E_A4F5_000000000000 + i)) for i in range(messages)]
    parents = {ids[i]: ids[i - 1] for i in range(1, messages)}
    drafts = []
    for k in range(n):
        mid = ids[1 + k % (messages - 1)]
        old = parents[mid]
        new = ids[0] if old != ids[0] else ids[ids.index(mid) - 1]
        drafts.append(EventDraft(mid, old, new, "bench", "benchmark", 0.75))
        parents[mid] = new
    return drafts


def bench_riff(url: str, sessions: dict[str, list[EventDraft]], batch: int) -> tuple[float, float]:
    with open_store(Settings(db_url=url)) as store:
        start, cpu = time.perf_counter(), time.process_time()
        for sid, drafts in sessions.items():
            for i in range(0, len(drafts), batch):
                store.append(sid, drafts[i : i + batch])
        return time.perf_counter() - start, time.process_time() - cpu


def bench_raw(url: str, sealed: dict[str, list[RepairEvent]], batch: int) -> tuple[float, float]:
    db: Any = Surreal(url)
    db.use("riff", "riff")
    rows_by_session = {
        sid: [{k: v for k, v in e.to_dict().items() if v is not None} for e in events]
        for sid, events in sealed.items()
    }
    start, cpu = time.perf_counter(), time.process_time()
    for rows in rows_by_session.values():
        for i in range(0, len(rows), batch):
            result = db.query_raw(
                "INSERT INTO raw_events $rows RETURN NONE", {"rows": rows[i : i + batch]}
            )
            assert result["result"][0]["status"] == "OK", result
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    db.close()
    return elapsed


def bench_eventsourcing(
    path: Path, sealed: dict[str, list[RepairEvent]], batch: int
) -> tuple[float, float]:
    import orjson
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(path))
    recorder = SQLiteAggregateRecorder(datastore, events_table_name="stored_events")
    recorder.create_table()
    start, cpu = time.perf_counter(), time.process_time()
    for sid, events in sealed.items():
        originator = uuid.uuid5(uuid.NAMESPACE_URL, sid)
        for i in range(0, len(events), batch):
            recorder.insert_events(
                [
                    StoredEvent(originator, e.seq, "RepairEvent", orjson.dumps(e.to_dict()))
                    for e in events[i : i + batch]
                ]
            )
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--engine", choices=["surrealkv", "mem"], default="surrealkv")
    args = parser.parse_args()
    per_session = args.events // args.sessions
    drafts = make_drafts(per_session)
    sessions = {f"bench-{i:04d}": drafts for i in range(args.sessions)}
    sealed = {sid: seal_events(ChainHead(sid), d) for sid, d in sessions.items()}
    total = per_session * args.sessions
    with tempfile.TemporaryDirectory() as tmp:

        def url(name: str) -> str:
            return "mem://" if args.engine == "mem" else f"surrealkv://{Path(tmp) / name}"

        riff_s = bench_riff(url("riff"), sessions, args.batch)
        raw_s = bench_raw(url("raw"), sealed, args.batch)
        es_s = bench_eventsourcing(Path(tmp) / "es.sqlite", sealed, args.batch)
    print(f"{total} events, {args.sessions} sessions, batches of {args.batch}, {args.engine}")
    for name, (secs, cpu) in (
        ("riff ImmutableEventStore", riff_s),
        ("raw SurrealDB INSERT", raw_s),
        ("eventsourcing SQLite", es_s),
    ):
        print(
            f"  {name:26s} {total / secs:10,.0f} events/s  ({secs:6.2f} s wall, {cpu:6.2f} s cpu)"
        )
    for label, i in (("wall", 0), ("cpu", 1)):
        print(
            f"riff / raw INSERT {label:4s} time:     {riff_s[i] / raw_s[i]:5.2f}x  (goal <= 1.5x)"
        )
        print(f"riff / eventsourcing {label:4s} time:  {riff_s[i] / es_s[i]:5.2f}x")


if __name__ == "__main__":
    main()
