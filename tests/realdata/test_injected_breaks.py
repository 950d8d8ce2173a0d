"""Breaks injected into real transcripts: found, the true parent first, and
``repair --yes`` writes only the broken line, with the true parent."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from riff.testing.real_breaks import (
    breakable_rows,
    inject,
    pick_targets,
    read_rows,
    set_parent,
    split_lines,
)
from riff.transcript.detect import detect_findings
from riff.transcript.reader import read_transcript
from riff.transcript.suggest import AUTO_APPLY_SCORE, ConversationRepairEngine
from riff.transcript.write import apply_parent_changes
from tests.realdata.corpus import real_files


def test_set_parent_changes_only_the_value() -> None:
    raw = b'{"parentUuid": "abc", "x": {"parentUuid": "inner"}, "uuid":"u"}'
    assert (
        set_parent(raw, None) == b'{"parentUuid": null, "x": {"parentUuid": "inner"}, "uuid":"u"}'
    )
    assert set_parent(b'{"parentUuid":null}', "p") == b'{"parentUuid":"p"}'


@pytest.mark.parametrize("kind", ["cut", "null"])
@pytest.mark.parametrize("path", real_files())
def test_cut_links_are_found_and_repaired_exactly(path: Path, kind: str, tmp_path: Path) -> None:
    data = path.read_bytes()
    rows = read_rows(split_lines(data)[0])
    # Every row, also one written before its own parent (the 2.1.x REPL writes a
    # new session's first prompt after its first answer row).
    pool = breakable_rows(rows)
    targets = pick_targets(pool, 6, random.Random(path.name + kind))
    broken = inject(data, kind, targets, random.Random(1), rows)
    copy = tmp_path / path.name
    copy.write_bytes(broken.to_bytes())
    transcript = read_transcript(copy)
    named = {m for f in detect_findings(transcript) if f.repairable for m in f.message_ids[:1]}
    engine = ConversationRepairEngine()
    changes: dict[str, str | None] = {}
    for b in broken.breaks:
        assert b.row.uuid in named
        best = engine.suggest_parent_candidates(transcript, b.row.uuid, 1)[0]
        assert best.parent_uuid == b.true_parent, (b.row.index + 1, b.row.category)
        if best.score >= AUTO_APPLY_SCORE:
            changes[b.row.uuid] = best.parent_uuid
    if changes:
        apply_parent_changes(copy, changes, transcript.fingerprint, backup=False)
    after, _ = split_lines(copy.read_bytes())
    before, _ = split_lines(data)
    fixed = {b.row.index for b in broken.breaks if b.row.uuid in changes}
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        if i in fixed or i not in broken.changed_lines:
            assert new == old, i + 1  # restored byte for byte, or never touched
