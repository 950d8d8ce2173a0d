"""What `riff guard` (the hook command) costs Claude Code, beside `python -c pass`.

On generated sessions (riff.app.demo: 420 messages, two cut links, ~0.5 MB, a
typical session) and a larger generated one (5,000 messages, ~5 MB). Each
figure is the median wall time of a whole process, as Claude Code starts it
(stdin: the SessionStart hook JSON), over REPEAT runs; the baseline is the
same Python starting and doing nothing, measured in the same run:

- warm: the session did not change since the last check (the scan cache answers);
  this is every SessionStart and Stop after the first on an idle session;
- cold: the session changed (the cache entry no longer matches), so guard reads
  and checks the file: every Stop after a turn;
- `riff --version`: the full CLI's start-up, for comparison.

Run: .venv/bin/python bench/guard_speed.py
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from riff.app.demo import build_demo_projects
from riff.testing.synthetic import generate_session, inject, write_generated_session

REPEAT = 15
RIFF = Path(sys.executable).with_name("riff")


def timed(argv: list[str], stdin: bytes, env: dict[str, str], before: object = None) -> float:
    runs = []
    for _ in range(REPEAT):
        if callable(before):
            before()
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, env=env, capture_output=True, check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        projects = root / "projects"
        demo = build_demo_projects(projects, seed=7)
        typical = next(s for s in demo if s.breakages == ("orphan", "orphan"))
        big = generate_session(5_000, seed=11)
        inject(big, "orphan", 1, random.Random(11))
        big_path = projects / big.project_slug / f"{big.session_id}.jsonl"
        write_generated_session(big_path, big)
        env = {
            **os.environ,
            "RIFF_PROJECTS_DIR": str(projects),
            "RIFF_DATA_DIR": str(root / "data"),
            "RIFF_CONFIG": str(root / "none.toml"),
        }
        cache = root / "data" / "cache" / "scan.json"

        def forget() -> None:
            cache.unlink(missing_ok=True)

        baseline = timed([sys.executable, "-c", "pass"], b"", env)
        print(f"python -c pass: {baseline * 1000:.0f} ms (baseline)")
        for name, path, session_id in (
            ("typical, 420 messages", typical.path, typical.session_id),
            ("large, 5,000 messages", big_path, big.session_id),
        ):
            size = path.stat().st_size / 1e6
            hook = orjson.dumps(
                {
                    "session_id": session_id,
                    "transcript_path": str(path),
                    "hook_event_name": "SessionStart",
                    "source": "resume",
                }
            )
            done = subprocess.run([str(RIFF), "guard"], input=hook, env=env, capture_output=True)
            assert b"riff repair" in done.stdout, done
            warm = timed([str(RIFF), "guard"], hook, env)
            cold = timed([str(RIFF), "guard"], hook, env, before=forget)
            print(
                f"riff guard, {name} ({size:.1f} MB): warm {warm * 1000:.0f} ms "
                f"({warm / baseline:.1f}x), cold {cold * 1000:.0f} ms ({cold / baseline:.1f}x)"
            )
        version = timed([str(RIFF), "--version"], b"", env)
        print(f"riff --version (full CLI): {version * 1000:.0f} ms ({version / baseline:.1f}x)")


if __name__ == "__main__":
    main()
