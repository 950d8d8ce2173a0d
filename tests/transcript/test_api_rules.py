"""The API request rules on the chain resume loads: each rule found in its real
shape, and the shapes Claude Code writes itself (split replies, parallel calls
off the chain, whitespace-only streamed text) are no violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from riff.transcript.api_rules import api_violations
from riff.transcript.detect import build_graph, detect_findings
from riff.transcript.findings import (
    API_EMPTY_CONTENT,
    API_FIRST_NOT_USER,
    API_SERVER_TOOL_NOT_ANSWERED,
    API_TOOL_RESULT_NOT_AFTER_USE,
    API_TOOL_USE_NOT_ANSWERED,
)
from riff.transcript.reader import read_transcript
from tests.realdata.corpus import dev_files, real_client_files
from tests.realdata.test_real_shapes import call, prompt, result, row, say, write


def _rules(tmp_path: Path, lines: list[dict[str, Any]]) -> list[tuple[str, int]]:
    transcript = read_transcript(write(tmp_path, lines))
    return [(v.rule, v.line) for v in api_violations(transcript, build_graph(transcript))]


def _blocks(uuid: str, parent: str | None, second: float, msg: str, *blocks: Any) -> Any:
    message = {"id": msg, "role": "assistant", "content": list(blocks)}
    return row(uuid, parent, "assistant", second, message=message)


def test_a_healthy_round_trip_breaks_no_rule(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "t1"),
        result("r1", "a1", 3, "t1"),
        say("a2", "r1", 4, "m2"),
    ]
    assert _rules(tmp_path, lines) == []


def test_parallel_calls_answered_off_the_chain_break_no_rule(tmp_path: Path) -> None:
    # 2.1.x: each result hangs under its own tool_use row; the chain runs through
    # the last one, the first result is off the chain but loaded.
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "t1"),
        result("r1", "a1", 3, "t1"),
        call("a2", "a1", 2.5, "m1", "t2"),
        result("r2", "a2", 3.5, "t2"),
        say("a3", "r2", 4, "m2"),
    ]
    assert _rules(tmp_path, lines) == []


def test_unanswered_call_mid_chain(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "t1"),
        prompt("u2", "a1", 3),
        say("a2", "u2", 4, "m2"),
    ]
    assert _rules(tmp_path, lines) == [(API_TOOL_USE_NOT_ANSWERED, 2)]


def test_result_not_right_after_its_call(tmp_path: Path) -> None:
    # The call is answered, but two messages later: the file-wide tool check sees
    # a pair, the API sees neither.
    lines = [
        prompt("u1", None, 1),
        call("a1", "u1", 2, "m1", "t1"),
        prompt("u2", "a1", 3),
        say("a2", "u2", 4, "m2"),
        result("r1", "a2", 5, "t1"),
        say("a3", "r1", 6, "m3"),
    ]
    found = _rules(tmp_path, lines)
    assert found == [(API_TOOL_USE_NOT_ANSWERED, 2), (API_TOOL_RESULT_NOT_AFTER_USE, 5)]
    path = tmp_path / "s.jsonl"
    kinds = [f.kind for f in detect_findings(read_transcript(path))]
    assert API_TOOL_USE_NOT_ANSWERED in kinds and API_TOOL_RESULT_NOT_AFTER_USE in kinds


def test_file_wide_tool_findings_are_not_told_twice(tmp_path: Path) -> None:
    lines = [prompt("u1", None, 1), call("a1", "u1", 2, "m1", "t1"), prompt("u2", "a1", 3)]
    path = write(tmp_path, lines)
    kinds = [f.kind for f in detect_findings(read_transcript(path))]
    assert kinds == ["tool_use_without_result"]


def test_first_message_from_the_assistant(tmp_path: Path) -> None:
    lines = [say("a1", None, 1, "m1"), prompt("u1", "a1", 2), say("a2", "u1", 3, "m2")]
    assert _rules(tmp_path, lines) == [(API_FIRST_NOT_USER, 1)]


def test_empty_text_and_empty_content(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        _blocks("a1", "u1", 2, "m1", {"type": "text", "text": ""}),
        row("u2", "a1", "user", 3, message={"role": "user", "content": []}),
        say("a2", "u2", 4, "m2"),
    ]
    assert _rules(tmp_path, lines) == [(API_EMPTY_CONTENT, 2), (API_EMPTY_CONTENT, 3)]


def test_whitespace_only_streamed_text_is_no_violation(tmp_path: Path) -> None:
    # 2.1.x writes "\n\n" text rows of streamed replies itself.
    lines = [
        prompt("u1", None, 1),
        _blocks("a1", "u1", 2, "m1", {"type": "text", "text": "\n\n"}),
        say("a2", "a1", 3, "m1"),
    ]
    assert _rules(tmp_path, lines) == []


def test_server_tool_use_needs_its_result_in_the_same_message(tmp_path: Path) -> None:
    use = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
           "input": {"query": "q"}}  # fmt: skip
    answer = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    answered = [
        prompt("u1", None, 1),
        _blocks("a1", "u1", 2, "m1", use),
        _blocks("a2", "a1", 3, "m1", answer),
        say("a3", "a2", 4, "m1"),
    ]
    assert _rules(tmp_path, answered) == []
    unanswered = [
        prompt("u1", None, 1),
        _blocks("a1", "u1", 2, "m1", use),
        say("a3", "a1", 4, "m1"),
    ]
    assert _rules(tmp_path, unanswered) == [(API_SERVER_TOOL_NOT_ANSWERED, 2)]


def test_rows_off_the_resumed_chain_are_not_checked(tmp_path: Path) -> None:
    lines = [
        prompt("u1", None, 1),
        say("a1", "u1", 2, "m1"),
        _blocks("x", "a1", 3, "mx", {"type": "text", "text": ""}),  # an abandoned branch
        prompt("u2", "a1", 4),
        say("a2", "u2", 5, "m2"),
    ]
    assert _rules(tmp_path, lines) == []


def _real() -> list[Any]:
    return [pytest.param(p, id=p.name[:50]) for p in real_client_files() + dev_files()]


@pytest.mark.parametrize("path", _real())
def test_real_files_break_no_rule_but_a_session_that_ended_during_a_call(path: Path) -> None:
    transcript = read_transcript(path)
    found = api_violations(transcript, build_graph(transcript))
    last_line = transcript.line_count
    # The one genuine case in the corpus: the session ended while a call ran.
    assert all(v.rule == API_TOOL_USE_NOT_ANSWERED and v.line == last_line for v in found), found
