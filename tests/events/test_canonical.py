"""The fast canonical serialisation is byte-identical to the RFC 8785 reference."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riff.events import RepairEvent, calculate_session_digest, canonical, event_digest
from riff.events.canonical import (
    canonical_payload_bytes,
    canonical_state_bytes,
    concatenated_payload_bytes,
    es_number,
    reference_canonical_bytes,
)
from riff.events.wire import (
    batch_shape_ok,
    canonical_wire_bytes,
    shape_problem,
    wire_decoder,
    wire_digest,
)
from riff.maps import Overlay
from tests.event_factories import sealed_events


@settings(max_examples=400)
@given(sealed_events())
def test_fast_event_bytes_equal_rfc8785(event: RepairEvent) -> None:
    payload = event.digest_payload()
    reference = reference_canonical_bytes(payload)
    assert canonical_payload_bytes(payload) == reference
    assert concatenated_payload_bytes(payload) == reference
    assert event.event_digest == hashlib.sha256(reference).hexdigest() == event_digest(event)


@settings(max_examples=400)
@given(sealed_events(), st.sampled_from([None, True, False]))
def test_wire_bytes_equal_rfc8785(event: RepairEvent, is_reverted: bool | None) -> None:
    row = event.to_dict()
    if is_reverted is not None:
        row["is_reverted"] = is_reverted
    decoded = wire_decoder.decode(orjson.dumps(row))
    assert canonical_wire_bytes(decoded) == reference_canonical_bytes(event.digest_payload())
    assert wire_digest(decoded) == event.event_digest


@settings(max_examples=500)
@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53) + 1, 2**53 - 1))
def test_es_number_matches_reference(value: float) -> None:
    assert es_number(value) == reference_canonical_bytes(value)


def _text(**kw: int) -> st.SearchStrategy[str]:
    """Text JSON can hold (no lone surrogates)."""
    return st.text(**kw).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))


_SESSION_IDS = _text(min_size=1, max_size=10)


@settings(max_examples=200)
@given(
    _SESSION_IDS,
    st.integers(0, 10**6),
    st.dictionaries(
        _text(max_size=12),
        st.none() | _text(max_size=12),
        max_size=8,
    ),
)
def test_state_bytes_equal_rfc8785(
    session_id: str, through_seq: int, parents: dict[str, str | None]
) -> None:
    state = {"session_id": session_id, "through_seq": through_seq, "parents": parents}
    assert canonical_state_bytes(session_id, through_seq, parents) == reference_canonical_bytes(
        state
    )


def test_materialization_digest_is_order_independent() -> None:
    a = calculate_session_digest("s", 3, {"b": "a", "a": None, "c": "b"})
    b = calculate_session_digest("s", 3, {"a": None, "c": "b", "b": "a"})
    assert a == b
    assert a != calculate_session_digest("s", 4, {"a": None, "c": "b", "b": "a"})
    assert a != calculate_session_digest("s", 3, {"a": None, "c": "a", "b": "a"})


@settings(max_examples=200)
@given(
    _SESSION_IDS,
    st.integers(0, 10**6),
    st.dictionaries(
        st.text(st.characters(max_codepoint=0x7F), max_size=12) | _text(max_size=3),
        st.none() | st.text(alphabet='ab"\\\n\u00e9', max_size=4),
        max_size=40,
    ),
    st.dictionaries(st.text(alphabet="abc", max_size=3), st.none() | st.just("a"), max_size=4),
)
def test_a_digest_in_blocks_is_the_digest_of_the_whole_text(
    session_id: str,
    through_seq: int,
    parents: dict[str, str | None],
    changes: dict[str, str | None],
) -> None:
    """Blocks of 3 entries (any map from 0 entries on): the same digest as hashing
    the canonical bytes at once, for a dict and for repairs over it; an id out of
    ASCII takes the reference path whole."""
    whole = {**parents, **changes}
    expected = hashlib.sha256(
        reference_canonical_bytes(
            {"session_id": session_id, "through_seq": through_seq, "parents": whole}
        )
    ).hexdigest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(canonical, "STREAM_DIGEST_FROM", 0)
        patch.setattr(canonical, "_DIGEST_BLOCK", 3)
        assert calculate_session_digest(session_id, through_seq, whole) == expected
        assert calculate_session_digest(session_id, through_seq, Overlay(parents, changes)) == (
            expected
        )


@settings(max_examples=200)
@given(
    st.lists(sealed_events(), min_size=1, max_size=5),
    st.sampled_from(["event_id", "message_id", "prev_digest", "event_digest", "timestamp"]),
    st.integers(0, 63),
    st.sampled_from(["Z", "-", "g", " ", "\u0662", "A"]),
    st.booleans(),
)
def test_batch_shape_check_agrees_with_the_per_event_check(
    events: list[RepairEvent], field: str, position: int, char: str, corrupt: bool
) -> None:
    wire = [wire_decoder.decode(orjson.dumps(e.to_dict())) for e in events]
    if corrupt:
        value = getattr(wire[0], field)
        i = position % len(value)
        setattr(wire[0], field, value[:i] + char + value[i + 1 :])
    expected = all(shape_problem(w) is None for w in wire)
    assert batch_shape_ok(wire) == expected
