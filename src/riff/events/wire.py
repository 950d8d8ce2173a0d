"""The event as it appears in an export, decoded and checked by msgspec in C.

Fields are declared in RFC 8785 key order, so `msgspec.json.encode` of a
decoded event writes its keys in canonical order; `canonical_wire_bytes`
then only removes `event_digest` (the first key, fixed width) and writes the
score the ECMAScript way. Property tests hold it equal to the reference.
"""

from __future__ import annotations

import codecs
import collections
import functools
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from hashlib import sha256
from itertools import repeat
from typing import Annotated, Literal

import msgspec

from riff.events.canonical import es_number
from riff.events.model import EVENT_FORMAT, GENESIS_DIGEST

_UUID7 = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TIMESTAMP = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z"
)
# One regex over the fixed-shape fields joined by spaces: much cheaper than a
# pattern per field. Group order matches `_shape_fields` below.
_SHAPES = re.compile(
    rf"({_UUID7}) ({_UUID}) ({_UUID}|-) ({_UUID}|-) ({_UUID7}|-) ([0-9a-f]{{64}}) "
    rf"([0-9a-f]{{64}}) ({_TIMESTAMP})"
)
_SHAPE_NAMES = (
    "event_id",
    "message_id",
    "new_parent_uuid",
    "old_parent_uuid",
    "reverts_event_id",
    "prev_digest",
    "event_digest",
    "timestamp",
)

Text = Annotated[str, msgspec.Meta(min_length=1)]
Score = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
# Fixed widths are checked by msgspec in C; the characters by `batch_shape_ok`.
Uuid = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
Hex64 = Annotated[str, msgspec.Meta(min_length=64, max_length=64)]
Stamp = Annotated[str, msgspec.Meta(min_length=27, max_length=27)]


