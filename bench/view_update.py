"""Incremental view update vs full rebuild, at two session lengths.

    python bench/view_update.py [--events 100000]

Builds a session of N events (and one of N/10), materializes it, appends one
more event and times `riff.views.update` (reads only events after through_seq)
against `riff.views.rebuild` (replays every event). Goal: the update costs
under 1% of the rebuild and does not grow with the session's length.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from append_speed import make_drafts  # type: ignore[import-not-found]
from riff.app.eventlog import EventLog
from riff.app.stores import open_event_store as open_store
from riff.app.viewstore import rebuild, update
from riff.settings import Settings
from riff.views import SourceState

MESSAGES = 200


def fill(store: EventLog, sid: str, n: int) -> SourceState:
    drafts = make_drafts(n + 50, MESSAGES)
    for i in range(0, n, 5000):
        store.append(sid, drafts[i : min(i + 5000, n)])
    ids = sorted(
        {d.message_id for d in drafts} | {d.old_parent_uuid for d in drafts if d.old_parent_uuid}
    )
    first = make_drafts(MESSAGES - 1, MESSAGES)
    base = {d.message_id: d.old_parent_uuid for d in first}
    base.update({m: None for m in ids if m not in base})
    return SourceState(sid, base, {m: "2026-01-01T00:00:00.000Z" for m in base})


def measure(store: EventLog, sid: str, n: int) -> tuple[float, float]:
    source = fill(store, sid, n)
    start = time.perf_counter()
    rebuild(store, sid, source)
    rebuild_s = time.perf_counter() - start
    samples = []
    extra = make_drafts(n + 20, MESSAGES)[n:]
    for draft in extra[:5]:
        store.append(sid, [draft])
        start = time.perf_counter()
        update(store, sid)
        samples.append(time.perf_counter() - start)
    return rebuild_s, statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(Settings(db_url=f"surrealkv://{Path(tmp) / 'views'}")) as store,
    ):
        for n in (args.events // 10, args.events):
            rebuild_s, update_s = measure(store, f"len-{n}", n)
            rows.append((n, rebuild_s, update_s))
    print(f"session of N events ({MESSAGES} messages), then one more event; surrealkv")
    for n, rebuild_s, update_s in rows:
        print(
            f"  N={n:>7,}  full rebuild {rebuild_s * 1000:9.1f} ms   incremental update "
            f"{update_s * 1000:7.2f} ms   ratio {update_s / rebuild_s:7.3%}  (goal < 1%)"
        )
    growth = rows[1][2] / rows[0][2]
    print(f"update time at N={rows[1][0]:,} / at N={rows[0][0]:,}: {growth:.2f}x (flat = ~1x)")


if __name__ == "__main__":
    main()
