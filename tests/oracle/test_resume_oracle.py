"""The real Claude Code CLI resumes a repaired real transcript exactly as the
untouched one (opt-in: ``pytest -m oracle``).

For every real transcript (tests/fixtures/real_client, and the development
corpus when present), links after the last compaction are cut or nulled one at
a time; what ``repair --yes`` applies is written, and the resume oracle
(tools/resume_oracle, the real CLI against a local stub API) must then load the
same rows as from the untouched file, with no API problem; a dropped row's
children, repaired, must load the untouched file's rows minus that row. Breaks riff leaves
for review (below the auto-apply score) are counted, not written.

For every repair kind of the line repairs, the break is injected into each real
file and every line repair applied: the repaired file must resume with no API
problem and load every row the untouched file loads.

Claude Code is installed from npm into ``$RIFF_ORACLE_CACHE`` (default
``~/.cache/riff-oracle/<version>``); the test is skipped only when npm cannot
install it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from riff.testing.real_breaks import breakable_rows, inject, read_rows, split_lines
from riff.testing.repair_kinds import REPAIR_BREAKS, TORN_LAST_LINE, inject_break, repair_all
from riff.transcript.reader import read_transcript
from riff.transcript.suggest import AUTO_APPLY_SCORE, ConversationRepairEngine
from riff.transcript.write import apply_parent_changes
from tests.realdata.corpus import REPO, dev_files, real_client_files

pytestmark = pytest.mark.oracle

VERSIONS = ("2.1.332", "2.0.77")
"""The Claude Code versions the oracle test covers (pinned)."""
BREAKS_PER_KIND = 2
ORACLE = REPO / "tools" / "resume_oracle" / "resume_oracle.py"
FIGURES: Counter[str] = Counter()


def _cache() -> Path:
    named = os.environ.get("RIFF_ORACLE_CACHE")
    return Path(named) if named else Path.home() / ".cache" / "riff-oracle"


def _install(version: str) -> Path:
    home = _cache() / version
    claude = home / "node_modules" / ".bin" / "claude"
    if claude.exists():
        return claude
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install Claude Code")
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(home), f"@anthropic-ai/claude-code@{version}"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0 or not claude.exists():
        pytest.skip(
            f"npm could not install @anthropic-ai/claude-code@{version}: {done.stderr[-300:]}"
        )
    return claude


@pytest.fixture(scope="module", params=VERSIONS)
def claude(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return request.param, _install(request.param)


def _resume(path: Path, claude: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ORACLE), str(path), "--claude", str(claude)],
        capture_output=True,
        text=True,
        timeout=900,  # the real CLI starts slowly on a loaded machine
    )
    result: dict[str, Any] = json.loads(done.stdout)
    assert result.get("ok"), result.get("error")
    return result


def _loaded(result: dict[str, Any]) -> tuple[Any, ...]:
    return (
        result["messages_sent"],
        sorted(result["missing_uuids"]),
        result["transcript_entries_found"],
    )


def _after_last_compaction(path: Path) -> list[Any]:
    rows = read_rows(split_lines(path.read_bytes())[0])
    last = max((r.index for r in rows if r.subtype == "compact_boundary"), default=-1)
    return [r for r in breakable_rows(rows) if r.index > last]


def _files() -> list[Any]:
    return [pytest.param(p, id=p.name[:50]) for p in real_client_files() + dev_files()]


@pytest.mark.parametrize("path", _files())
def test_repaired_file_resumes_like_the_untouched_one(
    path: Path, claude: tuple[str, Path], tmp_path: Path
) -> None:
    version, binary = claude
    if all(r.is_sidechain for r in read_rows(split_lines(path.read_bytes())[0])):
        pytest.skip("a subagent file alone is no conversation the CLI resumes")
    untouched = _resume(path, binary)
    data = path.read_bytes()
    rows = read_rows(split_lines(data)[0])
    pool = _after_last_compaction(path)
    rng = random.Random(path.name)
    for kind in ("cut", "null"):
        for target in rng.sample(pool, min(BREAKS_PER_KIND, len(pool))):
            broken = inject(data, kind, [target], rng, rows)
            copy = tmp_path / f"{kind}-{target.index}" / path.name
            copy.parent.mkdir()
            copy.write_bytes(broken.to_bytes())
            transcript = read_transcript(copy)
            engine = ConversationRepairEngine()
            plan = {
                o.message_id: o.candidates[0].parent_uuid
                for o in engine.suggest_all(transcript, k=1)
                if o.candidates and o.candidates[0].score >= AUTO_APPLY_SCORE
            }
            FIGURES[f"{version} breaks"] += 1
            if target.uuid not in plan:
                FIGURES[f"{version} left for review"] += 1
                continue
            apply_parent_changes(copy, dict(plan), transcript.fingerprint, backup=False)
            repaired = _resume(copy, binary)
            where = f"{version} {kind} line {target.index + 1} ({target.category})"
            assert _loaded(repaired) == _loaded(untouched), where
            # No API problem that the untouched file does not have already (some
            # 1.0.x files give one in 2.1.x: an empty first message).
            assert repaired["api_problems"] == untouched["api_problems"], where
            FIGURES[f"{version} resumed identically"] += 1
            if untouched["api_problems"]:
                FIGURES[f"{version} (untouched file has API problems too)"] += 1
    print(f"\noracle figures so far: {dict(sorted(FIGURES.items()))}")


KIND_FIGURES: Counter[str] = Counter()


def _conversation_uuids(data: bytes) -> set[str]:
    """Rows the oracle matches: non-sidechain user and assistant rows with a uuid."""
    rows = read_rows(split_lines(data)[0])
    return {
        r.uuid for r in rows if r.uuid and not r.is_sidechain and r.type in ("user", "assistant")
    }


@pytest.mark.parametrize("path", _files())
def test_line_repairs_resume_without_api_problems_or_loss(
    path: Path, claude: tuple[str, Path], tmp_path: Path
) -> None:
    """Each repair kind (riff.testing.repair_kinds) injected into the real file, every
    line repair applied: the real CLI resumes the repaired file with no API problem
    (none beyond the untouched file's own) and loads every row of the untouched file
    it loaded that the repaired file still holds."""
    version, binary = claude
    clean = path.read_bytes()
    if all(r.is_sidechain for r in read_rows(split_lines(clean)[0])):
        pytest.skip("a subagent file alone is no conversation the CLI resumes")
    untouched = _resume(path, binary)
    loaded = _conversation_uuids(clean) - set(untouched["missing_uuids"])
    for kind in REPAIR_BREAKS:
        broken = inject_break(kind, clean, random.Random(f"{path.name}/{kind}"))
        if broken is None:
            continue
        outcome = repair_all(broken.data)
        copy = tmp_path / kind / path.name
        copy.parent.mkdir()
        copy.write_bytes(outcome.repaired)
        repaired = _resume(copy, binary)
        where = f"{version} {kind} (line {broken.line})"
        KIND_FIGURES[f"{version} {kind} repaired files"] += 1
        allowed = set(untouched["api_problems"])
        if kind == TORN_LAST_LINE and not set(repaired["api_problems"]) <= allowed:
            # The torn bytes are gone for good: when they held the session's last
            # answer, what is left may end in a row the CLI sends as an empty message.
            # The repair must add no API problem that the broken file does not have.
            torn = tmp_path / f"{kind}-broken" / path.name
            torn.parent.mkdir()
            torn.write_bytes(broken.data)
            allowed |= set(_resume(torn, binary)["api_problems"])
            KIND_FIGURES[f"{version} {kind} API problems the torn bytes left"] += 1
        assert set(repaired["api_problems"]) <= allowed, (where, repaired)
        if not repaired["api_problems"]:
            KIND_FIGURES[f"{version} {kind} api_problems == []"] += 1
        still_held = loaded & _conversation_uuids(outcome.repaired)
        lost = still_held & set(repaired["missing_uuids"])
        if kind == TORN_LAST_LINE and lost:
            # The torn bytes are gone for good: a reply whose last row they held may
            # end in a thinking-only row, which the CLI drops. The repair must lose
            # nothing the broken file loads.
            copy.write_bytes(broken.data)
            lost -= set(_resume(copy, binary)["missing_uuids"])
            KIND_FIGURES[f"{version} {kind} rows the torn bytes took"] += 1
        assert not lost, (where, sorted(lost))
        KIND_FIGURES[f"{version} {kind} no row lost"] += 1
    done = sorted({key.rsplit(" ", 2)[0] for key in KIND_FIGURES if key.endswith("files")})
    print("\nline-repair oracle figures so far (repaired files: api_problems == [], no row lost):")
    for name in done:
        print(
            f"  {name}: {KIND_FIGURES[name + ' repaired files']} files, "
            f"{KIND_FIGURES[name + ' api_problems == []']} without API problems, "
            f"{KIND_FIGURES[name + ' no row lost']} without loss"
        )


def _counted(row: Any) -> bool:
    """Whether the oracle counts the row as found or missing."""
    return row.type in ("user", "assistant") and not row.is_sidechain


def _tool_ids(raw: bytes) -> tuple[set[str], set[str]]:
    """(tool_use ids, tool_result ids) of a line."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return set(), set()
    message = obj.get("message") if isinstance(obj, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    uses, results = set(), set()
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            uses.add(str(block.get("id")))
        elif isinstance(block, dict) and block.get("type") == "tool_result":
            results.add(str(block.get("tool_use_id")))
    return uses, results


def _partners(lines: list[bytes], index: int) -> list[Any]:
    """Rows tied to line ``index`` by a tool id: the results of its calls, or the
    row holding the call its result answers."""
    uses, results = _tool_ids(lines[index])
    out = []
    for row in read_rows(lines):
        if row.index == index:
            continue
        other_uses, other_results = _tool_ids(lines[row.index])
        if uses & other_results or results & other_uses:
            out.append(row)
    return out


@pytest.mark.parametrize("path", _files())
def test_a_dropped_rows_children_resume_as_the_untouched_file_without_it(
    path: Path, claude: tuple[str, Path], tmp_path: Path
) -> None:
    """The truth for a lost row's children, checked with the real CLI: with what
    ``repair --yes`` applies written, the CLI finds the rows it found in the untouched
    file, minus the lost one and the rows that cannot be sent without it (its calls'
    results, or its result's call), and misses no other (counted: the oracle lists
    at most 50 missing uuids)."""
    version, binary = claude
    if all(r.is_sidechain for r in read_rows(split_lines(path.read_bytes())[0])):
        pytest.skip("a subagent file alone is no conversation the CLI resumes")
    untouched = _resume(path, binary)
    data = path.read_bytes()
    lines = split_lines(data)[0]
    rows = read_rows(lines)
    rows_by_uuid = {r.uuid: r for r in rows}
    with_children = {r.parent for r in rows if r.parent is not None}
    pool = [r for r in _after_last_compaction(path) if r.uuid in with_children]
    rng = random.Random(f"drop:{path.name}")
    for target in rng.sample(pool, min(BREAKS_PER_KIND, len(pool))):
        broken = inject(data, "drop", [target], rng, rows)
        copy = tmp_path / f"drop-{target.index}" / path.name
        copy.parent.mkdir()
        copy.write_bytes(broken.to_bytes())
        transcript = read_transcript(copy)
        plan = {
            o.message_id: o.candidates[0].parent_uuid
            for o in ConversationRepairEngine().suggest_all(transcript, k=1)
            if o.candidates and o.candidates[0].score >= AUTO_APPLY_SCORE
        }
        children = broken.breaks[0].broken_ids
        FIGURES[f"{version} drops"] += 1
        if not all(child in plan for child in children):
            FIGURES[f"{version} drops left for review"] += 1
            continue
        apply_parent_changes(copy, dict(plan), transcript.fingerprint, backup=False)
        repaired = _resume(copy, binary)
        where = f"{version} drop line {target.index + 1} ({target.category})"
        found, missing = (
            untouched["transcript_entries_found"],
            untouched["transcript_entries_missing"],
        )
        # The oracle counts main-chain user/assistant rows with content. The lost row
        # leaves the file; its partners (the results of its calls, or the call its
        # result answered) cannot be sent without it, whatever the repair: they may
        # move from found to missing. No other row may.
        lost = int(_counted(rows_by_uuid[target.uuid]))
        partners = sum(_counted(r) for r in _partners(lines, target.index))
        got_found = repaired["transcript_entries_found"]
        got_total = got_found + repaired["transcript_entries_missing"]
        assert got_total == found + missing - lost, where
        assert found - lost - partners <= got_found <= found, where
        FIGURES[f"{version} drops resumed as untouched minus the row"] += 1
        if repaired["api_problems"] != untouched["api_problems"]:
            # A lost call or result leaves its partner alone: the row's damage, not the repair's.
            FIGURES[f"{version} drops with an API problem the lost row left"] += 1
    print(f"\noracle figures so far: {dict(sorted(FIGURES.items()))}")
