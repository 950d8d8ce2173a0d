"""Break real transcripts on purpose, byte-exactly, and record the ground truth (test and
bench tooling: nothing in riff itself imports it).

The generator's injections (``synthetic_inject``) work on generated sessions
held as dicts; these work on the bytes of a real file, so every line that is
not broken stays exactly as Claude Code wrote it. Kinds:

- ``cut``: the row's ``parentUuid`` names a message that does not exist;
- ``null``: the row's ``parentUuid`` becomes ``null``;
- ``drop``: the row's line is removed (its children lose their parent);
- ``tear``: the row's line is cut short (it no longer parses; its children
  lose their parent);
- ``duplicate``: the row's line is written twice in a row.

For ``cut`` and ``null`` the true parent is the old one; for ``drop`` and
``tear`` the broken rows are the children, whose best parent is the lost
row's own parent (the nearest ancestor that still exists).
"""

from __future__ import annotations

import random
import re
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

BREAK_KINDS = ("cut", "null", "drop", "tear", "duplicate")
_PARENT_FIELD = re.compile(rb'"parentUuid"\s*:\s*(null|"[^"\\]*")')


@dataclass(frozen=True)
class Row:
    """What a break needs of one line of a real file."""

    index: int
    """0-based physical line."""
    uuid: str
    parent: str | None
    type: str
    is_compact_summary: bool
    category: str
    """The line type as the bench reports it (``user`` split into prompt / tool_result)."""
    is_sidechain: bool
    subtype: str | None
    logical_parent: str | None


@dataclass
class Break:
    """One injected break and what a perfect repair does about it."""

    kind: str
    row: Row
    broken_ids: tuple[str, ...]
    """Rows that now need a parent (the row itself, or a dropped row's children)."""
    true_parent: str | None
    """The parent a repair should give every row of ``broken_ids``."""


@dataclass
class BrokenFile:
    lines: list[bytes]
    """The broken file's lines, without newlines."""
    final_newline: bool
    breaks: list[Break] = field(default_factory=list)
    changed_lines: set[int] = field(default_factory=set)
    """0-based lines (of the broken file) the breaks changed or inserted."""

    def to_bytes(self) -> bytes:
        body = b"\n".join(self.lines)
        return body + b"\n" if self.final_newline else body


def split_lines(data: bytes) -> tuple[list[bytes], bool]:
    final_newline = data.endswith(b"\n")
    lines = data.split(b"\n")
    if final_newline:
        lines.pop()
    return lines, final_newline


def _category(obj: dict[str, object]) -> str:
    line_type = obj.get("type")
    message = obj.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if line_type == "user":
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            return "user:tool_result"
        return "user:meta" if obj.get("isMeta") else "user:prompt"
    if (
        line_type == "assistant"
        and isinstance(content, list)
        and any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)
    ):
        return "assistant:tool_use"
    return str(line_type)


def read_rows(lines: Sequence[bytes]) -> list[Row]:
    """Every parsable line with a uuid, in file order."""
    rows = []
    for i, raw in enumerate(lines):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("uuid"), str):
            continue
        parent = obj.get("parentUuid")
        logical = obj.get("logicalParentUuid")
        subtype = obj.get("subtype")
        rows.append(
            Row(
                i,
                obj["uuid"],
                parent if isinstance(parent, str) else None,
                str(obj.get("type")),
                obj.get("isCompactSummary") is True,
                _category(obj),
                obj.get("isSidechain") is True,
                subtype if isinstance(subtype, str) else None,
                logical if isinstance(logical, str) else None,
            )
        )
    return rows


def breakable_rows(rows: Sequence[Row]) -> list[Row]:
    """Rows whose parent link can be broken and whose true parent is in the file.

    Left out: roots (nothing to cut), rows whose parent is in another file,
    compaction boundaries and compaction summaries (a null parent on them is
    Claude Code's own shape, so a ``null`` break there cannot be told apart).
    """
    known = {r.uuid for r in rows}
    return [
        r
        for r in rows
        if r.parent is not None
        and r.parent in known
        and r.subtype != "compact_boundary"
        and not r.is_compact_summary
    ]


