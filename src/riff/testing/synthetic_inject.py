"""Break a generated session on purpose and record the ground truth.

Injections never shift earlier line numbers (lines are changed in place or
appended), so the ground truth of every call stays valid after later calls.
"""

from __future__ import annotations

import copy
import itertools
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson

from riff.testing.synthetic import GeneratedSession, GroundTruth
from riff.transcript.findings import (
    CYCLE,
    DUPLICATE_UUID,
    LOST_BRANCH,
    MALFORMED_LINE,
    ORPHAN,
    TIMESTAMP_ANOMALY,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    TRUNCATED_LINE,
    UNEXPECTED_ROOT,
)
from riff.transcript.timestamps import format_transcript_timestamp, normalize_timestamp

_Pos = int
_DECORRELATE = 0xDEECE66D_2545F491_4F6CDD1D_9E3779B9


class _View:
    """Indexes of a session's lines for choosing what to break."""

    def __init__(self, session: GeneratedSession) -> None:
        self.session = session
        self.pos: dict[str, _Pos] = {}
        self.children: dict[str, list[str]] = {}
        for i, line in enumerate(session.lines):
            if isinstance(line, dict) and isinstance(line.get("uuid"), str):
                self.pos.setdefault(line["uuid"], i)
        for line in session.lines:
            if isinstance(line, dict) and isinstance(line.get("parentUuid"), str):
                self.children.setdefault(line["parentUuid"], []).append(line["uuid"])

    def line(self, uuid: str) -> dict[str, Any]:
        found = self.session.lines[self.pos[uuid]]
        assert isinstance(found, dict)
        return found

    def number(self, uuid: str) -> int:
        return self.pos[uuid] + 1

    def conversation(self) -> list[dict[str, Any]]:
        """Untouched, non-sidechain user/assistant lines with a parent (breakable)."""
        out = []
        for line in self.session.lines:
            if not isinstance(line, dict) or line.get("type") not in ("user", "assistant"):
                continue
            if line.get("isSidechain") or line.get("isCompactSummary"):
                continue
            if line.get("parentUuid") is None or line["uuid"] in self.session.touched:
                continue
            out.append(line)
        return out


def _last_compaction(session: GeneratedSession) -> int:
    """Position of the last compact_boundary line (-1: none)."""
    return max(
        (
            i
            for i, x in enumerate(session.lines)
            if isinstance(x, dict) and x.get("subtype") == "compact_boundary"
        ),
        default=-1,
    )


def _is_prompt(line: dict[str, Any]) -> bool:
    message = line.get("message") or {}
    return (
        line.get("type") == "user"
        and isinstance(message.get("content"), str)
        and not line.get("isMeta")
        and not line.get("isCompactSummary")
    )


def _tool_ids(line: dict[str, Any], block_type: str, key: str) -> list[str]:
    content = (line.get("message") or {}).get("content")
    if not isinstance(content, list):
        return []
    return [b[key] for b in content if isinstance(b, dict) and b.get("type") == block_type]


def _fresh_uuid(rng: random.Random, view: _View) -> str:
    """A uuid of no message; the XOR keeps it apart from a generator seeded alike."""
    while True:
        candidate = str(uuid.UUID(int=rng.getrandbits(128) ^ _DECORRELATE, version=4))
        if candidate not in view.pos:
            return candidate


def _touch(session: GeneratedSession, *uuids: str | None) -> None:
    session.touched.update(u for u in uuids if u is not None)


def _after_compaction(session: GeneratedSession, lines: list[dict[str, Any]], view: _View) -> Any:
    """The lines after the last compaction (a break there changes what resume loads),
    or all of them when none is."""
    compacted = _last_compaction(session)
    later = [x for x in lines if view.pos[x["uuid"]] > compacted]
    return later or lines


