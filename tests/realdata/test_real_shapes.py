"""Shapes of real Claude Code transcripts (1.0.x to 2.1.x), written line by line as
Claude Code writes them: normal ones raise nothing, broken ones are found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from riff.transcript.detect import detect_findings, resume_loss
from riff.transcript.reader import read_transcript
from riff.transcript.suggest import ConversationRepairEngine

T0 = "2026-01-14T14:27:"


def _ts(second: float) -> str:
    return f"{T0}{second:06.3f}Z"


def row(uuid: str, parent: str | None, kind: str, second: float, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": kind,
        "uuid": uuid,
        "parentUuid": parent,
        "timestamp": _ts(second),
        "sessionId": "s-1",
        "version": "2.1.5",
    }
    line.update(extra)
    return line


def prompt(uuid: str, parent: str | None, second: float, **extra: Any) -> dict[str, Any]:
    return row(uuid, parent, "user", second, message={"role": "user", "content": "go"}, **extra)


def say(uuid: str, parent: str | None, second: float, msg: str, **extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": "done"}]
    message = {"id": msg, "role": "assistant", "content": content}
    return row(uuid, parent, "assistant", second, message=message, **extra)


def call(uuid: str, parent: str | None, second: float, msg: str, tool: str, **extra: Any) -> dict:
    content = [{"type": "tool_use", "id": tool, "name": "Bash", "input": {}}]
    message = {"id": msg, "role": "assistant", "content": content}
    return row(uuid, parent, "assistant", second, message=message, **extra)


def result(uuid: str, parent: str | None, second: float, tool: str, **extra: Any) -> dict:
    content = [{"type": "tool_result", "tool_use_id": tool, "content": "ok"}]
    return row(uuid, parent, "user", second, message={"role": "user", "content": content}, **extra)


def progress(uuid: str, parent: str | None, second: float, tool: str) -> dict[str, Any]:
    return row(
        uuid,
        parent,
        "progress",
        second,
        toolUseID=tool,
        parentToolUseID=tool,
        data={"type": "hook_progress"},
    )


def write(tmp_path: Path, lines: list[dict[str, Any]], name: str = "s.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return path


def kinds(path: Path) -> list[tuple[str, tuple[int, ...]]]:
    return [(f.kind, f.lines) for f in detect_findings(read_transcript(path))]


def test_1x_compaction_summary_root_is_not_unexpected(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        say("a1", "u1", 2, "m1"),
        # 1.x compaction: a summary row with a null parent and no logicalParentUuid.
        prompt("s", None, 3, isCompactSummary=True),
        say("a2", "s", 4, "m2"),
    ]
    assert kinds(write(tmp_path, lines)) == []


def test_1x_sidechain_nulled_mid_sidechain_is_found(tmp_path: Path) -> None:
    side = {"isSidechain": True}
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "task"),
        prompt("p", None, 3, **side),  # the subagent's prompt: a root by design
        call("s1", "p", 4, "m2", "t1", **side),
        result("s2", None, 5, "t1", **side),  # cut mid-sidechain
        say("s3", "s2", 6, "m3", **side),
        result("r", "a1", 7, "task"),
    ]
    path = write(tmp_path, lines)
    assert kinds(path) == [("unexpected_root", (5,))]
    best = ConversationRepairEngine().suggest_parent_candidates(read_transcript(path), "s2", 1)
    assert best[0].parent_uuid == "s1"


def test_subagent_file_may_start_with_an_assistant_root(tmp_path: Path) -> None:
    side = {"isSidechain": True, "agentId": "58e69205"}
    lines = [say("a0", None, 1, "m1", **side), call("a1", "a0", 2, "m1", "t1", **side)]
    lines.append(result("r1", "a1", 3, "t1", **side))
    assert kinds(write(tmp_path, lines, "agent-58e69205.jsonl")) == []


def test_progress_rows_and_clock_skew_are_not_timestamp_anomalies(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 10),
        call("a1", "u1", 11, "m1", "t1"),
        progress("g1", "a1", 11.2, "t1"),
        result("r1", "a1", 11.1, "t1"),  # older than the progress row written before it
        prompt("u2", "r1", 10.5),  # half a second older than its parent: clock skew
        say("a2", "u2", 12, "m2"),
    ]
    assert kinds(write(tmp_path, lines)) == []


def test_a_parent_minutes_later_is_a_timestamp_anomaly(tmp_path: Path) -> None:
    lines = [prompt("u1", None, 1), say("a1", "u1", 2, "m1")]
    lines.append({**prompt("u2", "a1", 3), "timestamp": "2026-01-14T14:20:00.000Z"})
    assert [k for k, _ in kinds(write(tmp_path, lines))] == ["timestamp_anomaly"]


def _parallel(first_second: float = 1) -> list[dict[str, Any]]:
    """2.1.5: one response, three tool_use rows; each result under its own tool_use."""
    s = first_second
    return [
        prompt("u1", None, s),
        call("a1", "u1", s + 1, "m1", "t1"),
        call("a2", "a1", s + 2, "m1", "t2"),
        call("a3", "a2", s + 3, "m1", "t3"),
        result("r1", "a1", s + 4, "t1"),
        result("r3", "a3", s + 5, "t3"),
        result("r2", "a2", s + 6, "t2"),
        say("a4", "r2", s + 7, "m2"),
    ]


def test_parallel_tool_calls_are_not_lost_branches(tmp_path: Path) -> None:
    path = write(tmp_path, _parallel())
    assert kinds(path) == []
    assert resume_loss(read_transcript(path)) == 0


def test_a_turn_left_behind_is_a_lost_branch(tmp_path: Path) -> None:
    lines = [*_parallel(), prompt("u2", "a4", 20), say("a5", "u2", 21, "m3")]
    lines.append(prompt("u3", "a4", 22))  # continues from before u2: u2 and a5 are lost
    lines.append(say("a6", "u3", 23, "m4"))
    found = detect_findings(read_transcript(write(tmp_path, lines)))
    assert [(f.kind, f.lost_messages) for f in found] == [("lost_branch", 2)]


def test_before_the_last_compaction_nothing_is_lost_or_unanswered(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "t1"),  # compacted during the call: never answered
        progress("g", "gone", 2.5, "t9"),  # under the compaction's missing logical parent
        row("b", None, "system", 3, subtype="compact_boundary", logicalParentUuid="gone"),
        prompt("s", "b", 4, isCompactSummary=True),
        say("a2", "s", 6, "m2"),
    ]
    path = write(tmp_path, lines)
    assert kinds(path) == []
    assert resume_loss(read_transcript(path)) == 0


def test_first_row_continuing_another_file_is_not_an_orphan(tmp_path: Path) -> None:
    lines = [
        row("h", "in-previous-file", "system", 1, subtype="stop_hook_summary"),
        prompt("u1", "h", 2),
        say("a1", "u1", 3, "m1"),
        prompt("u2", "a1", 4),
        say("a2", None, 5, "m2"),  # no root of its own, yet a null here cuts the chain
    ]
    assert kinds(write(tmp_path, lines)) == [("unexpected_root", (5,))]


def test_tool_result_goes_under_its_tool_use_not_the_progress_rows(tmp_path: Path) -> None:
    lines = [prompt("u1", None, 1)]
    for k in range(6):  # healthy calls teach the session's own pattern
        lines += [
            call(f"c{k}", lines[-1]["uuid"], 2 + k, f"m{k}", f"t{k}"),
            progress(f"g{k}", f"c{k}", 2.1 + k, f"t{k}"),
            result(f"r{k}", f"c{k}", 2.2 + k, f"t{k}"),
        ]
    lines[-1]["parentUuid"] = "missing"
    transcript = read_transcript(write(tmp_path, lines))
    (best,) = ConversationRepairEngine().suggest_parent_candidates(transcript, "r5", 1)
    assert best.parent_uuid == "c5" and best.signals["tool_use_holder"] == 1.0


def test_1x_parallel_results_chain_after_the_last_tool_use(tmp_path: Path) -> None:
    lines: list[dict[str, Any]] = [prompt("u1", None, 1)]
    for k in range(4):  # 1.x: first result under the LAST tool_use row, then chained
        m = f"m{k}"
        last = lines[-1]["uuid"]
        lines += [
            call(f"a{k}", last, 10 * k + 2, m, f"t{k}a"),
            call(f"b{k}", f"a{k}", 10 * k + 3, m, f"t{k}b"),
            result(f"ra{k}", f"b{k}", 10 * k + 4, f"t{k}a"),
            result(f"rb{k}", f"ra{k}", 10 * k + 5, f"t{k}b"),
        ]
    lines[-1]["parentUuid"] = "missing"  # rb3: true parent is ra3, not b3 (its tool_use)
    lines[-2]["parentUuid"] = None  # ra3: true parent is b3, not a3 (its tool_use)
    transcript = read_transcript(write(tmp_path, lines))
    engine = ConversationRepairEngine()
    assert engine.suggest_parent_candidates(transcript, "rb3", 1)[0].parent_uuid == "ra3"
    assert engine.suggest_parent_candidates(transcript, "ra3", 1)[0].parent_uuid == "b3"
