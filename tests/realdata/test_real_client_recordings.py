"""The recordings of tests/fixtures/real_client, as whole project folders.

Each ``real_<version>_<scenario>/`` folder is exactly what the real Claude Code
client wrote into ``~/.claude/projects/<slug>/`` while
tools/resume_oracle/record_real_session.py drove it against the local stub API:
the session file, 2.0.x ``agent-*.jsonl`` files beside it, 2.1.x
``<session>/subagents/`` folders, and the empty session files ``--resume`` leaves.
Here riff sees them as a user would, through the CLI over a projects folder, so
subagent files are resolved against their parent session: no finding on the
untouched folders, no byte changed by ``repair --yes --write``, and a link cut
in any file (session or subagent) is found and restored byte for byte.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from riff.cli.main import app
from riff.testing.real_breaks import breakable_rows, inject, read_rows, split_lines
from riff.transcript.detect import detect_findings
from riff.transcript.reader import read_transcript
from riff.transcript.suggest import AUTO_APPLY_SCORE, ConversationRepairEngine
from riff.transcript.write import apply_parent_changes
from tests.realdata.corpus import REAL_CLIENT

VERSIONS = ("2.0.77", "2.1.62", "2.1.332")
SCENARIOS = ("parallel", "hooks", "subagent", "compact", "autocompact")
RECORDINGS = sorted(p for p in REAL_CLIENT.glob("real_*") if p.is_dir())


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _session_file(folder: Path) -> Path:
    """The recording's main session: the non-empty ``<uuid>.jsonl`` at the top."""
    (main,) = [
        p
        for p in folder.glob("*.jsonl")
        if not p.name.startswith("agent-") and p.stat().st_size > 0
    ]
    return main


def _subagent_files(folder: Path) -> list[Path]:
    """Subagent files the scenario asked for (2.0.x also writes 'Warmup' agents)."""
    found = []
    for path in sorted(folder.rglob("agent-*.jsonl")):
        rows = _rows(path)
        if rows and "Warmup" not in json.dumps(rows[0].get("message", {}).get("content")):
            found.append(path)
    return found