class WireEvent(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # RFC 8785 order (sorted keys), except the derived `is_reverted`, which
    # goes last so that it can be cut off the end. Do not reorder.
    event_digest: Hex64
    event_id: Uuid
    format: Literal["riff.repair-event/1"]
    kind: Literal["repair", "revert"]
    message_id: Uuid
    new_parent_uuid: Uuid | None
    old_parent_uuid: Uuid | None
    operator: Text
    prev_digest: Hex64
    reason: str
    reverts_event_id: Uuid | None
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    session_id: Text
    similarity_score: Score | None
    timestamp: Stamp
    validation_passed: bool
    is_reverted: bool | None = None  # derived, present in exports only


_PREFIX_LEN = len(b'{"event_digest":"') + 64 + len(b'",')
_SCORE_KEY = b'"similarity_score":'
_TAIL_LEN = {None: 1, False: len(b',"is_reverted":false}'), True: len(b',"is_reverted":true}')}
DAYS_OK: set[str] = set()  # "YYYY-MM-DD" prefixes already known to be real dates
_encode = msgspec.json.Encoder().encode


@functools.lru_cache(maxsize=65536)
def _score_bytes(score: float) -> tuple[bytes, bytes]:
    return _encode(score), es_number(score)


def canonical_wire_bytes(event: WireEvent) -> bytes:
    """JCS bytes of every field but `event_digest` (and the derived `is_reverted`)."""
    text = _encode(event)
    text = b"{" + text[_PREFIX_LEN : -_TAIL_LEN[event.is_reverted]] + b"}"
    score = event.similarity_score
    # msgspec writes the shortest round-trip digits like ECMAScript; only
    # integral values (0.0, 1.0) and exponent forms can be spelt differently.
    if score is not None and not 1e-5 <= score < 1.0:
        written, canonical = _score_bytes(score)
        if written != canonical:
            text = text.replace(_SCORE_KEY + written, _SCORE_KEY + canonical, 1)
    return text


def wire_digest(event: WireEvent) -> str:
    """`event_digest` recomputed: SHA-256 of `canonical_wire_bytes`, without copying them."""
    score = event.similarity_score
    if score is not None and not 1e-5 <= score < 1.0:
        return sha256(canonical_wire_bytes(event)).hexdigest()
    text = _encode(event)
    digest = sha256(b"{")
    digest.update(memoryview(text)[_PREFIX_LEN : len(text) - _TAIL_LEN[event.is_reverted]])
    digest.update(b"}")
    return digest.hexdigest()


class BlankableWireEvent(
    WireEvent, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """A `WireEvent` whose digest and derived status can be blanked for hashing.

    Overriding `event_digest` with a default moves it behind `is_reverted`;
    with both blank (their defaults, hence omitted) msgspec writes exactly the
    canonical bytes, with no slicing or copying. A line without
    `event_digest` decodes with it blank: callers refuse that. Its fields
    are strings, numbers and literals, so it needs no cycle collection.
    """

    event_digest: Hex64 = ""


blankable_decoder = msgspec.json.Decoder(BlankableWireEvent)
_SHA256 = sha256()
_get_score = operator.attrgetter("similarity_score")
_consume: Callable[[Iterable[object]], None] = collections.deque[object](maxlen=0).extend
# Beyond the canonical bytes, the shortest line of an event in an export
# holds its digest pair, its `is_reverted` pair if any, and a newline.
_LINE_EXTRA = {None: 83, False: 103, True: 102}


def wire_digests(
    events: list[BlankableWireEvent], digests: list[str], claims: list[bool | None]
) -> tuple[list[str], list[int] | None]:
    """`wire_digest` of every event of a batch, in C loops; and the shortest line of each.

    `digests` and `claims` are the events' `event_digest` and `is_reverted`
    (blanked while hashing, then put back). The shortest lengths (newline
    included) are None when a score could be spelt shorter than msgspec
    writes it (integral, or below 0.01, as `1` or `1e-3`): nothing is then
    known about the lines' lengths.
    """
    scores = list(map(_get_score, events))
    present = list(filter(None, scores))
    # Zeros are falsy, hence missing from `present` (like None): count them apart.
    zeros = len(events) - len(present) - scores.count(None)
    low = min(present, default=0.5)
    high = max(present, default=0.5)
    _consume(map(setattr, events, repeat("event_digest"), repeat("")))
    _consume(map(setattr, events, repeat("is_reverted"), repeat(None)))
    try:
        texts = list(map(_encode, events))
        if zeros or low < 1e-5 or high >= 1.0:
            texts = [_fix_score(text, score) for text, score in zip(texts, scores, strict=True)]
        actual: list[str] = []
        add = actual.append
        for text in texts:  # copying a ready hash skips OpenSSL's lookup of sha256 by name
            digest = _SHA256.copy()
            digest.update(text)
            add(digest.hexdigest())
    finally:
        _consume(map(setattr, events, repeat("event_digest"), digests))
        _consume(map(setattr, events, repeat("is_reverted"), claims))
    if zeros or low < 0.01 or high >= 1.0:
        return actual, None
    return actual, list(map(operator.add, map(len, texts), map(_LINE_EXTRA.__getitem__, claims)))


class HugeReasonEvent(
    BlankableWireEvent, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """An event whose reason stays where it lies in its line (msgspec.Raw: no copy).

    For a line too large to hold twice: the reason's bytes are hashed in place.
    """

    reason: msgspec.Raw  # type: ignore[assignment]


huge_reason_decoder = msgspec.json.Decoder(HugeReasonEvent)
_REASON_KEY = b'"reason":'
_TEXT_CHUNK = 1 << 20
# Every byte but the C0 controls, which JSON strings hold only escaped.
_NOT_CONTROL = bytes(range(0x20, 0x100))


def huge_reason_digest(event: HugeReasonEvent, line: bytes) -> tuple[str, int] | None:
    """(`wire_digest`, shortest line) of an event read from `line`, its reason hashed in place.

    None when the reason is not spelt canonically in the line (an escape, or
    spaces around it): the caller then decodes it in full.
    """
    raw = memoryview(event.reason)
    start = line.find(_REASON_KEY) + len(_REASON_KEY)
    end = start + len(raw)
    if line[start : start + 1] != b'"' or not _plain_text(line, start + 1, end - 1):
        return None
    digest, claim, score = event.event_digest, event.is_reverted, event.similarity_score
    event.event_digest, event.is_reverted = "", None
    event.reason = msgspec.Raw(b'""')
    try:
        text = _fix_score(_encode(event), score)
    finally:
        event.event_digest, event.is_reverted = digest, claim
        event.reason = msgspec.Raw(raw)
    # msgspec wrote the overridden field last: put the reason in its sorted place.
    body = text[: -len(b',"reason":""}')]
    cut = body.index(b',"reverts_event_id":')
    hashed = sha256(body[:cut])
    hashed.update(b"," + _REASON_KEY)
    hashed.update(raw)
    hashed.update(body[cut:])
    hashed.update(b"}")
    return hashed.hexdigest(), len(text) - 2 + len(raw) + _LINE_EXTRA[claim]


def _plain_text(line: bytes, start: int, end: int) -> bool:
    """Whether line[start:end] is UTF-8 text a JSON string holds as is (no escape, no control).

    Read a mebibyte at a time, so that a huge text is never copied whole.
    """
    if line.find(b"\\", start, end) != -1:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for at in range(start, end, _TEXT_CHUNK):
            chunk = line[at : min(at + _TEXT_CHUNK, end)]
            if chunk.translate(None, _NOT_CONTROL):
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _fix_score(text: bytes, score: float | None) -> bytes:
    """Canonical bytes: msgspec writes integral scores as 1.0, JCS as 1 (see above)."""
    if score is None or 1e-5 <= score < 1.0:
        return text
    written, canonical = _score_bytes(score)
    if written == canonical:
        return text
    return text.replace(_SCORE_KEY + written, _SCORE_KEY + canonical, 1)


def shape_problem(event: WireEvent) -> tuple[str, str] | None:
    """(field, problem) for the first id, digest or timestamp not of the spec's shape."""
    joined = (
        f"{event.event_id} {event.message_id} {event.new_parent_uuid or '-'} "
        f"{event.old_parent_uuid or '-'} {event.reverts_event_id or '-'} {event.prev_digest} "
        f"{event.event_digest} {event.timestamp}"
    )
    if _SHAPES.fullmatch(joined):
        return None
    for name in _SHAPE_NAMES:
        value = getattr(event, name)
        if value is None:
            continue
        single = {
            "event_id": _UUID7,
            "reverts_event_id": _UUID7,
            "prev_digest": "[0-9a-f]{64}",
            "event_digest": "[0-9a-f]{64}",
            "timestamp": _TIMESTAMP,
        }.get(name, _UUID)
        if not re.fullmatch(single, value):
            return name, f"is not of the spec's shape (got {value!r})"
    return "event", "has an id, digest or timestamp of the wrong shape"


# Batch checks: every value of a field, concatenated, checked by C loops
# (bytes.translate, slicing, one regex for timestamps) instead of a regex per
# value. Widths are fixed (msgspec checked them), so positions are known.
_LOWER_HEX = b"0123456789abcdef"
_ANY_HEX = _LOWER_HEX + b"ABCDEF"
_TIMESTAMPS = re.compile(f"(?:{_TIMESTAMP})*")
_GETTERS = {
    name: operator.attrgetter(name)
    for name in (
        "event_id",
        "reverts_event_id",
        "message_id",
        "new_parent_uuid",
        "old_parent_uuid",
        "prev_digest",
        "event_digest",
        "timestamp",
    )
}


def _only(joined: str, allowed: bytes) -> bool:
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        return False
    return not raw.translate(None, allowed)


def _uuids_ok(values: list[str], *, version7: bool) -> bool:
    joined = "".join(values)
    count = len(values)
    if not _only(joined, (_LOWER_HEX if version7 else _ANY_HEX) + b"-"):
        return False
    if any(joined[pos::36] != "-" * count for pos in (8, 13, 18, 23)):
        return False
    if joined.count("-") != 4 * count:
        return False
    return not version7 or (joined[14::36] == "7" * count and not joined[19::36].strip("89ab"))


def _values(name: str, events: Sequence[WireEvent]) -> list[str]:
    return list(filter(None, map(_GETTERS[name], events)))


def batch_shape_ok(events: Sequence[WireEvent]) -> bool:
    """Whether every id, digest and timestamp of `events` has the spec's shape."""
    return ids_shape_ok(
        _values("event_id", events) + _values("reverts_event_id", events),
        _values("message_id", events)
        + _values("new_parent_uuid", events)
        + _values("old_parent_uuid", events),
        "".join(_values("timestamp", events)),
    ) and digests_shape_ok(_values("prev_digest", events) + _values("event_digest", events))


def ids_shape_ok(version7: list[str], uuids: list[str], joined_timestamps: str) -> bool:
    """Whether event ids (`version7`), other ids and timestamps have the spec's shape."""
    return (
        _uuids_ok(version7, version7=True)
        and _uuids_ok(uuids, version7=False)
        and _TIMESTAMPS.fullmatch(joined_timestamps) is not None
    )


def digests_shape_ok(digests: list[str]) -> bool:
    """Whether every digest is 64 lowercase hex digits (msgspec checked the width)."""
    return _only("".join(digests), _LOWER_HEX)


def day_is_real(day: str) -> bool:
    """Whether "YYYY-MM-DD" is a real date; remembered, since logs reuse few days."""
    if day in DAYS_OK:
        return True
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    DAYS_OK.add(day)
    return True


def semantic_problem(event: WireEvent, *, shapes_checked: bool = False) -> tuple[str, str] | None:
    """(field, problem) for the rules msgspec's types cannot say, or None."""
    if not shapes_checked:
        shape = shape_problem(event)
        if shape is not None:
            return shape
    if not event.operator.strip():
        return "operator", "must not be blank"
    if not event.session_id.strip():
        return "session_id", "must not be blank"
    if not day_is_real(event.timestamp[:10]):
        return "timestamp", f"is not a real date (got {event.timestamp!r})"
    if event.kind == "revert":
        if event.reverts_event_id is None:
            return "reverts_event_id", "a revert must name the event it undoes"
        if event.reverts_event_id == event.event_id:
            return "reverts_event_id", "an event cannot revert itself"
    elif event.reverts_event_id is not None:
        return "reverts_event_id", "must be null for a repair"
    if event.seq == 1 and event.prev_digest != GENESIS_DIGEST:
        return "prev_digest", "must be 64 zeros at seq 1"
    if event.format != EVENT_FORMAT:  # pragma: no cover - Literal guards it
        return "format", f"must be {EVENT_FORMAT!r}"
    return None


wire_decoder = msgspec.json.Decoder(WireEvent)