def set_parent(raw: bytes, new_parent: str | None) -> bytes:
    """The line with only its parentUuid value replaced (every other byte kept)."""
    value = b"null" if new_parent is None else orjson.dumps(new_parent)
    match = _PARENT_FIELD.search(raw)
    if match is None:
        raise ValueError("line has no parentUuid field")
    return raw[: match.start(1)] + value + raw[match.end(1) :]


def fresh_uuid(rng: random.Random) -> str:
    return str(uuid_module.UUID(int=rng.getrandbits(128), version=4))


def inject(
    data: bytes, kind: str, targets: Sequence[Row], rng: random.Random, rows: Sequence[Row]
) -> BrokenFile:
    """Break every row of ``targets`` with ``kind`` (targets must not be related)."""
    if kind not in BREAK_KINDS:
        raise ValueError(f"unknown break kind {kind!r}; choose one of {', '.join(BREAK_KINDS)}")
    lines, final_newline = split_lines(data)
    out = BrokenFile(list(lines), final_newline)
    children: dict[str, list[str]] = {}
    for r in rows:
        if r.parent is not None:
            children.setdefault(r.parent, []).append(r.uuid)
    removed: list[int] = []
    inserted: list[int] = []
    for row in targets:
        i = row.index
        if kind == "cut":
            out.lines[i] = set_parent(lines[i], fresh_uuid(rng))
            out.breaks.append(Break(kind, row, (row.uuid,), row.parent))
            out.changed_lines.add(i)
        elif kind == "null":
            out.lines[i] = set_parent(lines[i], None)
            out.breaks.append(Break(kind, row, (row.uuid,), row.parent))
            out.changed_lines.add(i)
        elif kind == "drop":
            removed.append(i)
            out.breaks.append(Break(kind, row, tuple(children.get(row.uuid, ())), row.parent))
        elif kind == "tear":
            raw = lines[i]
            out.lines[i] = raw[: rng.randint(max(1, len(raw) // 4), len(raw) - 2)]
            out.breaks.append(Break(kind, row, tuple(children.get(row.uuid, ())), row.parent))
            out.changed_lines.add(i)
        else:  # duplicate
            inserted.append(i)
            out.breaks.append(Break(kind, row, (), None))
    if removed or inserted:
        # Rebuild the line list once; changed-line indices shift with it.
        gone, twice = set(removed), set(inserted)
        new_lines: list[bytes] = []
        shifted: set[int] = set()
        for i, raw in enumerate(out.lines):
            if i in gone:
                continue
            if i in out.changed_lines:
                shifted.add(len(new_lines))
            new_lines.append(raw)
            if i in twice:
                shifted.add(len(new_lines))
                new_lines.append(raw)
        out.lines = new_lines
        out.changed_lines = shifted
    return out


def pick_targets(
    candidates: Sequence[Row], count: int, rng: random.Random, *, spacing: int = 4
) -> list[Row]:
    """Up to ``count`` rows, pairwise unrelated (no parent links between them) and
    at least ``spacing`` lines apart, so each break keeps its own ground truth."""
    pool = list(candidates)
    rng.shuffle(pool)
    chosen: list[Row] = []
    taken: set[str] = set()
    for row in pool:
        if len(chosen) == count:
            break
        if any(abs(row.index - c.index) < spacing for c in chosen):
            continue
        if row.uuid in taken or row.parent in taken:
            continue
        chosen.append(row)
        taken.update((row.uuid, *(x for x in (row.parent,) if x is not None)))
    # A row whose parent is another chosen row's child would still interact:
    # the spacing keeps that rare, and the parent/child check above excludes
    # the direct cases.
    return sorted(chosen, key=lambda r: r.index)
