"""The event as it appears in an export, decoded and checked by msgspec in C.

Fields are declared in RFC 8785 key order, so `msgspec.json.encode` of a
decoded event writes its keys in canonical order; `canonical_wire_bytes`
then only removes `event_digest` (the first key, fixed width) and writes the
score the ECMAScript way. Property tests hold it equal to the reference.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated, Literal

import msgspec

from riff.events.canonical import es_number
from riff.events.model import EVENT_FORMAT, GENESIS_DIGEST

_UUID7 = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TIMESTAMP = (
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z"
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


class WireEvent(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # RFC 8785 order (sorted keys), except the derived `is_reverted`, which
    # goes last so that it can be cut off the end. Do not reorder.
    event_digest: str
    event_id: str
    format: Literal["riff.repair-event/1"]
    kind: Literal["repair", "revert"]
    message_id: str
    new_parent_uuid: str | None
    old_parent_uuid: str | None
    operator: Text
    prev_digest: str
    reason: str
    reverts_event_id: str | None
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    session_id: Text
    similarity_score: Score | None
    timestamp: str
    validation_passed: bool
    is_reverted: bool | None = None  # derived, present in exports only


_PREFIX_LEN = len(b'{"event_digest":"') + 64 + len(b'",')
_SCORE_KEY = b'"similarity_score":'
_TAIL_LEN = {None: 1, False: len(b',"is_reverted":false}'), True: len(b',"is_reverted":true}')}
_DAYS_OK: dict[str, bool] = {}
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


def semantic_problem(event: WireEvent) -> tuple[str, str] | None:
    """(field, problem) for the rules msgspec's types cannot say, or None."""
    shape = shape_problem(event)
    if shape is not None:
        return shape
    if not event.operator.strip():
        return "operator", "must not be blank"
    if not event.session_id.strip():
        return "session_id", "must not be blank"
    day = event.timestamp[:10]
    ok = _DAYS_OK.get(day)
    if ok is None:
        try:
            date.fromisoformat(day)
            ok = True
        except ValueError:
            ok = False
        _DAYS_OK[day] = ok
    if not ok:
        return "timestamp", "is not a real date"
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
