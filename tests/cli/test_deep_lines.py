"""A line nested deeper than orjson reads is a sound line: Claude Code's JSON.parse reads it.

riff must neither report it as malformed nor move it out of the file, and a re-link
of such a line changes only its parentUuid's bytes.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from riff.app.demo import DemoSession
from riff.transcript.json_line import MAX_DEPTH
from riff.transcript.write import parent_value_spans
from tests.cli.test_end_to_end import riff_json

_DEEP = 2000
"""Past orjson's 1024 levels, well within what V8 reads and writes."""


def _deepen(path: Path, line: int, depth: int = _DEEP) -> bytes:
    """Give line ``line`` (1-based) a field nested ``depth`` arrays deep; the file's new bytes."""
    lines = path.read_bytes().split(b"\n")
    body = lines[line - 1]
    assert body.endswith(b"}")
    lines[line - 1] = body[:-1] + b',"deepValue":' + b"[" * depth + b"]" * depth + b"}"
    data = b"\n".join(lines)
    path.write_bytes(data)
    return data


def _findings(session_id: str) -> list[dict[str, object]]:
    scan = riff_json("scan", session_id, "--no-cache", code=1)
    [session] = scan["sessions"]
    findings: list[dict[str, object]] = session["findings"]
    return findings


def test_a_deep_line_in_a_healthy_session_is_left_alone(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    deep = _deepen(target.path, 40)
    scan = riff_json("scan", target.session_id, "--no-cache")
    assert scan["sessions"][0]["findings"] == []
    done = riff_json("repair", target.session_id, "--write", "--yes")
    assert done["events"] == []
    assert target.path.read_bytes() == deep


def test_a_deep_orphan_is_relinked_in_its_parent_bytes_only(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if s.breakages == ("orphan", "orphan"))
    truth = target.truths[0]
    deep = _deepen(target.path, truth.line)
    kinds = sorted(str(f["kind"]) for f in _findings(target.session_id))
    assert kinds == ["orphan", "orphan"]

    done = riff_json("repair", target.session_id, "--write", "--yes")
    relinked = {e["message_id"]: e["new_parent_uuid"] for e in done["events"]}
    assert relinked[truth.message_id] == truth.true_parent
    before = deep.split(b"\n")[truth.line - 1]
    after = target.path.read_bytes().split(b"\n")[truth.line - 1]
    [(start, end)] = parent_value_spans(before)
    [(new_start, new_end)] = parent_value_spans(after)
    assert after[:new_start] == before[:start] and after[new_end:] == before[end:]
    assert after[new_start:new_end] == orjson.dumps(truth.true_parent)


def test_a_line_past_the_depth_bound_is_reported_with_why(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    _deepen(target.path, 40, MAX_DEPTH + 10)
    # The line's message is then missing to riff as it is to the API: the next one is an orphan.
    [finding] = [f for f in _findings(target.session_id) if f["kind"] == "malformed_line"]
    assert f"nested over {MAX_DEPTH} levels deep" in str(finding["explanation"])
    assert "Claude Code can send" in str(finding["explanation"])
