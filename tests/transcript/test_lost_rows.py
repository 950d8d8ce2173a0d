"""The children of a dropped or torn row get the lost row's own parent.

Each session below is shaped like Claude Code 2.1.x writes one (progress rows
between a call and its result, parallel calls written before their results);
one row is then lost, and the child it leaves behind must get the row the lost
one hung under.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from riff.transcript.reader import read_transcript
from riff.transcript.suggest import ConversationRepairEngine

STAMP = "2026-03-01T10:00:{:02d}.{:03d}Z"


def row(uuid: str, parent: str | None, kind: str, t: float, **extra: object) -> dict[str, object]:
    second, milli = int(t), round((t - int(t)) * 1000)
    out: dict[str, object] = {
        "parentUuid": parent,
        "isSidechain": False,
        "type": kind,
        "uuid": uuid,
        "timestamp": STAMP.format(second, milli),
        "version": "2.1.30",
    }
    out.update(extra)
    return out


def use(uuid: str, parent: str, msg: str, tool: str, t: float) -> dict[str, object]:
    content = [{"type": "tool_use", "id": tool, "name": "Bash", "input": {}}]
    return row(
        uuid, parent, "assistant", t, message={"id": msg, "role": "assistant", "content": content}
    )


def result(uuid: str, parent: str, tool: str, t: float) -> dict[str, object]:
    content = [{"type": "tool_result", "tool_use_id": tool, "content": "ok"}]
    return row(uuid, parent, "user", t, message={"role": "user", "content": content})


def progress(uuid: str, parent: str, tool: str, t: float) -> dict[str, object]:
    return row(uuid, parent, "progress", t, parentToolUseID=tool, toolUseID=f"bash-progress-{uuid}")


def text(
    uuid: str, parent: str | None, kind: str, t: float, msg: str | None = None
) -> dict[str, object]:
    message: dict[str, object] = {"role": kind, "content": [{"type": "text", "text": "go on"}]}
    if msg:
        message["id"] = msg
    return row(uuid, parent, kind, t, message=message)


def write(path: Path, rows: list[dict[str, object] | bytes]) -> Path:
    lines = [r if isinstance(r, bytes) else orjson.dumps(r) for r in rows]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def best(path: Path, child: str) -> str:
    candidates = ConversationRepairEngine().suggest_parent_candidates(
        read_transcript(path), child, 3
    )
    return candidates[0].parent_uuid


def healthy_calls(start: float) -> list[dict[str, object]]:
    """Two calls with progress rows between call and result, as the session's own evidence."""
    return [
        text("p1", None, "user", start),
        use("a1", "p1", "m1", "toolu_1", start + 1),
        progress("g1", "a1", "toolu_1", start + 2),
        progress("g2", "g1", "toolu_1", start + 3),
        result("r1", "a1", "toolu_1", start + 4),
        use("a2", "r1", "m2", "toolu_2", start + 6),
        progress("g3", "a2", "toolu_2", start + 7),
        result("r2", "a2", "toolu_2", start + 8),
    ]


def test_a_dropped_result_leaves_its_child_to_the_call_not_to_the_progress_row(
    tmp_path: Path,
) -> None:
    rows = [
        *healthy_calls(0),
        use("a3", "r2", "m3", "toolu_3", 10),
        progress("g4", "a3", "toolu_3", 11),
        progress("g5", "g4", "toolu_3", 12),
        # the result r3 (parent a3) is dropped; the next response hung under it
        text("a4", "r3-lost", "assistant", 15, msg="m4"),
    ]
    # The previous row is g5 (a progress row); the lost row was a3's result, whose
    # parent was a3: resume then loads what it did, minus the result.
    assert best(write(tmp_path / "s.jsonl", rows), "a4") == "a3"


def test_a_torn_row_leaves_its_child_to_the_parent_its_surviving_bytes_name(
    tmp_path: Path,
) -> None:
    torn = orjson.dumps(result("x1", "a3", "toolu_3", 13))[:70]
    rows = [
        *healthy_calls(0),
        use("a3", "r2", "m3", "toolu_3", 10),
        progress("g4", "a3", "toolu_3", 11),
        torn,
        text("a5", "x1", "assistant", 15, msg="m5"),
    ]
    path = write(tmp_path / "s.jsonl", rows)
    assert torn.startswith(b'{"parentUuid":"a3"')
    assert best(path, "a5") == "a3"


def test_a_dropped_parallel_call_leaves_its_result_to_the_row_before_it(tmp_path: Path) -> None:
    rows = [
        *healthy_calls(0),
        # The session's own evidence: a response that wrote both calls, then both results.
        use("d1", "r2", "m5", "toolu_4", 9.0),
        use("d2", "d1", "m5", "toolu_5", 9.1),
        result("e1", "d1", "toolu_4", 9.5),
        result("e2", "d2", "toolu_5", 9.6),
        text("b0", "e2", "assistant", 10, msg="m6"),
        use("b1", "b0", "m6", "toolu_6", 10.2),
        # b2 (parent b1, message m6, call toolu_7) is dropped
        result("c1", "b1", "toolu_6", 11.0),
        result("c2", "b2-lost", "toolu_7", 11.1),
    ]
    # In this session the results of one response's calls follow all its rows: the
    # lost call row sat right after b1, its last surviving row.
    assert best(write(tmp_path / "s.jsonl", rows), "c2") == "b1"
