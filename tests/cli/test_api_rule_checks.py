"""Every line repair plan is checked against the API request rules before and after:
a plan that would leave a violation the file did not have is refused (exit 1, one
line, nothing recorded or written); neutralize_tool_result through the CLI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riff.app.line_repairs import ApiRuleRefusal, check_api_rules
from riff.events.line_edit import LineEdit
from riff.transcript.findings import API_TOOL_USE_NOT_ANSWERED
from riff.transcript.line_repairs import LinePlan, PlannedLineEdit
from tests.cli.test_end_to_end import riff, riff_json

SESSION = "5d0c3f0e-1111-4c0e-a4f5-000000000001"
U = "0b6e3c2e-9a57-4c0e-a4f5-00000000000"


def _row(**fields: object) -> bytes:
    return orjson.dumps({"sessionId": SESSION, "timestamp": "2026-11-29T10:00:00.000Z"} | fields)


def _write(riff_env: dict[str, str], data: bytes) -> Path:
    path = Path(riff_env["RIFF_PROJECTS_DIR"]) / "-home-dev-x" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path


def _call(uid: str, parent: str | None, call: str) -> bytes:
    content = [{"type": "tool_use", "id": call, "name": "Bash", "input": {}}]
    return _row(
        parentUuid=parent,
        type="assistant",
        uuid=uid,
        message={"id": "msg_" + uid[-1], "role": "assistant", "content": content},
    )


def _prompt(uid: str, parent: str | None) -> bytes:
    return _row(
        parentUuid=parent, type="user", uuid=uid, message={"role": "user", "content": "go on"}
    )


def test_a_split_that_would_reveal_an_unanswered_call_is_refused(riff_env: dict[str, str]) -> None:
    # Two rows joined on one line: splitting them puts an unanswered call (and an
    # assistant-first chain) back on the chain resume loads.
    data = (
        _prompt(U + "1", None)
        + b"\n"
        + _call(U + "2", U + "1", "toolu_a")
        + _prompt(U + "3", U + "2")
        + b"\n"
        + _call(U + "4", U + "3", "toolu_b")[:-1]
        + b',"x":1}\n'
    )
    path = _write(riff_env, data)
    result = riff("repair", SESSION, "--kinds", "torn", "--write", "--yes")
    assert result.exit_code == 1, result.output  # a refused plan: problems found
    message = result.stderr.strip()
    assert "\n" not in message and "refused" in message and "api_tool_use_not_answered" in message
    assert path.read_bytes() == data
    assert riff_json("log", SESSION)["events"] == []
    # With tool_result too, the same plan answers the call and goes through.
    done = riff_json("repair", SESSION, "--kinds", "torn,tool_result", "--write", "--yes")
    # The rows after the calls go under the inserted results by re-links, after the edits.
    assert [e["kind"] for e in done["events"]] == [
        "quarantine_line",
        "insert_tool_result",
        "insert_tool_result",
        "repair",
    ]
    assert riff_json("verify", "--db")["ok"] is True
    for event in reversed(done["events"]):
        riff_json("revert", event["event_id"], "--write", "--yes")
    assert path.read_bytes() == data


def test_a_result_left_after_a_compaction_is_neutralized_and_reverted(
    riff_env: dict[str, str],
) -> None:
    orphan = [{"type": "tool_result", "tool_use_id": "toolu_gone", "content": "done"}]
    data = (
        b"\n".join(
            [
                _row(
                    parentUuid=None,
                    type="system",
                    subtype="compact_boundary",
                    uuid=U + "0",
                    logicalParentUuid="gone",
                ),
                _row(
                    parentUuid=U + "0",
                    type="user",
                    isCompactSummary=True,
                    uuid=U + "1",
                    message={"role": "user", "content": "summary"},
                ),
                _row(
                    parentUuid=U + "1",
                    type="assistant",
                    uuid=U + "2",
                    message={
                        "id": "m2",
                        "role": "assistant",
                        "content": [{"type": "text", "text": "ok"}],
                    },
                ),
                _row(
                    parentUuid=U + "2",
                    type="user",
                    uuid=U + "3",
                    message={"role": "user", "content": orphan},
                ),
            ]
        )
        + b"\n"
    )
    path = _write(riff_env, data)
    scan = riff_json("scan", str(path), code=1)["sessions"][0]["findings"]
    # The file-wide check names it (no row made the call); the API check agrees and
    # is not told twice.
    assert [f["kind"] for f in scan] == ["tool_result_without_use"]
    done = riff_json("repair", SESSION, "--kinds", "tool_result", "--write", "--yes")
    assert [e["kind"] for e in done["events"]] == ["neutralize_tool_result"]
    assert riff_json("scan", str(path))["sessions"][0]["findings"] == []
    riff_json("revert", done["events"][0]["event_id"], "--write", "--yes")
    assert path.read_bytes() == data
    assert riff_json("verify", "--db")["ok"] is True


def test_a_plan_that_does_not_fix_what_it_claims_is_refused() -> None:
    data = _prompt(U + "1", None) + b"\n" + _call(U + "2", U + "1", "toolu_a") + b"\n"
    pointless = b'{"type":"queue-operation"}\n'
    plan = LinePlan(
        [
            PlannedLineEdit(
                "insert_tool_result",
                U + "9",
                LineEdit(3, (), (pointless,)),
                "claims to answer toolu_a",
                ((API_TOOL_USE_NOT_ANSWERED, "toolu_a"),),
            )
        ]
    )
    with pytest.raises(ApiRuleRefusal, match="still breaks an API rule"):
        check_api_rules(data, plan, where="s.jsonl")
