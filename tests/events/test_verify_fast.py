"""`riff verify FILE`'s fast path agrees with its reference path, event by event.

The fast path checks a block of lines in C loops and settles each session's
reverts from its columns; the reference path (`verify_export(..., exact=True)`)
checks every event and folds every session with `SessionFold`. Whatever the
export, tampered or not, both must give the same breaks, heads, reverted ids
and format errors.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.events import RepairEvent
from riff.events.audit import verify_export
from riff.events.errors import ExportFormatError
from riff.events.export import write_export
from riff.events.fold import SessionFold
from riff.events.revert_check import settle_reverts
from riff.events.verify import ValidationResult
from tests.event_factories import LogBuilder, message_uuid, valid_logs
from tests.events.test_tamper import exports, mutate


def _jsonl(doc: dict[str, Any]) -> bytes:
    """The JSON Lines form of an export document, spelt as riff writes it."""
    header = {"format_version": doc["format_version"], "exported_at": doc["exported_at"]}
    trailer = {"sessions": doc["sessions"], "metadata": doc["metadata"]}
    rows = [header, *doc["events"], trailer]
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _outcome(path: Path, *, exact: bool) -> tuple[str, Any]:
    try:
        result = verify_export(path, exact=exact)
    except ExportFormatError as exc:
        return "error", str(exc)
    return "result", _summary(result)


def _summary(result: ValidationResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "events": result.events_checked,
        "sessions": result.sessions_checked,
        "breaks": [b.to_dict() for b in result.breaks],
        "heads": result.heads,
        "reverted": sorted(result.reverted_ids),
    }


def _both_agree(path: Path) -> tuple[str, Any]:
    fast, exact = _outcome(path, exact=False), _outcome(path, exact=True)
    assert fast == exact
    return fast


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    exports(),
    st.sampled_from(["none", "field", "delete", "duplicate", "insert", "swap"]),
    st.sampled_from(["jsonl", "json"]),
    st.randoms(use_true_random=False),
)
def test_fast_and_exact_paths_agree_on_every_modification(
    tmp_path_factory: pytest.TempPathFactory,
    export: tuple[dict[str, Any], list[RepairEvent]],
    kind: str,
    form: str,
    rng: random.Random,
) -> None:
    doc, _ = export
    if kind != "none" and doc["events"]:
        doc, _ = mutate(doc, kind, rng)
    path = tmp_path_factory.mktemp("v") / f"export.{form}"
    path.write_bytes(_jsonl(doc) if form == "jsonl" else orjson.dumps(doc))
    outcome = _both_agree(path)
    if kind == "none":
        assert outcome[0] == "result" and outcome[1]["ok"], outcome


def _reverting_log(session: str = "s-1") -> LogBuilder:
    a, b, c = (message_uuid(n) for n in (1, 2, 3))
    log = LogBuilder(session, {a: None, b: a, c: b})
    first = log.repair(b, None, reason="r")
    log.repair(c, a, similarity_score=0.5)
    log.revert(first)  # not the latest event: settled all the same
    again = log.repair(b, c)
    undo = log.revert(again)
    log.revert(undo)  # a revert of a revert: SessionFold's to judge
    return log


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_reverts_of_reverts_and_older_targets_verify_alike(tmp_path: Path, fmt: str) -> None:
    log = _reverting_log()
    plain = LogBuilder("s-2", {message_uuid(9): None})
    plain.revert(plain.repair(message_uuid(9), None))
    path = tmp_path / f"export.{fmt}"
    write_export(path, [*log.events, *plain.events], fmt=fmt)  # type: ignore[arg-type]
    kind, summary = _both_agree(path)
    assert kind == "result" and summary["ok"], summary
    fold = SessionFold("s-1")
    for event in log.events:
        fold.apply(event.to_dict())
    assert set(summary["reverted"]) == fold.reverted_ids() | {plain.events[0].event_id}


def _tampered_line(path: Path, index: int, change: dict[str, Any]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    row = orjson.loads(lines[index]) | change
    lines[index] = orjson.dumps(row) + b"\n"
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    "change",
    [
        (1, {"reason": "edited"}),
        (1, {"is_reverted": False}),  # the first repair is reverted
        (2, {"is_reverted": True}),  # the second is not
        (2, {"similarity_score": 1.0}),
        (3, {"prev_digest": "f" * 64}),
    ],
    ids=["reason", "claims-kept", "claims-reverted", "score", "link"],
)
def test_a_tampered_event_is_caught_by_both_paths(
    tmp_path: Path, change: tuple[int, dict[str, Any]]
) -> None:
    log = _reverting_log()
    path = tmp_path / "export.jsonl"
    write_export(path, log.events, fmt="jsonl")
    _tampered_line(path, *change)
    kind, summary = _both_agree(path)
    assert kind == "result" and not summary["ok"]


def test_a_line_holding_two_events_is_refused_with_its_number(tmp_path: Path) -> None:
    log = _reverting_log()
    path = tmp_path / "export.jsonl"
    write_export(path, log.events, fmt="jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2:4] = [lines[2].rstrip(b"\n") + b" " + lines[3]]
    path.write_bytes(b"".join(lines))
    for exact in (False, True):
        with pytest.raises(ExportFormatError, match="line 3: not valid JSON"):
            verify_export(path, exact=exact)


def test_a_missing_digest_is_named_as_before(tmp_path: Path) -> None:
    log = _reverting_log()
    path = tmp_path / "export.jsonl"
    write_export(path, log.events, fmt="jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    row = orjson.loads(lines[2])
    del row["event_digest"]
    lines[2] = orjson.dumps(row) + b"\n"
    path.write_bytes(b"".join(lines))
    for exact in (False, True):
        with pytest.raises(ExportFormatError, match=r"line 3: invalid event: .*event_digest"):
            verify_export(path, exact=exact)


def test_sessions_split_across_the_file_verify_alike(tmp_path: Path) -> None:
    first, second = _reverting_log("s-a"), _reverting_log("s-b")
    path = tmp_path / "export.jsonl"
    write_export(path, [*first.events, *second.events], fmt="jsonl")  # one run each
    lines = path.read_bytes().splitlines(keepends=True)
    events = lines[1:-1]
    half = len(events) // 2
    mixed = [row for pair in zip(events[:half], events[half:], strict=True) for row in pair]
    path.write_bytes(b"".join([lines[0], *mixed, lines[-1]]))
    kind, summary = _both_agree(path)
    assert kind == "result" and summary["ok"], summary


# ---------------------------------------------------------------- the length rule


def test_msgspec_escapes_no_character_beyond_what_json_requires() -> None:
    """The rule that a line as long as its shortest spelling repeats no key rests on this."""
    short_escapes = set('\b\f\n\r\t"\\')
    for code in [*range(0x800), *range(0xD7F0, 0xD800), *range(0xE000, 0x10000, 7), 0x10FFFF]:
        char = chr(code)
        written = msgspec.json.encode(char)
        if code < 0x20:
            shortest = 2 if char in short_escapes else 6
        elif char in short_escapes:
            shortest = 2
        else:
            shortest = len(char.encode())
        assert len(written) - 2 == shortest, (hex(code), written)


@given(st.floats(min_value=0.01, max_value=1.0, exclude_max=True))
def test_scores_from_a_hundredth_up_have_no_shorter_spelling(score: float) -> None:
    written = msgspec.json.encode(score)
    shorter = {f"{score:.{k}e}".replace("e-0", "e-") for k in range(0, 17)}
    assert all(len(text) >= len(written) for text in shorter if float(text) == score), written


# ---------------------------------------------------------------- settling reverts


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_logs(max_steps=30))
def test_settled_reverts_are_what_session_fold_derives(log: LogBuilder) -> None:
    fold = SessionFold(log.session_id)
    for event in log.events:
        fold.apply(event.to_dict())
    derived = fold.reverted_ids()
    events = log.events
    settled = settle_reverts(
        [e.event_id for e in events],
        [e.message_id for e in events],
        [e.old_parent_uuid for e in events],
        [e.new_parent_uuid for e in events],
        [e.reverts_event_id for e in events],
        [e.event_id in derived for e in events],
    )
    if settled is not None:
        assert set(settled) == derived
    if not any(e.reverts_event_id in {r.event_id for r in events if r.is_revert} for e in events):
        assert settled is not None  # only reverts of reverts are left to the fold


# ---------------------------------------------------------------- a huge line


@pytest.mark.parametrize(
    "spelling",
    [
        b"plain text " * 300,
        "r\u00e9sum\u00e9 \u2028 ".encode() * 300,
        b'quoted \\" and new\\nline ' * 200,  # escapes: decoded in full instead
        b"\\u0041 spelt long " * 200,  # not canonical: decoded in full instead
        b"bad \xff byte " * 200,  # not UTF-8
        b"raw \x01 control " * 200,  # not JSON
    ],
    ids=["ascii", "utf8", "escaped", "long-escape", "bad-utf8", "control"],
)
@pytest.mark.parametrize("tamper", [False, True])
def test_a_huge_reason_is_hashed_in_place_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: bytes, tamper: bool
) -> None:
    import riff.events.audit as audit

    monkeypatch.setattr(audit, "_BLOCK", 1_024)  # the long-line path for a 3 KB line
    hashed_in_place: list[object] = []
    digest_of = audit.huge_reason_digest

    def recording(*args: Any) -> Any:
        hashed_in_place.append(digest_of(*args))
        return hashed_in_place[-1]

    monkeypatch.setattr(audit, "huge_reason_digest", recording)
    log = _reverting_log()
    path = tmp_path / "export.jsonl"
    write_export(path, log.events, fmt="jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    row = orjson.loads(lines[1])
    row["reason"] = "@@"
    text = orjson.dumps(row).replace(b'"@@"', b'"' + spelling + b'"')
    if not tamper:  # reseal the event with its new reason, as riff would have
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            decoded = None
        if decoded is not None:
            from riff.events.canonical import compute_event_digest

            digest = compute_event_digest(
                {k: v for k, v in decoded.items() if k not in ("event_digest", "is_reverted")}
            )
            text = text.replace(row["event_digest"].encode(), digest.encode())
    lines[1] = text + b"\n"
    path.write_bytes(b"".join(lines))
    _both_agree(path)
    plain = b"\\" not in spelling and b"\xff" not in spelling and b"\x01" not in spelling
    assert any(hashed_in_place) == plain
