"""Every breakage kind the line repairs undo, injected into generated sessions and
into the real transcripts: detected where it is; repaired to a file that parses
line by line, has no uuid on more rows and no unanswered call that the healthy
file did not have, and breaks no API rule; reverted byte for byte. A file
without such a breakage is never changed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from riff.testing.repair_kinds import (
    REPAIR_BREAKS,
    InjectedBreak,
    inject_break,
    repair_all,
    repair_problems,
)
from riff.testing.synthetic import generate_session
from riff.transcript.detect import detect_findings
from riff.transcript.findings import (
    API_FINDING_KINDS,
    DUPLICATE_UUID,
    MALFORMED_LINE,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    TRUNCATED_LINE,
)
from riff.transcript.reader import read_transcript
from tests.realdata.corpus import dev_files, real_client_files

REPAIRED_KINDS = {
    DUPLICATE_UUID,
    MALFORMED_LINE,
    TRUNCATED_LINE,
    TOOL_USE_WITHOUT_RESULT,
    TOOL_RESULT_WITHOUT_USE,
    *API_FINDING_KINDS,
}


def _findings(tmp_path: Path, data: bytes) -> list[Any]:
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    return detect_findings(read_transcript(path))


def _check(tmp_path: Path, clean: bytes, broken: InjectedBreak) -> None:
    found = _findings(tmp_path, broken.data)
    assert any(f.kind in broken.finding_kinds and broken.line in f.lines for f in found), (
        broken.kind,
        broken.line,
        [(f.kind, f.lines) for f in found],
    )
    outcome = repair_all(broken.data)
    assert outcome.edits
    assert repair_problems(clean, outcome.repaired) == []
    assert outcome.reverted == broken.data
    assert repair_all(outcome.repaired).edits == []  # nothing left to do


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(12, 120),
    kind=st.sampled_from(REPAIR_BREAKS),
)
def test_each_break_in_a_generated_session(tmp_path: Path, seed: int, size: int, kind: str) -> None:
    clean = generate_session(size, seed=seed).to_bytes()
    broken = inject_break(kind, clean, random.Random(seed))
    assume(broken is not None)
    assert broken is not None
    _check(tmp_path, clean, broken)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 150))
def test_an_untouched_generated_session_is_never_changed(seed: int, size: int) -> None:
    clean = generate_session(size, seed=seed).to_bytes()
    outcome = repair_all(clean)
    assert outcome.edits == [] and outcome.repaired == clean


def _real() -> list[Any]:
    return [pytest.param(p, id=p.name[:50]) for p in real_client_files() + dev_files()]


@pytest.mark.parametrize("path", _real())
def test_each_break_in_a_real_transcript(path: Path, tmp_path: Path) -> None:
    clean = path.read_bytes()
    for kind in REPAIR_BREAKS:
        broken = inject_break(kind, clean, random.Random(f"{path.name}/{kind}"))
        if broken is not None:  # subagent files hold no main-chain tool round trip
            _check(tmp_path, clean, broken)


@pytest.mark.parametrize("path", _real())
def test_a_real_transcript_is_changed_only_where_a_finding_names(
    path: Path, tmp_path: Path
) -> None:
    data = path.read_bytes()
    outcome = repair_all(data)
    if not {f.kind for f in _findings(tmp_path, data)} & REPAIRED_KINDS:
        assert outcome.edits == [] and outcome.repaired == data
    assert outcome.reverted == data