def _inject_orphan(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    line = rng.choice(_after_compaction(session, view.conversation(), view))
    true_parent = line["parentUuid"]
    line["parentUuid"] = _fresh_uuid(rng, view)
    _touch(session, line["uuid"], true_parent)
    return GroundTruth(ORPHAN, view.number(line["uuid"]), line["uuid"], true_parent)


def _inject_unexpected_root(
    session: GeneratedSession, view: _View, rng: random.Random
) -> GroundTruth:
    line = rng.choice(
        _after_compaction(
            session, [x for x in view.conversation() if "logicalParentUuid" not in x], view
        )
    )
    true_parent = line["parentUuid"]
    line["parentUuid"] = None
    _touch(session, line["uuid"], true_parent)
    return GroundTruth(UNEXPECTED_ROOT, view.number(line["uuid"]), line["uuid"], true_parent)


def _inject_cycle(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    candidates = view.conversation()
    rng.shuffle(candidates)
    for line in candidates:
        # Walk a few steps down the chain to find a descendant to point at.
        node, steps = line["uuid"], rng.randint(1, 6)
        for _ in range(steps):
            kids = view.children.get(node)
            if not kids:
                break
            node = kids[-1]
        if node == line["uuid"]:
            continue
        true_parent = line["parentUuid"]
        line["parentUuid"] = node
        _touch(session, line["uuid"], true_parent, node)
        return GroundTruth(
            CYCLE, view.number(line["uuid"]), line["uuid"], true_parent, related_id=node
        )
    raise ValueError("no message with descendants to build a cycle from")


def _inject_duplicate(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    line = rng.choice(view.conversation())
    identical = rng.random() < 0.5
    copy_line = copy.deepcopy(line)
    if not identical:
        copy_line["timestamp"] = format_transcript_timestamp(
            _parse(line["timestamp"]) + timedelta(seconds=rng.randint(1, 30))
        )
        copy_line["message"] = {"role": line["message"]["role"], "content": "(edited) retry"}
    session.lines.append(copy_line)
    _touch(session, line["uuid"])
    return GroundTruth(
        DUPLICATE_UUID,
        len(session.lines),
        line["uuid"],
        line["parentUuid"],
        detail="identical" if identical else "conflicting",
    )


def _parse(ts: str) -> Any:
    from datetime import datetime

    normal = normalize_timestamp(ts)
    assert normal is not None
    return datetime.fromisoformat(normal.replace("Z", "+00:00"))


def _inject_tool_use_without_result(
    session: GeneratedSession, view: _View, rng: random.Random
) -> GroundTruth:
    holders = {
        tool_id: line
        for line in view.conversation()
        if line["type"] == "assistant"
        for tool_id in _tool_ids(line, "tool_use", "id")
    }
    compacted = _last_compaction(session)  # an unanswered call before it is never sent
    results = [
        line
        for line in view.conversation()
        if view.pos[line["uuid"]] > compacted
        and len(_tool_ids(line, "tool_result", "tool_use_id")) == 1
        and _tool_ids(line, "tool_result", "tool_use_id")[0] in holders
    ]
    result = rng.choice(results)
    tool_id = _tool_ids(result, "tool_result", "tool_use_id")[0]
    result["message"] = {
        "role": "user",
        "content": [{"type": "text", "text": "[Request interrupted by user for tool use]"}],
    }
    result.pop("toolUseResult", None)
    holder = holders[tool_id]
    _touch(session, result["uuid"], holder["uuid"])
    return GroundTruth(
        TOOL_USE_WITHOUT_RESULT, view.number(holder["uuid"]), holder["uuid"], detail=tool_id
    )


def _inject_tool_result_without_use(
    session: GeneratedSession, view: _View, rng: random.Random
) -> GroundTruth:
    compacted = _last_compaction(session)  # a stray result before it is never sent
    results = {
        tool_id: line
        for line in view.conversation()
        if view.pos[line["uuid"]] > compacted
        for tool_id in _tool_ids(line, "tool_result", "tool_use_id")
    }
    holders = [
        line
        for line in view.conversation()
        if line["type"] == "assistant"
        and len(_tool_ids(line, "tool_use", "id")) == 1
        and _tool_ids(line, "tool_use", "id")[0] in results
    ]
    holder = rng.choice(holders)
    tool_id = _tool_ids(holder, "tool_use", "id")[0]
    holder["message"]["content"] = [{"type": "text", "text": "Let me look at that file."}]
    result = results[tool_id]
    _touch(session, result["uuid"], holder["uuid"])
    return GroundTruth(
        TOOL_RESULT_WITHOUT_USE, view.number(result["uuid"]), result["uuid"], detail=tool_id
    )


def _inject_lost_branch(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    # Resume never sends what lies before the last compaction, so a branch
    # there loses nothing: break a turn after it.
    compacted = _last_compaction(session)
    prompts = [x for x in view.conversation() if _is_prompt(x) and view.pos[x["uuid"]] > compacted]
    options = []
    for previous, current in itertools.pairwise(prompts):
        p, q = current["parentUuid"], previous["parentUuid"]
        if q is None or p not in view.pos or q not in view.pos:
            continue
        if view.line(p)["type"] != "assistant" or len(view.children.get(p, ())) != 1:
            continue
        # The previous turn must lead straight to this one (no compaction between).
        node: str | None = p
        for _ in range(10_000):
            if node is None or node == previous["uuid"]:
                break
            node = view.line(node).get("parentUuid") if node in view.pos else None
        if node == previous["uuid"]:
            options.append((current, p, q))
    current, p, q = rng.choice(options[:-1] or options)
    current["parentUuid"] = q
    _touch(session, current["uuid"], p, q)
    # The finding is about the branch left behind, whose leaf is the old parent.
    return GroundTruth(LOST_BRANCH, view.number(p), current["uuid"], p, related_id=p)


def _inject_timestamp_anomaly(
    session: GeneratedSession, view: _View, rng: random.Random
) -> GroundTruth:
    line = rng.choice([x for x in view.conversation() if x["parentUuid"] in view.pos])
    parent = view.line(line["parentUuid"])
    line["timestamp"] = format_transcript_timestamp(
        # Beyond clock skew (riff tolerates a parent up to a minute late).
        _parse(parent["timestamp"]) - timedelta(seconds=rng.randint(120, 900))
    )
    _touch(session, line["uuid"])
    return GroundTruth(
        TIMESTAMP_ANOMALY, view.number(line["uuid"]), line["uuid"], line["parentUuid"]
    )


def _garbage(rng: random.Random, session: GeneratedSession) -> bytes:
    choice = rng.randrange(3)
    if choice == 0:
        return b"\x00" * rng.randint(1, 4096)
    if choice == 1:
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
        return b"\xff" + noise.replace(b"\n", b" ")
    sample = next(x for x in session.lines if isinstance(x, dict))
    dumped = orjson.dumps(sample)
    return dumped[: rng.randint(1, len(dumped) - 1)]


def _inject_malformed(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    # Replace a line without uuid (no message is lost) or append one.
    spots = [
        i
        for i, x in enumerate(session.lines)
        if isinstance(x, dict) and x.get("type") == "file-history-snapshot"
    ]
    garbage = _garbage(rng, session)
    if spots:
        i = rng.choice(spots)
        session.lines[i] = garbage
        return GroundTruth(MALFORMED_LINE, i + 1)
    session.lines.append(garbage)
    return GroundTruth(MALFORMED_LINE, len(session.lines))


def _inject_truncated(session: GeneratedSession, view: _View, rng: random.Random) -> GroundTruth:
    sample = rng.choice([x for x in session.lines if isinstance(x, dict)])
    dumped = orjson.dumps(sample)
    session.truncated_tail = dumped[: rng.randint(1, len(dumped) - 1)]
    return GroundTruth(TRUNCATED_LINE, len(session.lines) + 1)


_INJECTORS: dict[str, Callable[[GeneratedSession, _View, random.Random], GroundTruth]] = {
    ORPHAN: _inject_orphan,
    UNEXPECTED_ROOT: _inject_unexpected_root,
    CYCLE: _inject_cycle,
    DUPLICATE_UUID: _inject_duplicate,
    TOOL_USE_WITHOUT_RESULT: _inject_tool_use_without_result,
    TOOL_RESULT_WITHOUT_USE: _inject_tool_result_without_use,
    LOST_BRANCH: _inject_lost_branch,
    TIMESTAMP_ANOMALY: _inject_timestamp_anomaly,
    MALFORMED_LINE: _inject_malformed,
    TRUNCATED_LINE: _inject_truncated,
}


def inject(
    session: GeneratedSession, kind: str, count: int = 1, rng: random.Random | None = None
) -> list[GroundTruth]:
    """Break ``session`` ``count`` times with ``kind``; return the ground truths."""
    if kind not in _INJECTORS:
        raise ValueError(f"unknown breakage kind {kind!r}; choose one of {sorted(_INJECTORS)}")
    rng = rng or random.Random(0)
    truths = []
    for _ in range(count if kind != TRUNCATED_LINE else 1):
        truths.append(_INJECTORS[kind](session, _View(session), rng))
    session.truths.extend(truths)
    return truths