@pytest.fixture
def projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A projects folder holding a copy of every recording (one project each)."""
    root = tmp_path / "projects"
    root.mkdir()
    for folder in RECORDINGS:
        shutil.copytree(folder, root / folder.name)
    for key, value in {
        "RIFF_PROJECTS_DIR": str(root),
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_DB_URL": "mem://",
        "RIFF_OPERATOR": "alice",
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    yield root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _scan(*paths: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--json", "scan", "--no-cache", *paths])
    assert result.exit_code in (0, 1), result.output
    scanned: dict[str, Any] = json.loads(result.stdout)
    return scanned


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_is_recorded_with_the_shape_it_names(version: str, scenario: str) -> None:
    folder = REAL_CLIENT / f"real_{version}_{scenario}"
    rows = _rows(_session_file(folder))
    assert {r.get("version") for r in rows if "version" in r} == {version}
    if scenario in ("parallel", "hooks"):
        # One API message (one message.id) split over several rows, each with a tool_use.
        calls: dict[str, int] = {}
        for r in rows:
            content = r.get("message", {}).get("content")
            if r.get("type") == "assistant" and any(b.get("type") == "tool_use" for b in content):
                calls[r["message"]["id"]] = calls.get(r["message"]["id"], 0) + 1
        assert max(calls.values()) >= 2
    if scenario == "hooks":
        kinds = {
            (r.get("type"), (r.get("data") or r.get("attachment") or {}).get("type")) for r in rows
        }
        if version == "2.1.62":
            assert ("progress", "hook_progress") in kinds
        if version == "2.1.332":
            assert ("attachment", "hook_success") in kinds
            assert any(r.get("subtype") == "stop_hook_summary" for r in rows)
    if scenario == "subagent":
        (agent,) = _subagent_files(folder)
        side = _rows(agent)
        assert all(r.get("isSidechain") for r in side if r.get("type") in ("user", "assistant"))
        assert {r.get("agentId") for r in side if "agentId" in r} == {agent.stem[len("agent-") :]}
        assert side[0]["message"]["content"].startswith("SUB1:")
    if scenario in ("compact", "autocompact"):
        at = next(i for i, r in enumerate(rows) if r.get("subtype") == "compact_boundary")
        assert rows[at]["parentUuid"] is None and rows[at]["logicalParentUuid"]
        summary = next(r for r in rows[at:] if r.get("type") == "user")
        assert summary.get("isCompactSummary") is True


INTERACTIVE = [
    (version, scenario)
    for version in VERSIONS
    for scenario in SCENARIOS
    # 2.1.62's REPL compacts in the background: not recorded (see the README).
    if (version, scenario) != ("2.1.62", "autocompact")
]


@pytest.mark.parametrize(("version", "scenario"), INTERACTIVE)
def test_the_repl_recordings_are_there(version: str, scenario: str) -> None:
    rows = _rows(_session_file(REAL_CLIENT / f"real_{version}_{scenario}_interactive"))
    assert {r.get("version") for r in rows if "version" in r} == {version}
    assert any(r.get("type") == "file-history-snapshot" for r in rows)  # the REPL's own rows


def test_the_2_1_62_repl_writes_tool_hook_and_subagent_progress_rows() -> None:
    hooks = _rows(_session_file(REAL_CLIENT / "real_2.1.62_hooks_interactive"))
    events = {r["data"]["hookEvent"] for r in hooks if r.get("type") == "progress"}
    assert {"PreToolUse", "PostToolUse", "Stop"} <= events
    subagent = _rows(_session_file(REAL_CLIENT / "real_2.1.62_subagent_interactive"))
    assert any(r.get("data", {}).get("type") == "agent_progress" for r in subagent)


@pytest.mark.parametrize("scenario", ["parallel", "subagent", "compact"])
def test_a_first_prompt_written_after_its_answers_is_no_unexpected_root(scenario: str) -> None:
    """The 2.1.62 REPL writes a new session's first prompt (``parentUuid: null``)
    after the assistant rows that answer it; nothing before it is dropped on
    resume, so it is the start of the conversation, not a cut."""
    path = _session_file(REAL_CLIENT / f"real_2.1.62_{scenario}_interactive")
    rows = _rows(path)
    first_prompt = next(i for i, r in enumerate(rows) if r.get("type") == "user")
    assert rows[first_prompt]["parentUuid"] is None
    assert any(r.get("type") == "assistant" for r in rows[:first_prompt])
    assert detect_findings(read_transcript(path)) == []


def test_scan_finds_nothing_in_the_recorded_projects(projects: Path) -> None:
    scanned = _scan()
    assert scanned["totals"]["sessions"] >= len(RECORDINGS)
    found = [(s["path"], s["findings"]) for s in scanned["sessions"] if s["findings"]]
    assert found == []
    assert scanned["totals"]["resume_loss"] == 0


def test_repair_yes_write_changes_no_byte_in_the_recorded_projects(projects: Path) -> None:
    before = _snapshot(projects)
    for path in sorted(projects.rglob("*.jsonl")):
        if path.stat().st_size == 0:
            continue
        result = CliRunner().invoke(app, ["repair", str(path), "--yes", "--write"])
        assert result.exit_code == 0, (path, result.output)
    assert _snapshot(projects) == before  # no backup either


def _break_targets() -> list[Any]:
    params = []
    for folder in RECORDINGS:
        for path in [_session_file(folder), *_subagent_files(folder)]:
            name = path.relative_to(REAL_CLIENT).as_posix()
            for kind in ("cut", "null"):
                params.append(pytest.param(path, kind, id=f"{kind}-{name[:70]}"))
    return params


@pytest.mark.parametrize(("path", "kind"), _break_targets())
def test_a_broken_link_is_found_and_restored_in_its_project(
    path: Path, kind: str, projects: Path
) -> None:
    """Each file of the recording gets one broken link (after the last compaction,
    where resume reads); the CLI finds it in the project and restores the very
    bytes Claude Code wrote."""
    data = path.read_bytes()
    rows = read_rows(split_lines(data)[0])
    last = max((r.index for r in rows if r.subtype == "compact_boundary"), default=-1)
    pool = [r for r in breakable_rows(rows) if r.index > last]
    assert pool, "nothing to break"
    target = random.Random(f"{path.name}{kind}").choice(pool)
    broken = inject(data, kind, [target], random.Random(7), rows)
    copy = projects / path.relative_to(REAL_CLIENT)
    copy.write_bytes(broken.to_bytes())

    scanned = _scan(str(copy))
    (session,) = scanned["sessions"]
    assert any(target.uuid in f.get("message_ids", []) for f in session["findings"]), session

    result = CliRunner().invoke(
        app, ["--json", "repair", str(copy), "--yes", "--write", "--no-backup"]
    )
    assert result.exit_code in (0, 1), result.output
    if copy.read_bytes() != data:
        # Not confident enough to apply: listed for review, and the file is exactly
        # as broken as it was (tool pairing must not work around a detached result).
        after = split_lines(copy.read_bytes())[0]
        changed = [
            i + 1 for i, (a, b) in enumerate(zip(broken.lines, after, strict=False)) if a != b
        ]
        assert after == broken.lines, (
            f"line {target.index + 1} ({target.category}) left for review, yet lines "
            f"{changed} (of {len(broken.lines)} -> {len(after)}) rewritten"
        )


@pytest.mark.parametrize("kind", ["cut", "null"])
def test_a_break_on_a_row_written_before_its_parent_is_found_on_that_row(
    kind: str, tmp_path: Path
) -> None:
    path = _session_file(REAL_CLIENT / "real_2.1.62_parallel_interactive")
    data = path.read_bytes()
    rows = read_rows(split_lines(data)[0])
    first = rows[0]  # the first answer row: its parent, the prompt, comes later
    assert first.type == "assistant" and first.parent in {r.uuid for r in rows[1:]}
    broken = inject(data, kind, [first], random.Random(7), rows)
    copy = tmp_path / path.name
    copy.write_bytes(broken.to_bytes())
    transcript = read_transcript(copy)
    named = {m for f in detect_findings(transcript) if f.repairable for m in f.message_ids[:1]}
    assert named == {first.uuid}
    # Its parent, the prompt written after it, is the one suggestion, and sure enough
    # to apply: the repair gives back the recorded bytes.
    (suggestions,) = ConversationRepairEngine().suggest_all(transcript, k=3)
    assert [c.parent_uuid for c in suggestions.candidates] == [first.parent]
    assert suggestions.candidates[0].score >= AUTO_APPLY_SCORE
    apply_parent_changes(copy, {first.uuid: first.parent}, transcript.fingerprint, backup=False)
    assert copy.read_bytes() == data


@pytest.mark.parametrize(
    "folder",
    sorted(
        p.name for p in RECORDINGS if p.name.startswith("real_2.1.62_") and "_interactive" in p.name
    ),
)
def test_a_first_prompt_written_after_its_answer_is_never_taken_for_a_later_rows_parent(
    folder: str, tmp_path: Path
) -> None:
    """The 2.1.62 REPL writes a session's first prompt after its first answer rows.
    Drop any row with children: what ``repair --yes`` would apply is the truth (the
    lost row's own parent), never that prompt just because it sits before the gap."""
    path = _session_file(REAL_CLIENT / folder)
    data = path.read_bytes()
    rows = read_rows(split_lines(data)[0])
    with_children = {r.parent for r in rows}
    applied = 0
    for target in breakable_rows(rows):
        if target.uuid not in with_children:
            continue
        broken = inject(data, "drop", [target], random.Random(1), rows)
        copy = tmp_path / f"{target.index}.jsonl"
        copy.write_bytes(broken.to_bytes())
        transcript = read_transcript(copy)
        suggestions = {
            o.message_id: o.candidates
            for o in ConversationRepairEngine().suggest_all(transcript, k=1)
        }
        for child in broken.breaks[0].broken_ids:
            best = suggestions[child][0]
            if best.score >= AUTO_APPLY_SCORE:
                assert best.parent_uuid == target.parent, (target.index + 1, target.category)
                applied += 1
    assert applied
