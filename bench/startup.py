"""How long `riff` takes to start, against a bare interpreter, in the same run.

Times (wall clock, best and median of N runs each, fresh processes):
`python -c pass` (the baseline), `riff --version`, `riff --help`,
`riff verify FILE` on a small export (6 events, generated), and `riff db status`
on an in-memory store (a command that does load the SurrealDB SDK), and prints
each as a multiple of the baseline. Goal: `riff --version` <= 5x.

Two floors show what the CLI framework alone costs, whatever riff does:
importing Typer with its Rich help renderer (what `--help` needs), and Typer's
parameter coercion (pydantic, which Typer imports before it runs any command
with parameters).

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from riff.events import ChainHead, EventDraft, seal_event
from riff.events.export import write_export

RIFF = [
    sys.executable,
    "-c",
    "import sys; from riff.cli.main import run; sys.argv[0] = 'riff'; run()",
]


def _small_export(directory: Path) -> Path:
    events = []
    for _ in range(2):
        head = ChainHead(str(uuid.uuid4()))
        for _ in range(3):
            draft = EventDraft(str(uuid.uuid4()), None, str(uuid.uuid4()), "alice", reason="bench")
            event = seal_event(head, draft)
            head = head.advanced_by(event)
            events.append(event)
    path = directory / "small.jsonl"
    write_export(path, events, fmt="jsonl")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = _small_export(Path(tmp))
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "floor: typer + rich help": [
                sys.executable,
                "-c",
                "import typer.main, typer.rich_utils",
            ],
            "floor: + typer's coercion": [
                sys.executable,
                "-c",
                "import typer.main, typer.rich_utils, typer._adapters",
            ],
            "riff --version": [*RIFF, "--version"],
            "riff --help": [*RIFF, "--help"],
            "riff verify FILE": [*RIFF, "verify", str(export)],
            "riff db status (mem://)": [*RIFF, "--db", "mem://", "--data-dir", tmp, "db", "status"],
        }
        # Interleave the cases so load on the machine hits all of them alike.
        results: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():
                start = time.perf_counter()
                subprocess.run(cmd, check=False, capture_output=True)
                results[name].append(time.perf_counter() - start)
    base = min(results["python -c pass"])
    print(f"{'command':<28} {'best ms':>8} {'median ms':>10} {'best / python -c pass':>22}")
    for name, times in results.items():
        best, median = min(times), statistics.median(times)
        print(f"{name:<28} {best * 1000:>8.0f} {median * 1000:>10.0f} {best / base:>21.1f}x")
    print("goal: riff --version <= 5x python -c pass")


if __name__ == "__main__":
    main()
