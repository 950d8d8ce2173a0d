from __future__ import annotations

from pathlib import Path

import pytest

from riff.transcript.discover import (
    SessionFile,
    SessionGroups,
    default_projects_dir,
    discover_sessions,
    resolve_session,
    session_group,
)
from riff.transcript.errors import AmbiguousSessionError, SessionNotFoundError, TranscriptError
from riff.transcript.scan import scan_session, scan_sessions
from tests.factories import build_projects_dir, generate_session, write_generated_session


def test_default_dir_honours_claude_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    assert default_projects_dir() == tmp_path / "projects"
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_projects_dir() == tmp_path / ".claude" / "projects"


def test_discovers_sessions_and_subagents(tmp_path: Path) -> None:
    built = build_projects_dir(tmp_path, sessions=4, seed=1, messages=60)
    # a 1.x/2.0 style agent file beside the sessions names its parent inside
    main = built[0]
    beside = main.path.parent / "agent-1a2b3c.jsonl"
    write_generated_session(
        beside, generate_session(10, seed=5, session_id=main.session_id, sidechain=True)
    )
    (main.path.parent / "notes.txt").write_text("not a session")
    found = discover_sessions(tmp_path)
    assert {f.path for f in found} == {b.path for b in built} | {beside}
    by_path = {f.path: f for f in found}
    for b in built:
        f = by_path[b.path]
        assert (f.session_id, f.project, f.is_subagent, f.parent_session_id) == (
            b.session_id,
            b.project,
            b.is_subagent,
            b.parent_session_id,
        )
        assert f.size == b.path.stat().st_size and f.mtime_ns > 0
    assert by_path[beside].parent_session_id == main.session_id and by_path[beside].is_subagent
    assert len(session_group(by_path[main.path], found)) == 3
    assert discover_sessions(tmp_path / "missing") == []


def test_resolve_by_id_prefix_and_path(tmp_path: Path) -> None:
    built = build_projects_dir(tmp_path, sessions=3, seed=2, messages=40)
    target = built[-1]
    assert resolve_session(tmp_path, target.session_id).path == target.path
    assert resolve_session(tmp_path, target.session_id[:8]).path == target.path
    assert resolve_session(tmp_path, str(target.path)).path == target.path.resolve()
    with pytest.raises(SessionNotFoundError, match="zzzz") as info:
        resolve_session(tmp_path, "zzzz")
    assert isinstance(info.value, TranscriptError) and "\n" not in str(info.value)
    write_generated_session(
        target.path.parent / f"{target.session_id[:6]}ffff.jsonl", generate_session(5, seed=1)
    )
    with pytest.raises(AmbiguousSessionError, match="type more"):
        resolve_session(tmp_path, target.session_id[:6])


def test_scan_tree_reports_only_the_broken_sessions(tmp_path: Path) -> None:
    built = build_projects_dir(tmp_path, sessions=8, seed=3, messages=120)
    files = discover_sessions(tmp_path)
    scans = {s.file.path: s for s in scan_sessions(files)}
    assert set(scans) == {b.path for b in built}
    for b in built:
        scan = scans[b.path]
        serious = [f for f in scan.findings if f.severity in ("error", "warning")]
        if not b.breakages:
            assert serious == [], (b.path.name, [f.kind for f in serious])
        else:
            kinds = {f.kind for f in serious}
            assert {t.kind for t in b.breakages if t.kind != "lost_branch"} <= kinds
        json_entry = scan.to_json()
        assert json_entry["session_id"] == b.session_id and json_entry["messages"] == scan.messages
    # the compaction agent's first parent lives in the main file: fine within the session...
    compact = next(b for b in built if "acompact" in b.session_id)
    assert scan_session(next(f for f in files if f.path == compact.path), files).findings == []
    # ...and alone too: its first row continues another file, and nothing of
    # this file lies before it, so nothing can be lost there.
    alone = scan_session(next(f for f in files if f.path == compact.path))
    assert alone.findings == []


def test_a_name_starting_with_a_tilde_of_no_user_is_not_found_cleanly(tmp_path: Path) -> None:
    # Path("~[/x]…").expanduser() raises RuntimeError (no such user); a hostile
    # operator string used as a session reference hit it (hypothesis found it).
    with pytest.raises(SessionNotFoundError):
        resolve_session(tmp_path, "~[/x]no-such-user/x")


def _files_with_every_kind_of_group(tmp_path: Path) -> list[SessionFile]:
    built = build_projects_dir(tmp_path, sessions=6, seed=4, messages=30)
    main = built[0]
    project = main.path.parent
    # a 1.x/2.0 agent file naming its session, one naming none (its session is
    # unknown: session_group puts it with every file of its project that has no
    # parent session), and a second project with a session of the same id
    named = project / "agent-aa11.jsonl"
    write_generated_session(
        named, generate_session(8, seed=6, session_id=main.session_id, sidechain=True)
    )
    lost = project / "agent-bb22.jsonl"
    lost.write_bytes(b'{"type":"user","uuid":"x","parentUuid":null}\n')
    twin = tmp_path / "-other-project" / main.path.name
    twin.parent.mkdir()
    twin.write_bytes(main.path.read_bytes())
    return discover_sessions(tmp_path)


def test_session_groups_are_session_group(tmp_path: Path) -> None:
    # The index gives every file exactly session_group's members, in its order,
    # for the whole list, a part of it, and a list holding a file twice.
    found = _files_with_every_kind_of_group(tmp_path)
    assert any(f.is_subagent and f.parent_session_id is None for f in found)
    for files in (found, found[::2], found[3:], [*found, found[0]]):
        groups = SessionGroups(files)
        for file in files:
            assert groups.group(file) == session_group(file, files), file.path.name
    sizes = {len(SessionGroups(found).group(f)) for f in found}
    assert len(sizes) > 2  # groups of different kinds, not all empty
