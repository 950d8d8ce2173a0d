from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.transcript.detect import detect_findings, resume_loss
from riff.transcript.findings import ERROR, FINDING_KINDS, INFO, WARNING
from riff.transcript.reader import read_transcript
from tests.factories import BREAKAGE_KINDS, generate_session, inject, write_generated_session


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(20, 600), inline=st.booleans())
def test_healthy_sessions_have_no_findings(
    tmp_path: Path, seed: int, size: int, inline: bool
) -> None:
    session = generate_session(size, seed=seed, inline_sidechains=inline)
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    findings = detect_findings(transcript)
    assert [f for f in findings if f.severity in (ERROR, WARNING)] == []
    assert resume_loss(transcript) == 0


@pytest.mark.parametrize("kind", BREAKAGE_KINDS)
@pytest.mark.parametrize("seed", range(6))
def test_each_breakage_is_found_where_it_is(tmp_path: Path, kind: str, seed: int) -> None:
    # A lost branch needs a turn after the last compaction (before it nothing is
    # sent anyway): without compactions every turn qualifies.
    session = generate_session(
        300, seed=seed, inline_sidechains=seed % 2 == 1, compactions=kind != "lost_branch"
    )
    (truth,) = inject(session, kind, 1, random.Random(seed))
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    findings = detect_findings(transcript)
    hits = [f for f in findings if f.kind == kind and truth.line in f.lines]
    assert hits, (truth, [(f.kind, f.lines) for f in findings])
    finding = hits[0]
    assert finding.kind in FINDING_KINDS and finding.severity in (ERROR, WARNING, INFO)
    assert finding.explanation.endswith(".") and "\n" not in finding.explanation
    if truth.message_id is not None and kind not in ("lost_branch", "tool_use_without_result"):
        assert truth.message_id in finding.message_ids
    if truth.related_id is not None:
        assert truth.related_id in finding.message_ids
    if kind in ("orphan", "unexpected_root", "cycle"):
        assert finding.repairable and finding.severity == ERROR


def test_several_breakages_at_once(tmp_path: Path) -> None:
    session = generate_session(1500, seed=11)
    rng = random.Random(11)
    truths = [t for kind in BREAKAGE_KINDS for t in inject(session, kind, 2, rng)]
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    findings = detect_findings(transcript)
    for truth in truths:
        if truth.kind == "lost_branch":
            continue  # only branches off the resumed chain count, and other cuts move it
        assert any(f.kind == truth.kind and truth.line in f.lines for f in findings), truth


def test_duplicates_identical_vs_conflicting(tmp_path: Path) -> None:
    line = {
        "type": "user",
        "uuid": "a",
        "parentUuid": None,
        "timestamp": "2025-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": "hi"},
    }
    other = dict(line, message={"role": "user", "content": "changed"})
    data = b"".join(orjson.dumps(x) + b"\n" for x in (line, line, other))
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    (finding,) = detect_findings(read_transcript(path))
    assert finding.kind == "duplicate_uuid" and finding.severity == ERROR
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in (line, line)))
    (finding,) = detect_findings(read_transcript(path))
    assert finding.severity == WARNING and finding.lines == (1, 2)


def test_parent_in_another_file_of_the_session_is_not_an_orphan(tmp_path: Path) -> None:
    session = generate_session(
        30, seed=1, sidechain=True, first_parent="in-parent-file", compactions=False
    )
    transcript = read_transcript(
        write_generated_session(tmp_path / "agent-acompact-1.jsonl", session)
    )
    # The first row continues another file: nothing before it can be lost.
    assert detect_findings(transcript) == []
    assert detect_findings(transcript, known_uuids={"in-parent-file"}) == []
    # A later row pointing into the parent file is an orphan unless that file is known.
    lines = [orjson.loads(x) for x in transcript.path.read_bytes().splitlines()]
    later = next(k for k, x in enumerate(lines) if k > 3 and x.get("parentUuid"))
    lines[later]["parentUuid"] = "also-in-parent-file"
    transcript.path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    transcript = read_transcript(transcript.path)
    assert [f.kind for f in detect_findings(transcript)] == ["orphan"]
    known = {"in-parent-file", "also-in-parent-file"}
    assert detect_findings(transcript, known_uuids=known) == []


def test_resume_loss_counts_what_a_cut_drops(tmp_path: Path) -> None:
    session = generate_session(400, seed=5)
    (truth,) = inject(session, "unexpected_root", 1, random.Random(5))
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    lost = resume_loss(transcript)
    before = [r for r in transcript.messages if r.line < truth.line and r.is_conversation]
    assert 0 < lost <= len(before)
    assert (
        resume_loss(transcript, parent_overrides={truth.message_id or "": truth.true_parent}) == 0
    )


def test_tool_use_at_the_very_end_is_only_a_warning(tmp_path: Path) -> None:
    lines = [
        {
            "type": "user",
            "uuid": "u",
            "parentUuid": None,
            "message": {"role": "user", "content": "go"},
        },
        {
            "type": "assistant",
            "uuid": "a",
            "parentUuid": "u",
            "message": {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}],
            },
        },
    ]
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    (finding,) = detect_findings(read_transcript(path))
    assert finding.kind == "tool_use_without_result" and finding.severity == WARNING
