"""Lines orjson refuses that Claude Code reads are sound lines.

Claude Code decodes a transcript as UTF-8 with U+FFFD for bytes that are not
UTF-8 and reads each line with V8's JSON.parse, which does not recurse. Asked
with a real Claude Code (2.1.332 and 2.0.77, the resume oracle), a message whose
text holds bytes that are not UTF-8 is loaded with U+FFFD in their place, and one
with a field nested 2,000 arrays deep is loaded and sent. riff must neither report
such a line nor move it out of the file, and a re-link of one changes only its
parentUuid's bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from riff.app.demo import DemoSession
from riff.transcript.json_line import MAX_DEPTH
from riff.transcript.write import parent_value_spans
from tests.cli.test_end_to_end import riff_json

_DEEP = 2000
"""Past orjson's 1024 levels, well within what V8 reads and writes."""


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_field(body: bytes, depth: int = _DEEP) -> bytes:
    assert body.endswith(b"}")
    return body[:-1] + b',"deepValue":' + _nested(depth) + b"}"


def _not_utf8(body: bytes) -> bytes:
    # Inside the first string value after the uuid: a string Claude Code reads with U+FFFD.
    at = body.index(b'"', body.index(b'"uuid":"') + 8 + 36 + 1)
    at = body.index(b':"', at) + 2
    return body[:at] + b"\xff\xfe" + body[at:]


ODD_LINES = [
    pytest.param(_deep_field, id="nested-2000-deep"),
    pytest.param(_not_utf8, id="bytes-not-utf8-in-a-string"),
]


def _change(path: Path, line: int, how: Callable[[bytes], bytes]) -> bytes:
    """Line ``line`` (1-based) changed by ``how``; the file's new bytes."""
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = how(lines[line - 1])
    data = b"\n".join(lines)
    path.write_bytes(data)
    return data


def _findings(session_id: str, code: int = 1) -> list[dict[str, object]]:
    scan = riff_json("scan", session_id, "--no-cache", code=code)
    [session] = scan["sessions"]
    findings: list[dict[str, object]] = session["findings"]
    return findings


@pytest.mark.parametrize("how", ODD_LINES)
def test_an_odd_sound_line_in_a_healthy_session_is_left_alone(
    demo_sessions: list[DemoSession], how: Callable[[bytes], bytes]
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    changed = _change(target.path, 40, how)
    assert _findings(target.session_id, code=0) == []
    done = riff_json("repair", target.session_id, "--write", "--yes")
    assert done["events"] == []
    assert target.path.read_bytes() == changed


@pytest.mark.parametrize("how", ODD_LINES)
def test_an_odd_sound_orphan_is_relinked_in_its_parent_bytes_only(
    demo_sessions: list[DemoSession], how: Callable[[bytes], bytes]
) -> None:
    target = next(s for s in demo_sessions if s.breakages == ("orphan", "orphan"))
    truth = target.truths[0]
    changed = _change(target.path, truth.line, how)
    kinds = sorted(str(f["kind"]) for f in _findings(target.session_id))
    assert kinds == ["orphan", "orphan"]

    done = riff_json("repair", target.session_id, "--write", "--yes")
    relinked = {e["message_id"]: e["new_parent_uuid"] for e in done["events"]}
    assert relinked[truth.message_id] == truth.true_parent
    before = changed.split(b"\n")[truth.line - 1]
    after = target.path.read_bytes().split(b"\n")[truth.line - 1]
    [(start, end)] = parent_value_spans(before)
    [(new_start, new_end)] = parent_value_spans(after)
    assert after[:new_start] == before[:start] and after[new_end:] == before[end:]
    assert after[new_start:new_end] == orjson.dumps(truth.true_parent)


def test_a_line_past_the_depth_bound_is_reported_with_why(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if not s.breakages)
    _change(target.path, 40, lambda body: _deep_field(body, MAX_DEPTH + 10))
    # The line's message is then missing to riff as it is to the API: the next one is an orphan.
    [finding] = [f for f in _findings(target.session_id) if f["kind"] == "malformed_line"]
    assert f"nested over {MAX_DEPTH} levels deep" in str(finding["explanation"])
    assert "Claude Code can send" in str(finding["explanation"])


@pytest.mark.parametrize("junk", [b"xyz", b"\xff", b"}"])
def test_bytes_after_a_whole_row_leave_and_the_row_keeps_its_children(
    demo_sessions: list[DemoSession], junk: bytes
) -> None:
    # Claude Code 2.1.332 reads such a row (2.0.77 skips the line: resume oracle). Cutting
    # the line out lost the row, and re-linking its child around it lost it from the chain.
    target = next(s for s in demo_sessions if not s.breakages)
    clean = target.path.read_bytes()
    _change(target.path, 40, lambda body: body + junk)
    [finding] = [f for f in _findings(target.session_id) if f["kind"] == "malformed_line"]
    assert "after a whole row" in str(finding["explanation"])
    assert "2.1 reads the row" in str(finding["explanation"])
    done = riff_json("repair", target.session_id, "--write", "--yes")
    assert [e["kind"] for e in done["events"]] == ["quarantine_line"]
    assert target.path.read_bytes() == clean
