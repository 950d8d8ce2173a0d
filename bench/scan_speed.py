"""riff's full scan against a plain orjson pass over the same file.

Generates a healthy synthetic session of ``--mb`` megabytes (default 300),
then times, in the same run and on the same (page-cached) file:

- baseline: ``orjson.loads`` of every line, reading the file line by line;
- riff: ``read_transcript`` + graph + every detector + resume loss.

Prints both times, their ratio (goal <= 1.5) and riff's peak memory measured
with tracemalloc (Python allocations during the scan; goal < 20 % of the
file size). Each timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from riff.testing.synthetic import iter_session_lines
from riff.transcript.detect import build_graph, detect_findings
from riff.transcript.reader import read_transcript
from riff.transcript.resume import resume_loss_count


def generate(path: Path, megabytes: float, seed: int) -> int:
    limit = int(megabytes * 1_000_000)
    written = lines = 0
    with path.open("wb", buffering=1 << 20) as handle:
        for line in iter_session_lines(10**9, seed=seed):
            data = orjson.dumps(line) + b"\n"
            handle.write(data)
            written += len(data)
            lines += 1
            if written >= limit:
                break
    return lines


def baseline(path: Path) -> int:
    count = 0
    with path.open("rb", buffering=1 << 20) as handle:
        for line in handle:
            if line.strip():
                orjson.loads(line)
                count += 1
    return count


def riff_scan(path: Path) -> int:
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    findings = detect_findings(transcript, graph=graph)
    resume_loss_count(graph, transcript.last_prompt_leaf)
    return len(findings)


def best_of(repeat: int, fn: Callable[[Path], int], path: Path) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn(path)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=300.0, help="size of the generated session")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big-session.jsonl"
        started = time.perf_counter()
        lines = generate(path, args.mb, args.seed)
        size = path.stat().st_size
        print(
            f"generated {size / 1e6:.0f} MB, {lines} lines "
            f"({size / lines:.0f} B/line) in {time.perf_counter() - started:.0f} s"
        )
        baseline(path)  # warm the page cache for both contenders
        base_s, _ = best_of(args.repeat, baseline, path)
        riff_s, findings = best_of(args.repeat, riff_scan, path)
        print(f"baseline orjson.loads per line: {base_s:.2f} s ({size / 1e6 / base_s:.0f} MB/s)")
        print(
            f"riff full scan (read+graph+detectors): {riff_s:.2f} s "
            f"({size / 1e6 / riff_s:.0f} MB/s), {findings} findings"
        )
        print(f"ratio riff/baseline: {riff_s / base_s:.2f}x (goal <= 1.5x)")
        gc.collect()
        tracemalloc.start()
        riff_scan(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"riff peak memory (tracemalloc, Python allocations): {peak / 1e6:.0f} MB = "
            f"{peak / size:.1%} of the file (goal < 20%)"
        )


if __name__ == "__main__":
    main()
