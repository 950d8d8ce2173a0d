"""A finding's `repairable` flag says what `riff repair --write` repairs.

For the kinds line edits repair (torn lines, NUL runs, duplicate lines, tool
calls without results, results without calls) the flag must be true exactly
when riff's line plan (torn, duplicate, then tool pairing: riff.testing's
repair_all, the order of the one plan) leaves the file without that finding:
on generated sessions with every breakage the injectors make, on the real
transcripts when present, and on the odd lines riff leaves alone.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import orjson
import pytest

from riff.testing.repair_kinds import INJECTORS, inject_break, repair_all
from riff.transcript.detect import detect_findings
from riff.transcript.findings import (
    DUPLICATE_UUID,
    MALFORMED_LINE,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    TRUNCATED_LINE,
    Finding,
)
from riff.transcript.reader import read_transcript
from tests.factories import generate_session, write_generated_session
from tests.realdata.corpus import dev_files, real_client_files

LINE_EDIT_KINDS = {
    MALFORMED_LINE,
    TRUNCATED_LINE,
    DUPLICATE_UUID,
    TOOL_USE_WITHOUT_RESULT,
    TOOL_RESULT_WITHOUT_USE,
}


def _key(f: Finding) -> tuple[str, object]:
    # Line findings name no message; their reason tells them apart across the rewrite.
    return (f.kind, f.message_ids or f.explanation.split("cannot be read:")[1])


def _flags_against_the_plan(path: Path, tmp_path: Path) -> list[str]:
    """Findings whose flag disagrees with what the plan does to them."""
    findings = [f for f in detect_findings(read_transcript(path)) if f.kind in LINE_EDIT_KINDS]
    if not findings:
        return []
    repaired = tmp_path / f"repaired-{path.name}"
    repaired.write_bytes(repair_all(path.read_bytes()).repaired)
    left = Counter(
        _key(f) for f in detect_findings(read_transcript(repaired)) if f.kind in LINE_EDIT_KINDS
    )
    wrong = []
    for f in findings:
        gone = left[_key(f)] == 0
        left[_key(f)] -= 0 if gone else 1
        if f.repairable != gone:
            wrong.append(f"{path.name} line {f.lines}: {f.kind} flag {f.repairable}, gone {gone}")
    return wrong


def _with_every_break(path: Path, tmp_path: Path, seeds: range) -> list[str]:
    wrong = _flags_against_the_plan(path, tmp_path)
    data = path.read_bytes()
    for kind in INJECTORS:
        for seed in seeds:
            broken = inject_break(kind, data, random.Random(seed))
            if broken is None:
                continue
            copy = tmp_path / f"{kind}-{seed}-{path.name}"
            copy.write_bytes(broken.data)
            wrong += _flags_against_the_plan(copy, tmp_path)
    return wrong


@pytest.mark.parametrize("seed", range(4))
def test_generated_sessions(tmp_path: Path, seed: int) -> None:
    session = generate_session(260, seed=seed, compactions=seed % 2 == 1)
    path = write_generated_session(tmp_path / f"s{seed}.jsonl", session)
    assert _with_every_break(path, tmp_path, range(seed * 3, seed * 3 + 3)) == []


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.name[:60]) for p in real_client_files() + dev_files()]
)
def test_real_transcripts(path: Path, tmp_path: Path) -> None:
    assert _with_every_break(path, tmp_path, range(2)) == []


SID = "5d0c3f0e-1111-4c0e-a4f5-000000000001"


def _row(uuid: str, parent: str | None, kind: str, content: object, **more: object) -> bytes:
    role = "assistant" if kind == "assistant" else "user"
    value = {
        "parentUuid": parent,
        "sessionId": SID,
        "type": kind,
        "uuid": uuid,
        "timestamp": "2026-11-29T10:00:00.000Z",
        "message": {"role": role, "content": content},
    } | more
    return orjson.dumps(value) + b"\n"


def _flags(tmp_path: Path, data: bytes) -> dict[tuple[str, int], bool]:
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(data)
    return {(f.kind, f.lines[0]): f.repairable for f in detect_findings(read_transcript(path))}


def test_lines_riff_leaves_alone_are_not_repairable(tmp_path: Path) -> None:
    prompt = _row("u1", None, "user", "hi")
    answer = _row("u2", "u1", "assistant", [{"type": "text", "text": "hello"}])
    flags = _flags(
        tmp_path,
        prompt
        + b"[1, 2]\n"  # JSON, but no row: quarantine_line leaves it
        + b'{"uuid": 7, "type": "user"}\n'  # read with a field as absent: left as it is
        + b"{torn\n"
        + answer,
    )
    assert flags[(MALFORMED_LINE, 2)] is False
    assert flags[(MALFORMED_LINE, 3)] is False
    assert flags[(MALFORMED_LINE, 4)] is True


def test_duplicates_are_repairable_when_riff_drops_the_copy(tmp_path: Path) -> None:
    prompt = _row("u1", None, "user", "hi")
    answer = _row("u2", "u1", "assistant", [{"type": "text", "text": "hello"}])
    # The same row again with its keys in another order: dropped like a byte copy.
    reordered = orjson.dumps(dict(reversed(list(orjson.loads(answer).items())))) + b"\n"
    flags = _flags(tmp_path, prompt + answer + reordered)
    assert flags[(DUPLICATE_UUID, 2)] is True
    # Other content under the same uuid: a person decides.
    other = _row("u2", "u1", "assistant", [{"type": "text", "text": "something else"}])
    flags = _flags(tmp_path, prompt + answer + other)
    assert flags[(DUPLICATE_UUID, 2)] is False


def test_a_result_without_its_call_is_repairable_where_resume_loads_it(tmp_path: Path) -> None:
    result = [{"type": "tool_result", "tool_use_id": "toolu_gone", "content": "done"}]
    start = _row("u1", None, "user", "hi") + _row(
        "u2", "u1", "assistant", [{"type": "text", "text": "ok"}]
    )
    rest = (
        _row("u3", "u2", "user", result)  # on the chain resume loads
        + _row("u4", "u3", "assistant", [{"type": "text", "text": "and?"}])
        + _row("u5", "u4", "user", "more")
    )
    assert _flags(tmp_path, start + rest)[(TOOL_RESULT_WITHOUT_USE, 3)] is True
    side = _row("s1", "u2", "user", result)  # a branch resume does not load: harmless
    flags = _flags(tmp_path, start + side + rest)
    assert flags[(TOOL_RESULT_WITHOUT_USE, 3)] is False
    assert flags[(TOOL_RESULT_WITHOUT_USE, 4)] is True
    assert _flags_against_the_plan(tmp_path / f"{SID}.jsonl", tmp_path) == []
