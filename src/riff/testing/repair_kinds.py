"""Inject the breakages the line repairs undo, into any transcript's bytes (generated
or real), and repair a file with every line-repair kind the way riff plans it.

Each injector takes a healthy file's bytes and a random generator and returns
the broken bytes with where the break is and which findings must name it, or
None when the file has no place for that break. Breaks go where they matter:
rows on the chain resume loads, after the file's last compaction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from riff.events.line_edit import apply_edits, mirror_edit, split_segments
from riff.transcript import json_line
from riff.transcript.findings import (
    API_TOOL_RESULT_NOT_AFTER_USE,
    API_TOOL_USE_NOT_ANSWERED,
    DUPLICATE_UUID,
    MALFORMED_LINE,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    TRUNCATED_LINE,
)
from riff.transcript.line_repairs import (
    LINE_KINDS,
    PlannedLineEdit,
    plan_line_edits,
)
from riff.transcript.tool_result_repairs import TranscriptRow as _Row
from riff.transcript.tool_result_repairs import plan_tool_results, transcript_rows
from riff.transcript.write import replace_parent

UNANSWERED_TOOL_USE = "unanswered_tool_use"
ORPHAN_TOOL_RESULT = "orphan_tool_result"
TORN_LAST_LINE = "torn_last_line"
JOINED_ROWS = "joined_rows"
NUL_RUN = "nul_run"
TRAILING_BYTES = "trailing_bytes"
TORN_THEN_ROW = "torn_then_row"
BYTE_DUPLICATE = "byte_duplicate"
UUID_DUPLICATE = "uuid_duplicate"
REPAIR_BREAKS = (
    UNANSWERED_TOOL_USE,
    ORPHAN_TOOL_RESULT,
    TORN_LAST_LINE,
    JOINED_ROWS,
    NUL_RUN,
    TRAILING_BYTES,
    TORN_THEN_ROW,
    BYTE_DUPLICATE,
    UUID_DUPLICATE,
)


@dataclass(frozen=True)
class InjectedBreak:
    kind: str
    data: bytes
    line: int
    """1-based line of the broken file a finding must point at."""
    finding_kinds: tuple[str, ...]
    """A finding of one of these kinds at `line` detects it."""


@dataclass
class _File:
    segments: list[bytes]
    rows: list[_Row] = field(default_factory=list)
    loaded: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, data: bytes) -> _File:
        from riff.transcript.api_rules import loaded_row_uuids

        segments = split_segments(data)
        return cls(segments, transcript_rows(segments), loaded_row_uuids(data))

    def after_compaction(self) -> list[_Row]:
        last = max(
            (r.index for r in self.rows if r.value.get("subtype") == "compact_boundary"),
            default=-1,
        )
        return [r for r in self.rows if r.index > last and not r.value.get("isSidechain")]

    def children(self, uuid: str) -> list[_Row]:
        return [r for r in self.rows if r.parent == uuid]

    def without(self, row: _Row, new_parent: str | None) -> bytes:
        """The file without `row`'s line, its children re-linked to `new_parent`."""
        out = list(self.segments)
        for child in self.children(row.uuid or ""):
            out[child.index] = replace_parent(out[child.index], new_parent)
        del out[row.index]
        return b"".join(out)


