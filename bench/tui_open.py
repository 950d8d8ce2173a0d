"""Time to the first screen of `riff tui SESSION`, as a ratio to scanning the same file.

For 1k, 10k and 50k generated messages: the scan (read + graph + findings, as
`riff scan` does it) is the baseline; opening is App.run_test() headless until
the session screen has painted its tree (start-up, load, events from a mem://
store, outline, first detail). The screen is polled every millisecond, not
with Pilot.pause(), whose wait for an idle CPU adds 20 ms or more per call.
Run: .venv/bin/python bench/tui_open.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from riff.settings import Settings
from riff.testing.synthetic import write_session_stream
from riff.transcript.discover import describe_file
from riff.transcript.scan import scan_session
from riff.tui.app import RiffApp
from riff.tui.screens.session import SessionScreen
from riff.tui.widgets.conversation import ConversationTree

SIZES = (1_000, 10_000, 50_000)
REPEAT = 3


def scan_seconds(path: Path) -> float:
    file = describe_file(path)
    start = time.perf_counter()
    scan_session(file, [file])
    return time.perf_counter() - start


async def open_seconds(settings: Settings, path: Path) -> float:
    """Until the session screen has painted its tree (polled every millisecond)."""
    start = time.perf_counter()
    app = RiffApp(settings, session=describe_file(path))
    async with app.run_test(size=(140, 40)):
        while True:
            await asyncio.sleep(0.001)
            screen = app.screen
            if isinstance(screen, SessionScreen) and screen.state is not None:
                tree = screen.query_one(ConversationTree)
                if len(tree.outline):
                    break
        painted = asyncio.Event()
        tree.call_after_refresh(painted.set)
        await painted.wait()
        elapsed = time.perf_counter() - start
    return elapsed


async def bare_app_seconds() -> float:
    """Textual's fixed cost: an app with nothing in it, to its first screen."""
    from textual.app import App

    start = time.perf_counter()
    async with App[None]().run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        elapsed = time.perf_counter() - start
    return elapsed


def main() -> int:
    bare = statistics.median(asyncio.run(bare_app_seconds()) for _ in range(REPEAT))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"Textual's own start-up (empty app): {bare:.3f} s")
        print(
            f"{'messages':>9} {'scan s':>8} {'open s':>8} {'ratio':>7} {'ratio w/o start-up':>19}"
        )
        for n in SIZES:
            path = write_session_stream(root / "projects" / "p" / f"bench-{n}.jsonl", n, seed=n)
            settings = Settings(
                db_url="mem://", data_dir=root / f"data{n}", projects_dir=root / "projects"
            )
            scans = [scan_seconds(path) for _ in range(REPEAT)]
            opens = [asyncio.run(open_seconds(settings, path)) for _ in range(REPEAT)]
            scan, opened = statistics.median(scans), statistics.median(opens)
            marginal = (opened - bare) / scan
            print(
                f"{n:>9} {scan:>8.3f} {opened:>8.3f} {opened / scan:>6.2f}x {marginal:>18.2f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
