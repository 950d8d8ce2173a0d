"""Tamper detection is total: every single modification of an export is detected and located."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from riff.cli.app import app
from riff.events import ChainHead, EventDraft, RepairEvent, generate_event_id, seal_event
from riff.events.audit import verify_export
from riff.events.canonical import compute_event_digest
from riff.events.export import export_event_log
from riff.events.model import format_event_timestamp, parse_timestamp
from tests.event_factories import LogBuilder, message_uuid, valid_logs

runner = CliRunner()


@st.composite
def exports(draw: st.DrawFn) -> tuple[dict[str, Any], list[RepairEvent]]:
    logs = [draw(valid_logs(max_steps=8)) for _ in range(draw(st.integers(1, 3)))]
    events: list[RepairEvent] = []
    for i, log in enumerate(logs):
        for event in log.events:
            events.append(RepairEvent.from_dict(event.to_dict() | {"session_id": f"s{i}"}))
    # Re-seal per session so the renamed sessions have valid chains.
    resealed: list[RepairEvent] = []
    heads: dict[str, ChainHead] = {}
    for event in events:
        head = heads.get(event.session_id, ChainHead(event.session_id))
        payload = event.to_dict() | {"seq": head.seq + 1, "prev_digest": head.digest}
        payload["event_digest"] = compute_event_digest(payload)
        sealed = RepairEvent.from_dict(payload)
        heads[event.session_id] = head.advanced_by(sealed)
        resealed.append(sealed)
    return export_event_log(resealed), resealed


def _other_uuid(rng: random.Random) -> str:
    return message_uuid(rng.randrange(2000, 3000))


def _changed_value(field: str, row: dict[str, Any], rng: random.Random) -> Any:
    """A different value of the same field that the format still admits."""
    value = row[field]
    if field in ("event_id",):
        return generate_event_id()
    if field == "reverts_event_id":
        return generate_event_id() if row["kind"] == "revert" else None
    if field == "kind":
        return value  # either flip makes the row invalid, which is exit 2, not tampering
    if field == "session_id":
        return value + "x"
    if field == "seq":
        return value + rng.choice([1, 2, 5])
    if field == "timestamp":
        moment = parse_timestamp(value)
        return format_event_timestamp(moment.replace(microsecond=(moment.microsecond + 1) % 10**6))
    if field in ("message_id",):
        return _other_uuid(rng)
    if field in ("old_parent_uuid", "new_parent_uuid"):
        return None if value is not None else _other_uuid(rng)
    if field in ("operator", "reason"):
        return value + "é"
    if field == "similarity_score":
        return 0.5 if value != 0.5 else 0.25
    if field == "validation_passed":
        return not value
    if field == "prev_digest" and row["seq"] == 1:
        return value  # seq 1 must link to 64 zeros: any change is a format error
    if field in ("prev_digest", "event_digest"):
        return ("f" if value[0] != "f" else "e") + value[1:]
    if field == "is_reverted":
        return not value
    raise AssertionError(field)


MUTABLE_FIELDS = [
    "event_id", "kind", "session_id", "seq", "timestamp", "message_id", "old_parent_uuid",
    "new_parent_uuid", "operator", "reason", "similarity_score", "validation_passed",
    "reverts_event_id", "prev_digest", "event_digest", "is_reverted",
]  # fmt: skip


def mutate(doc: dict[str, Any], kind: str, rng: random.Random) -> tuple[dict[str, Any], str]:
    """Apply one modification; returns the new document and the session it touches."""
    doc = copy.deepcopy(doc)
    events = doc["events"]
    index = rng.randrange(len(events))
    row = events[index]
    session = row["session_id"]
    if kind == "field":
        candidates = [f for f in MUTABLE_FIELDS if _changed_value(f, row, rng) != row[f]]
        field = rng.choice(candidates)
        row[field] = _changed_value(field, row, rng)
    elif kind == "delete":
        del events[index]
    elif kind == "duplicate":
        events.insert(index + 1, copy.deepcopy(row))
    elif kind == "insert":
        head = ChainHead(session, row["seq"], row["event_digest"])
        fresh = seal_event(head, EventDraft(row["message_id"], None, None, "mallory"))
        events.insert(index + 1, fresh.to_dict() | {"is_reverted": False})
    elif kind == "swap":
        same = [i for i, r in enumerate(events) if r["session_id"] == session and i != index]
        if not same:
            return mutate(doc, "delete", rng)
        other = rng.choice(same)
        events[index], events[other] = events[other], events[index]
    return doc, session


def _located(breaks: list[Any], session: str) -> bool:
    return any(b.session_id in (session, session + "x", "*") for b in breaks)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    exports(),
    st.sampled_from(["field", "delete", "duplicate", "insert", "swap"]),
    st.randoms(use_true_random=False),
)
def test_every_single_modification_is_detected(
    tmp_path_factory: pytest.TempPathFactory,
    export: tuple[dict[str, Any], list[RepairEvent]],
    kind: str,
    rng: random.Random,
) -> None:
    doc, _ = export
    if not doc["events"]:
        return
    tampered, session = mutate(doc, kind, rng)
    path = tmp_path_factory.mktemp("t") / "export.json"
    path.write_bytes(orjson.dumps(tampered))
    result = verify_export(path)
    assert not result.ok, f"{kind} went unnoticed"
    assert _located(result.breaks, session)


def _rewrite_chain(doc: dict[str, Any]) -> dict[str, Any]:
    """What a careful forger does: recompute every digest, link and the trailer."""
    from riff.events.export import export_event_log

    events = []
    heads: dict[str, ChainHead] = {}
    for row in doc["events"]:
        head = heads.get(row["session_id"], ChainHead(row["session_id"]))
        payload = {k: v for k, v in row.items() if k != "is_reverted"}
        payload |= {"seq": head.seq + 1, "prev_digest": head.digest}
        payload["event_digest"] = compute_event_digest(payload)
        event = RepairEvent.from_dict(payload)
        heads[row["session_id"]] = head.advanced_by(event)
        events.append(event)
    return export_event_log(events)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(exports(), st.randoms(use_true_random=False))
def test_truncation_and_forged_chains_are_caught_by_anchored_heads(
    tmp_path_factory: pytest.TempPathFactory,
    export: tuple[dict[str, Any], list[RepairEvent]],
    rng: random.Random,
) -> None:
    doc, events = export
    if not events:
        return
    anchors = {sid: info["head_digest"] for sid, info in doc["sessions"].items()}
    victim = rng.choice(sorted(anchors))
    kept = [r for r in doc["events"] if r["session_id"] != victim]
    victim_rows = [r for r in doc["events"] if r["session_id"] == victim]
    forged = _rewrite_chain({"events": kept + victim_rows[: rng.randrange(len(victim_rows))]})
    path = tmp_path_factory.mktemp("t") / "export.json"
    path.write_bytes(orjson.dumps(forged))
    assert verify_export(path).ok, "a forger who rewrites everything passes without anchors"
    anchored = verify_export(path, anchors)
    assert not anchored.ok
    assert {b.problem for b in anchored.breaks} == {"head_mismatch"}
    assert {b.session_id for b in anchored.breaks} == {victim}


# ---------------------------------------------------------------- through the CLI


def _build_export(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    a, b, c = message_uuid(1), message_uuid(2), message_uuid(3)
    log = LogBuilder("session-1", {a: None, b: a, c: None})
    log.repair(c, b, similarity_score=0.93, reason="tool_result matches tool_use")
    first = log.repair(a, None)
    log.revert(first)
    doc = export_event_log(log.events)
    path = tmp_path / "export.json"
    path.write_bytes(orjson.dumps(doc))
    return path, doc


@pytest.mark.parametrize("kind", ["field", "delete", "duplicate", "insert", "swap"])
def test_cli_reports_tampering_with_exit_1(tmp_path: Path, kind: str) -> None:
    path, doc = _build_export(tmp_path)
    assert runner.invoke(app, ["verify", str(path)]).exit_code == 0
    tampered, _ = mutate(doc, kind, random.Random(7))
    path.write_bytes(orjson.dumps(tampered))
    result = runner.invoke(app, ["verify", "--json", str(path)])
    assert result.exit_code == 1, result.output
    report = orjson.loads(result.stdout)
    assert report["ok"] is False
    assert report["breaks"] and all(b["problem"] for b in report["breaks"])


def test_cli_expect_head_catches_truncation(tmp_path: Path) -> None:
    path, doc = _build_export(tmp_path)
    head = doc["sessions"]["session-1"]["head_digest"]
    forged = _rewrite_chain({"events": doc["events"][:-1]})
    path.write_bytes(orjson.dumps(forged))
    assert runner.invoke(app, ["verify", str(path)]).exit_code == 0
    result = runner.invoke(app, ["verify", str(path), "--expect-head", f"session-1={head}"])
    assert result.exit_code == 1
    assert "head_mismatch" in result.stdout
