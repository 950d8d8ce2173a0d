from __future__ import annotations

from pathlib import Path

import pytest

from riff.transcript.discover import (
    SessionFile,
    SessionGroups,
    _session_id_in,
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


def _discover_resolving_every_path(projects_dir: Path, follow: bool) -> list[SessionFile]:
    """The reference: discovery that resolves each path it checks (riff before it took
    one lstat for a path whose parent is known to be plain)."""
    found: list[SessionFile] = []
    root = projects_dir.resolve()

    def inside(path: Path) -> bool:
        if follow:
            return True
        try:
            return path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):
            return False

    for project_dir in sorted(p for p in projects_dir.iterdir() if p.is_dir() and inside(p)):
        for entry in sorted(project_dir.iterdir()):
            try:
                if not inside(entry):
                    continue
                if entry.is_file() and entry.suffix == ".jsonl":
                    found.append(_as_found(entry, project_dir))
                elif entry.is_dir() and (entry / "subagents").is_dir():
                    for agent in sorted((entry / "subagents").glob("agent-*.jsonl")):
                        if inside(agent):
                            found.append(_as_found(agent, project_dir, entry.name))
            except OSError:
                continue
    return found


def _as_found(path: Path, project_dir: Path, parent: str | None = None) -> SessionFile:
    stat = path.stat()
    is_agent = path.stem.startswith("agent-")
    if is_agent and parent is None:
        parent = _session_id_in(path)
    return SessionFile(
        path, project_dir.name, path.stem, stat.st_size, stat.st_mtime_ns, is_agent, parent
    )


def test_symlinks_are_judged_as_resolving_every_path_would(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    built = build_projects_dir(projects, sessions=4, seed=8, messages=20)
    outside = tmp_path / "outside"
    (outside / "proj").mkdir(parents=True)
    (outside / "proj" / "s.jsonl").write_bytes(built[0].path.read_bytes())
    (outside / "sess" / "subagents").mkdir(parents=True)
    (outside / "sess" / "subagents" / "agent-o.jsonl").write_bytes(b"{}\n")
    main = built[0].path.parent
    session_dir = main / built[0].session_id / "subagents"
    session_dir.mkdir(parents=True, exist_ok=True)
    (session_dir / "agent-in.jsonl").write_bytes(b"{}\n")
    # links out of the root, links within it, a dangling one, a linked dir on the way
    (projects / "out-project").symlink_to(outside / "proj", target_is_directory=True)
    (projects / "in-project").symlink_to(main, target_is_directory=True)
    (main / "out.jsonl").symlink_to(outside / "proj" / "s.jsonl")
    (main / "in.jsonl").symlink_to(built[1].path)
    (main / "dangling.jsonl").symlink_to(tmp_path / "nothing.jsonl")
    (main / "linked-session").symlink_to(outside / "sess", target_is_directory=True)
    (main / "inner-session").symlink_to(main / built[0].session_id, target_is_directory=True)
    (session_dir / "agent-out.jsonl").symlink_to(outside / "sess" / "subagents" / "agent-o.jsonl")
    (main / built[1].session_id).mkdir(exist_ok=True)
    (main / built[1].session_id / "subagents").symlink_to(
        outside / "sess" / "subagents", target_is_directory=True
    )
    (main / built[2].session_id).mkdir(exist_ok=True)
    (main / built[2].session_id / "subagents").symlink_to(session_dir, target_is_directory=True)
    for follow in (False, True):
        assert discover_sessions(projects, follow_symlinks=follow) == (
            _discover_resolving_every_path(projects, follow)
        )
    names = {f.path.name for f in discover_sessions(projects)}
    assert {"in.jsonl", "agent-in.jsonl"} <= names
    assert not {"out.jsonl", "s.jsonl", "agent-o.jsonl", "agent-out.jsonl"} & names


def test_an_agent_file_heads_session_is_read_as_claude_code_reads_its_lines(
    tmp_path: Path,
) -> None:
    # Lines orjson and msgspec refuse but Claude Code reads (riff.transcript.json_line):
    # a first line nested past their depth, a sessionId beside bytes that are not UTF-8.
    deep = tmp_path / "agent-deep.jsonl"
    deep.write_bytes(
        b'{"type":"user","uuid":"a","x":' + b"[" * 3000 + b"]" * 3000 + b',"sessionId":"s1"}\n'
    )
    odd = tmp_path / "agent-odd.jsonl"
    odd.write_bytes(b'{"type":"user","uuid":"b","text":"\xff","sessionId":"s2"}\n')
    torn = tmp_path / "agent-torn.jsonl"
    torn.write_bytes(b'{"type":"user","sessionId":"s' + b"[" * 3000 + b"\n")
    assert _session_id_in(deep) == "s1"
    assert _session_id_in(odd) == "s2"
    assert _session_id_in(torn) is None
