"""Huge sessions, as a user would meet them: time and peak memory of whole `riff` processes.

Generates (riff's synthetic generator, so no real data is needed):

- a session whose resume chain is ``--messages`` long (default 1,000,000; no
  compaction, so the chain runs from the last message back to the first), then
  the same chain with its middle message cut from its parent;
- a transcript of about ``--repair-mb`` MB (default 115) with one cut link in
  the middle, for ``riff repair --write``;
- a transcript holding one line of ``--line-mb`` MB (default 100).

Then runs, each as its own process, measuring wall time and peak RSS (of that
child, from ``wait4``), in ``--repeat`` interleaved rounds (so that load from
elsewhere hits every contender alike), reporting each one's best wall time
with every round's time beside it: ``riff scan --json --no-cache`` and ``riff show
--no-pager`` of the big chain, ``riff scan`` and ``riff repair --write --yes`` of
the cut chain and of the cut transcript (each round on a fresh copy, into a store
of its own), and ``riff scan`` / ``riff verify``-free reads of the huge line.
Baselines in the same run: Python start-up plus ``import orjson`` with an
orjson pass over the same file (``orjson loop``), so ratios show what riff adds
over parsing. Prints figures; asserts nothing.

    python bench/big_session.py [--messages 1000000] [--repair-mb 115] [--line-mb 100]
                                [--repeat 1] [--only chain|repair|line ...]

``--only`` runs the named parts alone (repeatable; default all three).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson

from _launch import Launcher
from riff.testing.synthetic import iter_session_lines

_ORJSON_LOOP = """
import sys, orjson
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
"""


Result = tuple[float, int, int, float]
"""(wall seconds, peak RSS in bytes, exit code, CPU seconds) of one run."""


def run(argv: list[str], env: dict[str, str]) -> Result:
    """One run of a child process."""
    wall, cpu, rss, code, err = LAUNCHER.run(argv, env)
    if code not in (0, 1):
        print(f"   ! {' '.join(argv[:3])} exited {code}: {err.strip()[-300:]}")
    return wall, rss, code, cpu


LAUNCHER: Launcher


_HEAD = (
    '{{"parentUuid":{parent},"isSidechain":false,"userType":"external","cwd":"/home/dev/big",'
    '"sessionId":"{session}","version":"2.0.76","gitBranch":"main","type":"{type}",'
)
_USER = '"message":{{"role":"user","content":"step {n}: please continue with the next part"}},'
_ASSISTANT = (
    '"message":{{"id":"msg_{n:012x}","type":"message","role":"assistant",'
    '"model":"claude-sonnet-4-5","content":[{{"type":"text","text":"Done with step {n}."}}]}},'
    '"requestId":"req_{n:012x}",'
)
_TAIL = '"uuid":"{uuid}","timestamp":"{ts}"}}\n'


CUT_PARENT = '"00000000-0000-4000-8000-00000000c0de"'
"""The parentUuid a cut message is given: a message no file holds."""


def write_chain(path: Path, messages: int, seed: int, cut_at: int | None = None) -> int:
    """One linear conversation of ``messages`` short user/assistant lines (fast to make);
    message ``cut_at`` (a user message when even) cut from its parent when given."""
    session = f"{seed:08x}-0000-4000-8000-000000000000"
    parent = "null"
    with path.open("w", buffering=1 << 20) as handle:
        for n in range(messages):
            uuid = f"{seed:08x}-{n >> 16 & 0xFFFF:04x}-4{n >> 4 & 0xFFF:03x}-8000-{n:012x}"
            seconds = n * 3
            days = seconds // 86_400
            ts = (
                f"2025-{1 + days // 28:02d}-{1 + days % 28:02d}T"
                f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000Z"
            )
            kind = "user" if n % 2 == 0 else "assistant"
            body = _USER if kind == "user" else _ASSISTANT
            if n == cut_at:
                parent = CUT_PARENT
            handle.write(
                _HEAD.format(parent=parent, session=session, type=kind)
                + body.format(n=n)
                + _TAIL.format(uuid=uuid, ts=ts)
            )
            parent = f'"{uuid}"'
    return path.stat().st_size


def write_cut(path: Path, megabytes: float, seed: int) -> tuple[int, str]:
    """A healthy session of about ``megabytes`` MB with one parent link cut halfway."""
    limit = int(megabytes * 1_000_000)
    written = 0
    cut = ""
    with path.open("wb", buffering=1 << 20) as handle:
        for line in iter_session_lines(10**9, seed=seed, compactions=False):
            if (
                not cut
                and written >= limit // 2
                and line.get("type") == "user"
                and isinstance(line.get("parentUuid"), str)
            ):
                cut = line["uuid"]
                line = {**line, "parentUuid": "00000000-0000-4000-8000-00000000c0de"}
            data = orjson.dumps(line) + b"\n"
            handle.write(data)
            written += len(data)
            if written >= limit and cut:
                break
    return written, cut


def write_huge_line(path: Path, megabytes: float, seed: int) -> int:
    lines = list(iter_session_lines(20, seed=seed, compactions=False))
    big = dict(lines[3])
    big["toolUseResult"] = {"stdout": "x" * int(megabytes * 1_000_000)}
    lines[3] = big
    with path.open("wb") as handle:
        for line in lines:
            handle.write(orjson.dumps(line) + b"\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repair-mb", type=float, default=115.0)
    parser.add_argument("--line-mb", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--repeat", type=int, default=1, help="interleaved rounds of the chain and the repair"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=_PARTS,
        help="run only this part (repeatable): the big chain, the repair, the huge line",
    )
    args = parser.parse_args()
    parts = set(args.only or _PARTS)
    global LAUNCHER
    LAUNCHER = Launcher()  # while this process is small (see _launch.py)
    riff = str(Path(sys.executable).with_name("riff"))
    print(f"load: {os.getloadavg()[0]:.1f} (1 min average, {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        env.update(
            HOME=str(root / "home"),
            XDG_DATA_HOME=str(root / "data"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_CACHE_HOME=str(root / "cache"),
            CLAUDE_CONFIG_DIR=str(root / "claude"),
            RIFF_OPERATOR="bench",
        )
        project = root / "claude" / "projects" / "-home-dev-big"
        project.mkdir(parents=True)

        if "chain" in parts:
            bench_chain(project, args, env, riff)
        if "repair" in parts:
            bench_repair(project, args, env, riff)
        if "line" in parts:
            bench_line(root, project, args, env, riff)
    LAUNCHER.close()


_PARTS = ("chain", "repair", "line")


def bench_chain(project: Path, args: argparse.Namespace, env: dict[str, str], riff: str) -> None:
    chain = project / "00000000-0000-4000-8000-000000000001.jsonl"
    started = time.perf_counter()
    size = write_chain(chain, args.messages, args.seed)
    print(
        f"chain session: {args.messages:,} messages, {size / 1e6:.0f} MB "
        f"(generated in {time.perf_counter() - started:.0f} s)"
    )
    contenders = {
        "orjson loop (process)": [sys.executable, "-c", _ORJSON_LOOP, str(chain)],
        "riff scan --json": [riff, "scan", "--json", "--no-cache", str(chain)],
        "riff show": [riff, "show", "--no-pager", str(chain)],
        "riff show --json": [riff, "show", "--json", str(chain)],
    }
    runs: dict[str, list[Result]] = {name: [] for name in contenders}
    for _ in range(args.repeat):
        for name, argv in contenders.items():
            runs[name].append(run(argv, env))
    base = best(runs["orjson loop (process)"])
    for name, results in runs.items():
        report(name, best(results), base, results)
    chain.unlink()
    cut_at = args.messages // 2 & ~1  # a user message
    write_chain(chain, args.messages, args.seed, cut_at=cut_at)
    print(f"the same chain with message {cut_at:,} cut from its parent:")
    repair_rounds(chain, args.repeat, env, riff, base)
    chain.unlink()


def repair_rounds(
    path: Path,
    repeat: int,
    env: dict[str, str],
    riff: str,
    base: Result | None = None,
    show: bool = False,
) -> dict[str, list[Result]]:
    """``riff scan --json`` (and ``riff show --json`` with ``show``) and ``riff repair
    --write --yes`` of a broken session, each round on a fresh copy of it at rest and
    into a store of its own; reports them against ``base`` (else an orjson loop over
    the file, run in every round) and returns every round."""
    pristine = path.with_name("pristine.jsonl.orig")  # not a transcript's name
    shutil.copyfile(path, pristine)
    contenders: dict[str, list[str]] = {}
    if base is None:
        contenders["orjson loop (process)"] = [sys.executable, "-c", _ORJSON_LOOP, str(path)]
    contenders["riff scan --json"] = [riff, "scan", "--json", "--no-cache", str(path)]
    if show:
        contenders["riff show --json"] = [riff, "show", "--json", str(path)]
    contenders["riff repair --write"] = [riff, "repair", str(path), "--write", "--yes"]
    runs: dict[str, list[Result]] = {name: [] for name in contenders}
    backups_kept = []
    for round_number in range(repeat):
        shutil.copyfile(pristine, path)
        # A session at rest: riff refuses to write a file that changed in the last
        # seconds (a live session), and on a fast machine the copy is that recent.
        at_rest = time.time() - 60
        os.utime(path, (at_rest, at_rest))
        # Every round repairs the same broken file into a store of its own.
        round_env = {**env, "XDG_DATA_HOME": f"{env['XDG_DATA_HOME']}-{path.stem}-{round_number}"}
        for name, argv in contenders.items():
            runs[name].append(run(argv, round_env))
        backups = list(path.parent.glob("*.riff-backup"))
        backups_kept.append(bool(backups))
        for backup in backups:
            backup.unlink()
    base = base or best(runs["orjson loop (process)"])
    for name, results in runs.items():
        report(name, best(results), base, results)
    scan = max(result[1] for result in runs["riff scan --json"])
    repair = max(result[1] for result in runs["riff repair --write"])
    codes = sorted({result[2] for result in runs["riff repair --write"]})
    print(f"    (exit {codes}; {(repair - scan) / 1e6:+.0f} MB over the scan, highest peaks)")
    print(f"  backup kept: {all(backups_kept)}")
    pristine.unlink()
    return runs


def bench_repair(project: Path, args: argparse.Namespace, env: dict[str, str], riff: str) -> None:
    cut_path = project / "00000000-0000-4000-8000-000000000002.jsonl"
    size, cut = write_cut(cut_path, args.repair_mb, args.seed + 1)
    print(f"cut session: {size / 1e6:.0f} MB, message {cut[:8]} cut from its parent")
    repair_rounds(cut_path, args.repeat, env, riff, show=True)
    cut_path.unlink()


def bench_line(
    root: Path, project: Path, args: argparse.Namespace, env: dict[str, str], riff: str
) -> None:
    line_path = project / "00000000-0000-4000-8000-000000000003.jsonl"
    size = write_huge_line(line_path, args.line_mb, args.seed + 2)
    print(f"one {args.line_mb:.0f} MB line ({size / 1e6:.0f} MB file):")
    base = run([sys.executable, "-c", _ORJSON_LOOP, str(line_path)], env)
    report("orjson loop (process)", base, base)
    (root / "empty").mkdir()
    empty = run([riff, "scan", "--json", "--no-cache", str(root / "empty")], env)
    report("riff scan, empty dir", empty, base)
    scan = run([riff, "scan", "--json", "--no-cache", str(line_path)], env)
    report("riff scan --json", scan, base)
    print(
        f"    {(scan[1] - empty[1]) / (args.line_mb * 1e6):.2f}x the line above an empty "
        f"scan's {empty[1] / 1e6:.0f} MB (goal <= 1.5x)"
    )


def best(results: list[Result]) -> Result:
    """The run with the least wall time (the least disturbed by load from elsewhere)."""
    return min(results, key=lambda result: result[0])


def report(name: str, result: Result, base: Result, rounds: list[Result] | None = None) -> None:
    wall, rss, _, cpu = result
    every = ""
    if rounds is not None and len(rounds) > 1:
        every = "  rounds " + ", ".join(f"{r[0]:.2f}" for r in rounds) + " s"
    print(
        f"  {name + ':':24s} wall {wall:6.2f} s ({wall / base[0]:4.1f}x)  "
        f"cpu {cpu:6.2f} s ({cpu / base[3]:4.1f}x)  peak RSS {rss / 1e6:5.0f} MB{every}"
    )


if __name__ == "__main__":
    main()