def _unanswered_tool_use(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """A tool's result row is gone (the session was killed while the tool ran); the
    next row hangs under the call."""
    f = _File.read(data)
    by_uuid = {r.uuid: r for r in f.rows if r.uuid}
    answers: dict[str, int] = {}
    for r in f.rows:
        for tool_id in r.ids("tool_result", "tool_use_id"):
            answers[tool_id] = answers.get(tool_id, 0) + 1
    candidates = []
    for r in f.after_compaction():
        results = r.ids("tool_result", "tool_use_id")
        call = by_uuid.get(r.parent) if r.parent else None
        if (
            r.uuid in f.loaded
            and len(results) == 1
            and len(r.blocks()) == 1
            and call is not None
            and results[0] in call.ids("tool_use", "id")
            and answers[results[0]] == 1
            and f.children(r.uuid or "")
        ):
            candidates.append((r, call))
    if not candidates:
        return None
    row, call = rng.choice(candidates)
    return InjectedBreak(
        UNANSWERED_TOOL_USE,
        f.without(row, call.uuid),
        call.index + 1,
        (TOOL_USE_WITHOUT_RESULT, API_TOOL_USE_NOT_ANSWERED),
    )


def _orphan_tool_result(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """The row holding a call is gone (as after a compaction or a hand edit) while
    its result stays."""
    f = _File.read(data)
    candidates = []
    for r in f.after_compaction():
        calls = r.ids("tool_use", "id")
        if r.value.get("type") != "assistant" or not calls or r.uuid not in f.loaded:
            continue
        answering = [
            c
            for c in f.children(r.uuid or "")
            if set(calls) & set(c.ids("tool_result", "tool_use_id"))
        ]
        if answering and answering[0].uuid in f.loaded:
            candidates.append((r, answering[0]))
    rng.shuffle(candidates)
    # Where the result stays on the chain resume loads (the case the API refuses);
    # a few tries, each a read of the broken file.
    from riff.transcript.api_rules import loaded_row_uuids

    for row, result in candidates[:_TRIES]:
        broken = f.without(row, row.parent)
        if result.uuid in loaded_row_uuids(broken):
            return InjectedBreak(
                ORPHAN_TOOL_RESULT,
                broken,
                result.index,  # one line up: the call's line is gone
                (TOOL_RESULT_WITHOUT_USE, API_TOOL_RESULT_NOT_AFTER_USE),
            )
    return None


_TRIES = 6


def _torn_last_line(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """The last write was cut off mid-line (a crash, a full disk)."""
    segments = split_segments(data)
    while segments and not segments[-1].strip():
        segments.pop()
    if not segments or len(segments[-1]) < 8:
        return None
    last = segments[-1].rstrip(b"\n")
    cut = rng.randrange(2, len(last) - 2)
    return InjectedBreak(
        TORN_LAST_LINE, b"".join(segments[:-1]) + last[:cut], len(segments), (TRUNCATED_LINE,)
    )


def _value(segment: bytes) -> Any:
    """The JSON value of a line, None when orjson does not read it."""
    try:
        return orjson.loads(segment)
    except orjson.JSONDecodeError:
        return None


def _row_lines(data: bytes) -> list[int]:
    """0-based indexes of segments that are JSON objects with a uuid, outside sidechains."""
    out = []
    for index, segment in enumerate(split_segments(data)):
        value = _value(segment)
        if isinstance(value, dict) and isinstance(value.get("uuid"), str):
            out.append(index)
    return out


def _joined_rows(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """Two rows written onto one line (`…}{…`): the newline between them was lost."""
    segments = split_segments(data)
    rows = [i for i in _row_lines(data) if i + 1 < len(segments) and segments[i].endswith(b"}\n")]
    rows = [i for i in rows if segments[i + 1].startswith(b"{")]
    if not rows:
        return None
    i = rng.choice(rows)
    out = [*segments[:i], segments[i][:-1] + segments[i + 1], *segments[i + 2 :]]
    return InjectedBreak(JOINED_ROWS, b"".join(out), i + 1, (MALFORMED_LINE,))


def _nul_run(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """A run of NUL bytes (space the file system gave a write that never landed): on a
    line of its own, or in front of the next row."""
    segments = split_segments(data)
    rows = _row_lines(data)
    if not rows:
        return None
    i = rng.choice(rows)
    run = b"\x00" * rng.randrange(16, 4096)
    if rng.random() < 0.5:
        out = [*segments[:i], run + b"\n", *segments[i:]]
    else:
        out = [*segments[:i], run + segments[i], *segments[i + 1 :]]
    return InjectedBreak(NUL_RUN, b"".join(out), i + 1, (MALFORMED_LINE,))


_TRAILERS = (b"x", b"}", b"]]", b"\xff\xfe", b" \x00\x00garbage", b"\xe2\x80")
"""Bytes a torn or misplaced write can leave after a row: never a newline, never a `{`
(two rows on one line are `joined_rows`)."""


def _trailing_bytes(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """Bytes after a whole row, on its line: Claude Code 2.1 still reads the row."""
    segments = split_segments(data)
    rows = [i for i in _row_lines(data) if segments[i].endswith(b"}\n")]
    if not rows:
        return None
    i = rng.choice(rows)
    out = [*segments[:i], segments[i][:-1] + rng.choice(_TRAILERS) + b"\n", *segments[i + 1 :]]
    return InjectedBreak(TRAILING_BYTES, b"".join(out), i + 1, (MALFORMED_LINE,))


def _plain_message(value: Any) -> bool:
    """A message row holding no tool block (its loss leaves no call unanswered)."""
    if not isinstance(value, dict) or value.get("type") not in ("user", "assistant"):
        return False
    content = (value.get("message") or {}).get("content")
    blocks = content if isinstance(content, list) else []
    return not any(isinstance(b, dict) and "tool" in str(b.get("type")) for b in blocks)


def _torn_then_row(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """A row torn mid-line, and the next row written onto the same line: what Claude Code
    2.0 writes when it resumes a session whose last line is torn (it appends without a
    newline first; 2.1 ends the torn line). The rows written after the tear never saw the
    torn row, so its children hang under its parent."""
    segments = split_segments(data)
    values = [_value(segment) for segment in segments]
    rows = [
        i
        for i in _row_lines(data)
        if i + 1 < len(segments)
        and _plain_message(values[i])
        # an assistant row: a lost user row can leave the assistant first, which the API
        # refuses whoever repairs the file
        and values[i]["type"] == "assistant"
        and isinstance(values[i + 1], dict)
        and values[i + 1].get("parentUuid") == values[i]["uuid"]
        and segments[i].endswith(b"}\n")
    ]
    if not rows:
        return None
    i = rng.choice(rows)
    torn_uuid, its_parent = values[i]["uuid"], values[i].get("parentUuid")
    out = list(segments)
    for k in range(i + 1, len(out)):
        value = values[k]
        if isinstance(value, dict) and value.get("parentUuid") == torn_uuid:
            out[k] = replace_parent(out[k], its_parent)
    cut = rng.randrange(2, len(segments[i]) - 2)
    out[i : i + 2] = [segments[i][:cut] + out[i + 1]]
    return InjectedBreak(TORN_THEN_ROW, b"".join(out), i + 1, (MALFORMED_LINE,))


def _byte_duplicate(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """A row written twice, byte for byte (a retried append)."""
    segments = split_segments(data)
    rows = [i for i in _row_lines(data) if segments[i].endswith(b"\n")]
    if not rows:
        return None
    i = rng.choice(rows)
    at = rng.randrange(i + 1, len(segments) + 1)
    if at == len(segments) and not segments[-1].endswith(b"\n"):
        at -= 1
    out = [*segments[:at], segments[i], *segments[at:]]
    return InjectedBreak(BYTE_DUPLICATE, b"".join(out), at + 1, (DUPLICATE_UUID,))


def _uuid_duplicate(data: bytes, rng: random.Random) -> InjectedBreak | None:
    """The same row written again by another writer: same uuid and content, other bytes."""
    segments = split_segments(data)
    rows = [i for i in _row_lines(data) if segments[i].endswith(b"\n")]
    if not rows:
        return None
    i = rng.choice(rows)
    value = orjson.loads(segments[i])
    again = json.dumps(value, separators=(", ", ": "), ensure_ascii=False).encode() + b"\n"
    at = rng.randrange(i + 1, len(segments) + 1)
    if at == len(segments) and not segments[-1].endswith(b"\n"):
        at -= 1
    out = [*segments[:at], again, *segments[at:]]
    return InjectedBreak(UUID_DUPLICATE, b"".join(out), at + 1, (DUPLICATE_UUID,))


INJECTORS: dict[str, Callable[[bytes, random.Random], InjectedBreak | None]] = {
    UNANSWERED_TOOL_USE: _unanswered_tool_use,
    ORPHAN_TOOL_RESULT: _orphan_tool_result,
    TORN_LAST_LINE: _torn_last_line,
    JOINED_ROWS: _joined_rows,
    NUL_RUN: _nul_run,
    TRAILING_BYTES: _trailing_bytes,
    TORN_THEN_ROW: _torn_then_row,
    BYTE_DUPLICATE: _byte_duplicate,
    UUID_DUPLICATE: _uuid_duplicate,
}


def inject_break(kind: str, data: bytes, rng: random.Random) -> InjectedBreak | None:
    return INJECTORS[kind](data, rng)


@dataclass(frozen=True)
class RepairOutcome:
    edits: list[PlannedLineEdit]
    repaired: bytes
    reverted: bytes
    """The repaired bytes with every edit's mirror applied, last first."""


def repair_all(data: bytes) -> RepairOutcome:
    """Every line-repair kind riff plans (torn, duplicate, tool_result), applied in order,
    then undone edit by edit as reverts do."""
    plan = plan_line_edits(data, LINE_KINDS)
    edits = list(plan.edits)
    blobs: dict[str, bytes] = {}
    for p in edits:
        blobs.update(p.edit.blobs())
    middle = apply_edits(data, [p.edit.to_value() for p in edits], blobs)
    more = plan_tool_results(middle)
    for p in more:
        blobs.update(p.edit.blobs())
    repaired = apply_edits(middle, [p.edit.to_value() for p in more], blobs)
    edits += more
    undo = [mirror_edit(p.edit.to_value()) for p in reversed(edits)]
    return RepairOutcome(edits, repaired, apply_edits(repaired, undo, blobs))


def _uuid_lines(data: bytes) -> dict[str, int]:
    """Rows per uuid; the rows of a `}{` join count (the file holds their bytes)."""
    counts: dict[str, int] = {}
    for segment in split_segments(data):
        try:
            values = [orjson.loads(segment)]
        except orjson.JSONDecodeError:
            halves = json_line.split_rows(segment.rstrip(b"\n"))
            values = [orjson.loads(h) for h in halves] if halves else []
        for value in values:
            if isinstance(value, dict) and isinstance(value.get("uuid"), str):
                counts[value["uuid"]] = counts.get(value["uuid"], 0) + 1
    return counts


def _unanswered(data: bytes) -> set[str]:
    uses: set[str] = set()
    results: set[str] = set()
    for segment in split_segments(data):
        try:
            value = orjson.loads(segment)
        except orjson.JSONDecodeError:
            continue
        row = _Row(0, value) if isinstance(value, dict) else None
        if row is not None:
            uses.update(row.ids("tool_use", "id"))
            results.update(row.ids("tool_result", "tool_use_id"))
    return uses - results


def repair_problems(source: bytes, repaired: bytes) -> list[str]:
    """What keeps `repaired` from counting as repaired, against the healthy `source`:
    a line that does not read as JSON, a uuid on more lines than in the source, a
    tool call without a result that the source answered, an API rule broken."""
    from riff.transcript.api_rules import api_violations_of_bytes

    problems = []
    for number, segment in enumerate(split_segments(repaired), 1):
        if segment.strip(b" \t\r\n"):
            try:
                orjson.loads(segment)
            except orjson.JSONDecodeError:
                problems.append(f"line {number} does not parse")
    had = _uuid_lines(source)
    problems += [
        f"uuid {u} on {n} lines" for u, n in _uuid_lines(repaired).items() if n > had.get(u, 1)
    ]
    problems += [f"tool call {t} unanswered" for t in _unanswered(repaired) - _unanswered(source)]
    problems += [v.detail for v in api_violations_of_bytes(repaired)]
    return problems
