"""Real-shaped test data for the benches: real transcript rows, fresh ids.

With a directory of real Claude Code transcripts (``--corpus``, or the
``RIFF_BENCH_CORPUS`` environment variable, or ``../shared/corpus/dev`` beside
the repository when present), the benches build their data from those rows:
each copy of a real file gets its ids rewritten consistently (uuids, tool ids,
message and request ids), so the copies form distinct, well-linked
conversations with the real mix of line types and sizes (progress rows,
parallel tool calls, big tool results, compactions, subagent files). A copy's
first root is linked to the previous copy's last message, so a single big
session stays one conversation.

Without such a directory the benches fall back to riff's own synthetic
generator (the same shapes, smaller text).
"""

from __future__ import annotations

import os
import re
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import Path

import orjson

from riff.testing.synthetic import iter_session_lines

_UUID = re.compile(rb"[0-9a-f]{8}(?=-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_PREFIXED = re.compile(rb"\b(toolu_|msg_|req_|call_)")
_UUID_FIELD = re.compile(rb'"uuid":"([0-9a-f-]{36})"')
_NULL_PARENT = b'"parentUuid":null'
_STAMP_YEAR = re.compile(rb'"timestamp":"\d{4}-')


def corpus_dir(given: str | None) -> Path | None:
    """The real transcripts to sample, if any are available."""
    candidates = [given, os.environ.get("RIFF_BENCH_CORPUS")]
    repo = Path(__file__).resolve().parent.parent
    candidates.append(str(repo.parent / "shared" / "corpus" / "dev"))
    candidates.append(str(repo.parent.parent / "shared" / "corpus" / "dev"))
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.jsonl")):
            return Path(candidate)
    return None


def _real_files(corpus: Path) -> list[tuple[str, list[bytes]]]:
    """(name, lines) of every real transcript, lines without their newline."""
    out = []
    for path in sorted(corpus.glob("*.jsonl")):
        lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
        if lines:
            out.append((path.stem, lines))
    return out


def _salted(
    lines: list[bytes], salt: int, first_parent: bytes | None, year: int = 2030
) -> Iterator[bytes]:
    """The lines with every id rewritten for copy ``salt`` (same id -> same new id).

    Timestamps move to ``year``, so that consecutive copies stay in time order.
    """
    tag = b"c%x" % salt
    stamp = b'"timestamp":"%04d-' % year

    def new_uuid(match: re.Match[bytes]) -> bytes:
        return b"%08x" % ((int(match.group(0), 16) ^ (salt * 2654435761)) & 0xFFFFFFFF)

    linked = first_parent is None
    for line in lines:
        line = _PREFIXED.sub(lambda m: m.group(1) + tag, _UUID.sub(new_uuid, line))
        line = _STAMP_YEAR.sub(stamp, line)
        if not linked and _NULL_PARENT in line and b'"uuid"' in line:
            line = line.replace(_NULL_PARENT, b'"parentUuid":"%s"' % first_parent, 1)
            linked = True
        yield line


def _last_uuid(lines: list[bytes]) -> bytes | None:
    for line in reversed(lines):
        found = _UUID_FIELD.search(line)
        if found:
            return found.group(1)
    return None


def write_single_session(path: Path, megabytes: float, corpus: Path | None, seed: int = 7) -> int:
    """One session of about ``megabytes`` MB; returns its line count."""
    limit = int(megabytes * 1_000_000)
    written = count = 0
    with path.open("wb", buffering=1 << 20) as handle:
        if corpus is None:
            for obj in iter_session_lines(10**9, seed=seed):
                data = orjson.dumps(obj) + b"\n"
                handle.write(data)
                written += len(data)
                count += 1
                if written >= limit:
                    break
            return count
        files = [lines for _, lines in _real_files(corpus)]
        previous: bytes | None = None
        salt = seed
        year = 2030
        while written < limit:
            for lines in files:
                salt += 1
                year += 1
                copy = list(_salted(lines, salt, previous, year))
                previous = _last_uuid(copy) or previous
                for line in copy:
                    handle.write(line + b"\n")
                    written += len(line) + 1
                    count += 1
                if written >= limit:
                    break
    return count


def write_projects_dir(
    root: Path, files: int, megabytes: float, corpus: Path | None, seed: int = 7
) -> tuple[int, int]:
    """About ``files`` transcripts totalling about ``megabytes`` MB; returns (files, bytes).

    One file in ten is a 2.x subagent file under its session's ``subagents/``.
    """
    if corpus is None:
        return _synthetic_projects_dir(root, files, megabytes, seed)
    real = _real_files(corpus)
    agents = [lines for name, lines in real if "agent-" in name] or [real[0][1]]
    sessions = [lines for name, lines in real if "agent-" not in name]
    per_file = megabytes * 1_000_000 / files
    total = made = 0
    salt = seed * 100_000
    last_session: Path | None = None
    while made < files:
        salt += 1
        project = root / f"-home-dev-project-{made % 12}"
        if made % 10 == 9 and last_session is not None:
            lines = agents[made % len(agents)]
            folder = last_session.parent / last_session.stem / "subagents"
            path = folder / f"agent-{salt:08x}.jsonl"
        else:
            lines = sessions[made % len(sessions)]
            path = project / f"{uuid_module.UUID(int=salt * 7919 + seed, version=4)}.jsonl"
            last_session = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Real sessions vary a lot in size: between a fifth and twice the mean.
        target = per_file * (0.2 + 1.6 * ((made * 0.618034) % 1.0))
        data = bytearray()
        copy_salt = salt
        previous: bytes | None = None
        year = 2030
        while len(data) < target:  # the real file's lines, repeated or cut to size
            year += 1
            copy = list(_salted(lines, copy_salt, previous, year))
            previous = _last_uuid(copy) or previous
            for line in copy:
                data += line + b"\n"
                if len(data) >= target:
                    break
            copy_salt += 1_000_003
        path.write_bytes(data)
        total += len(data)
        made += 1
    return made, total


def _synthetic_projects_dir(root: Path, files: int, megabytes: float, seed: int) -> tuple[int, int]:
    per_file = megabytes * 1_000_000 / files
    total = made = 0
    last_session: Path | None = None
    last_id = ""
    while made < files:
        if made % 10 == 9 and last_session is not None:
            agent = f"{made:08x}"
            path = last_session.parent / last_id / "subagents" / f"agent-{agent}.jsonl"
            lines = iter_session_lines(
                10**9, seed=seed + made, session_id=last_id, sidechain=True, agent_id=agent
            )
        else:
            last_id = str(uuid_module.UUID(int=seed * 1_000_003 + made, version=4))
            path = root / f"-home-dev-project-{made % 12}" / f"{last_id}.jsonl"
            last_session = path
            lines = iter_session_lines(10**9, seed=seed + made, session_id=last_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with path.open("wb", buffering=1 << 20) as handle:
            for obj in lines:
                data = orjson.dumps(obj) + b"\n"
                handle.write(data)
                size += len(data)
                if size >= per_file:
                    break
        total += size
        made += 1
    return made, total
