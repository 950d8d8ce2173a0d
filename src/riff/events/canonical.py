"""Canonical bytes (RFC 8785, JCS) and digests of events and session states.

`rfc8785` is the reference implementation. Events have a fixed set of keys
whose values are strings, an integer, a bool, null or one number in [0, 1],
so a hand-built serialisation is much faster: the keys' sorted order is known
in advance and orjson already escapes strings exactly as JCS requires
(verified over the whole event space by property tests against `rfc8785`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from itertools import islice
from typing import Any

import orjson
import rfc8785

from riff.events.model import DIGESTED_FIELDS, DIGESTED_FIELDS_V2, EVENT_FORMAT_V2, RepairEvent
from riff.maps import values_for

# JCS sorts keys by UTF-16 code units; for these ASCII names that is plain sort.
_SORTED_FIELDS: tuple[str, ...] = tuple(sorted(DIGESTED_FIELDS))
_KEY_PREFIXES: tuple[bytes, ...] = tuple(
    (b"{" if i == 0 else b",") + orjson.dumps(name) + b":" for i, name in enumerate(_SORTED_FIELDS)
)


def es_number(value: float | int) -> bytes:
    """ECMAScript Number.prototype.toString, which RFC 8785 prescribes for numbers."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a JSON number")
    if isinstance(value, int):
        return str(value).encode()
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities have no JSON form")
    if value == 0:
        return b"0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires.
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    significant = all_digits.lstrip("0")
    # ECMAScript's n: value = 0.<digits> * 10**n
    point = len(whole) - (len(all_digits) - len(significant)) + exponent
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * (-point) + digits
    else:
        exp = point - 1
        exp_sign = "+" if exp >= 0 else "-"
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{head}e{exp_sign}{abs(exp)}"
    return (sign + text).encode()


def _value_bytes(value: Any) -> bytes:
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, str):
        return orjson.dumps(value)
    return es_number(value)


_SCORE_KEY = b'"similarity_score":'


def canonical_payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """JCS bytes of an event payload (the digested fields; other keys are ignored).

    One orjson call with sorted keys gives JCS bytes for every value but a
    non-integral float, which only `similarity_score` can be: it is written as
    0 and then spliced with its ECMAScript form. The key cannot occur inside a
    string value because strings cannot hold an unescaped quote.

    Format 2 (rare, with a nested `edit` object) takes the RFC 8785
    reference implementation.
    """
    if payload["format"] == EVENT_FORMAT_V2:
        return reference_canonical_bytes({name: payload[name] for name in DIGESTED_FIELDS_V2})
    fields = {name: payload[name] for name in _SORTED_FIELDS}
    score = fields["similarity_score"]
    if score is None or isinstance(score, int):
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    fields["similarity_score"] = 0
    text = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return text.replace(_SCORE_KEY + b"0", _SCORE_KEY + es_number(score), 1)


def concatenated_payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """Field-by-field JCS bytes; a second, independent fast path kept for the tests."""
    return (
        b"".join(
            prefix + _value_bytes(payload[name])
            for prefix, name in zip(_KEY_PREFIXES, _SORTED_FIELDS, strict=True)
        )
        + b"}"
    )


def reference_canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 reference implementation, for anything JSON."""
    return bytes(rfc8785.dumps(value))


def compute_event_digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form of every field but `event_digest`."""
    return hashlib.sha256(canonical_payload_bytes(payload)).hexdigest()


def event_digest(event: RepairEvent) -> str:
    """Recompute an event's digest from its fields (not the stored value)."""
    return compute_event_digest(event.digest_payload())


def canonical_state_bytes(
    session_id: str, through_seq: int, parents: Mapping[str, str | None]
) -> bytes:
    """JCS bytes of `{"session_id", "through_seq", "parents"}`.

    With ASCII message ids (what Claude Code writes), code-point order equals
    JCS's UTF-16 order, so orjson with sorted keys yields the JCS bytes; other
    ids take the reference path. Property tests hold the two paths equal.
    """
    as_dict = (
        parents if isinstance(parents, dict) else dict(zip(parents, parents.values(), strict=True))
    )
    state = {"session_id": session_id, "through_seq": through_seq, "parents": as_dict}
    if _ascii_ids(session_id, parents):
        return orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    return reference_canonical_bytes(state)


def calculate_session_digest(
    session_id: str, through_seq: int, parents: Mapping[str, str | None]
) -> str:
    """The spec's `materialization_digest` of a session's effective parent map.

    A big map (`STREAM_DIGEST_FROM` entries or more) is hashed in blocks of its
    sorted keys: its whole canonical text and a dict of it are never held (for a
    million messages, 80 MB and 40 MB; the blocks take twice the time).
    """
    if len(parents) < STREAM_DIGEST_FROM or not _ascii_ids(session_id, parents):
        return hashlib.sha256(canonical_state_bytes(session_id, through_seq, parents)).hexdigest()
    digest = hashlib.sha256(b'{"parents":{')
    keys = sorted(parents)
    values = values_for(parents, keys)  # one lazy pass, read a block at a time
    for start in range(0, len(keys), _DIGEST_BLOCK):
        block = keys[start : start + _DIGEST_BLOCK]
        text = orjson.dumps(dict(zip(block, islice(values, len(block)), strict=True)))
        if start:
            digest.update(b",")
        digest.update(text[1:-1])  # the entries without the object's braces
    digest.update(
        b'},"session_id":%s,"through_seq":%s}'
        % (orjson.dumps(session_id), orjson.dumps(through_seq))
    )
    return digest.hexdigest()


STREAM_DIGEST_FROM = 1 << 17
"""Entries from which a parent map is digested in blocks (its text would be about 11 MB)."""
_DIGEST_BLOCK = 1 << 14
"""Entries hashed at a time by calculate_session_digest's blocks."""


def _ascii_ids(session_id: str, parents: Mapping[str, str | None]) -> bool:
    """Whether sorting by code point is JCS's order (UTF-16) for this state."""
    return session_id.isascii() and all(key.isascii() for key in parents)
