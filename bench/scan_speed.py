"""`riff scan --json --no-cache`, as a whole process, against parsing the same bytes.

Two real-shaped inputs (see bench/realshape.py: rows of real transcripts with
fresh ids when a corpus is available, riff's generator otherwise):

- one session of ``--mb`` MB (default 300);
- a projects directory of ``--files`` files (default 500) totalling about
  ``--dir-mb`` MB (default 330), one in ten a subagent file.

For each, in the same run and on the same page-cached files, as separate
processes (start-up included, peak RSS from ``wait4``):

- orjson loop: ``orjson.loads`` of every line (the issue's baseline);
- msgspec targeted: decoding only the fields a structural check needs
  (uuid, parentUuid, type, timestamp, isSidechain, the content blocks'
  type/id/tool_use_id, ...) into ``msgspec.Struct``s;
- riff: ``riff scan --json --no-cache`` (read, graph, every detector, JSON out);
- riff start-up: the same command on an empty directory.

Each timing is the best of ``--repeat`` runs; both wall and CPU (user+sys)
seconds are printed, since the machine's cores are shared. Ratios are riff
over the orjson loop (goal <= 1.0, stretch 0.8). Also prints riff's peak RSS
above its start-up as a share of the largest file (goal < 10%). Asserts nothing.

    python bench/scan_speed.py [--mb 300] [--files 500] [--dir-mb 330] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _launch import Launcher
from realshape import corpus_dir, write_projects_dir, write_single_session

_WALK = """
import os, sys
def files(p):
    if os.path.isfile(p):
        yield p
        return
    for d, _, names in os.walk(p):
        for n in names:
            if n.endswith(".jsonl"):
                yield os.path.join(d, n)
"""

ORJSON_LOOP = (
    _WALK
    + """
import orjson
for f in files(sys.argv[1]):
    with open(f, "rb") as handle:
        for line in handle:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                pass
"""
)

MSGSPEC_TARGETED = (
    _WALK
    + """
import msgspec
class Block(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    tool_use_id: str | None = None
class Message(msgspec.Struct):
    id: str | None = None
    role: str | None = None
    content: str | list[Block] | None = None
class Line(msgspec.Struct):
    uuid: str | None = None
    parentUuid: str | None = None
    logicalParentUuid: str | None = None
    type: str | None = None
    subtype: str | None = None
    timestamp: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    message: Message | None = None
    parentToolUseID: str | None = None
    toolUseID: str | None = None
    leafUuid: str | None = None
decode = msgspec.json.Decoder(Line).decode
for f in files(sys.argv[1]):
    with open(f, "rb") as handle:
        for line in handle:
            try:
                decode(line)
            except msgspec.DecodeError:
                pass
"""
)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS bytes) of one child process."""
    wall, cpu, rss, code, err = LAUNCHER.run(argv, env)
    if code not in (0, 1):
        print(f"   ! {' '.join(argv[:3])} exited {code}: {err.strip()[-300:]}")
    return wall, cpu, rss


def best(repeat: int, argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    runs = [run(argv, env) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def compare(
    target: Path, largest: int, total: int, repeat: int, env: dict[str, str], empty: Path
) -> None:
    riff = str(Path(sys.executable).with_name("riff"))
    contenders = {
        "orjson loop": [sys.executable, "-c", ORJSON_LOOP, str(target)],
        "msgspec targeted": [sys.executable, "-c", MSGSPEC_TARGETED, str(target)],
        "riff scan": [riff, "scan", "--json", "--no-cache", str(target)],
        "riff start-up": [riff, "scan", "--json", "--no-cache", str(empty)],
    }
    run(contenders["orjson loop"], env)  # warm the page cache
    results: dict[str, tuple[float, float, int]] = {}
    # Interleaved rounds, so that load from other processes hits every contender alike.
    for _ in range(repeat):
        for name, argv in contenders.items():
            wall, cpu, rss = run(argv, env)
            old = results.get(name, (wall, cpu, rss))
            results[name] = (min(old[0], wall), min(old[1], cpu), max(old[2], rss))
    base_wall, base_cpu, _ = results["orjson loop"]
    for name, (wall, cpu, rss) in results.items():
        print(
            f"  {name:17s} wall {wall:6.2f} s ({wall / base_wall:4.2f}x)  "
            f"cpu {cpu:6.2f} s ({cpu / base_cpu:4.2f}x)  peak RSS {rss / 1e6:5.0f} MB"
        )
    scan_rss = results["riff scan"][2] - results["riff start-up"][2]
    # Of many small files, the goal's share of the largest is below what holding a
    # session's findings and imports takes: the share of all bytes shows it bounded.
    of_all = f", {scan_rss / total:.1%} of all {total / 1e6:.0f} MB" if total > largest else ""
    print(
        f"  riff scan's RSS above its start-up: {scan_rss / 1e6:.0f} MB = "
        f"{scan_rss / largest:.1%} of the largest file ({largest / 1e6:.1f} MB; goal < 10%)"
        f"{of_all}"
    )


LAUNCHER: Launcher


def main() -> None:
    global LAUNCHER
    LAUNCHER = Launcher()  # while this process is small (see _launch.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=300.0, help="size of the single session")
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--dir-mb", type=float, default=330.0)
    parser.add_argument("--corpus", help="directory of real transcripts to sample")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="reuse/keep the generated data in this directory")
    args = parser.parse_args()
    corpus = corpus_dir(args.corpus)
    print(
        f"data: {'rows of the real transcripts in ' + str(corpus) if corpus else 'generated'}; "
        f"load {os.getloadavg()[0]:.1f} (1 min average) on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            HOME=str(Path(tmp) / "home"),
            XDG_DATA_HOME=str(Path(tmp) / "data"),
            XDG_CONFIG_HOME=str(Path(tmp) / "config"),
            XDG_CACHE_HOME=str(Path(tmp) / "cache"),
            CLAUDE_CONFIG_DIR=str(Path(tmp) / "claude"),
        )
        empty = Path(tmp) / "empty"
        empty.mkdir()

        single = root / "single" / "big-session.jsonl"
        if not single.exists():
            single.parent.mkdir(parents=True, exist_ok=True)
            write_single_session(single, args.mb, corpus)
        size = single.stat().st_size
        print(f"one session: {size / 1e6:.0f} MB")
        compare(single, size, size, args.repeat, env, empty)

        projects = root / "projects"
        if not projects.exists():
            write_projects_dir(projects, args.files, args.dir_mb, corpus)
        sizes = [p.stat().st_size for p in projects.rglob("*.jsonl")]
        print(
            f"projects dir: {len(sizes)} files, {sum(sizes) / 1e6:.0f} MB, "
            f"{sum(1 for p in projects.rglob('subagents/*.jsonl'))} subagent files"
        )
        compare(projects, max(sizes), sum(sizes), args.repeat, env, empty)
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
