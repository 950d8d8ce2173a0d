"""Compact event-id containers used by `riff verify FILE` on large exports."""

from __future__ import annotations

import random
import uuid
from array import array

from hypothesis import given
from hypothesis import strategies as st

from riff.events import event_ids
from riff.events.event_ids import PackedIds, pack_ids, repeated_hashes


def test_repeated_hashes_across_chunks_in_bounded_pieces() -> None:
    rng = random.Random(5)
    values = [rng.randrange(-(1 << 63), 1 << 63) for _ in range(10_000)]
    repeats = {values[3], values[9_000], values[4_500]}
    values += [values[3], values[9_000], values[9_000], values[4_500]]
    rng.shuffle(values)
    saved = event_ids._CHUNK
    event_ids._CHUNK = 1_000  # many chunks, many ranges
    try:
        assert repeated_hashes(array("q", values)) == repeats
    finally:
        event_ids._CHUNK = saved


@given(st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=300), st.integers(1, 40))
def test_repeated_hashes_is_the_set_of_values_seen_twice(values: list[int], chunk: int) -> None:
    expected = {v for v in values if values.count(v) > 1}
    saved = event_ids._CHUNK
    event_ids._CHUNK = chunk
    try:
        assert repeated_hashes(array("q", values)) == expected
    finally:
        event_ids._CHUNK = saved


def test_packed_ids_behave_as_a_set_of_strings() -> None:
    ids = [str(uuid.UUID(int=n * 0x10001 + 7)) for n in range(50)]
    others = {"s-a-not-a-uuid", str(uuid.UUID(int=999))}
    packed = PackedIds(pack_ids(ids), others)
    assert len(packed) == 52
    assert set(packed) == set(ids) | others
    assert packed == set(ids) | others and set(ids) | others == packed
    assert all(i in packed for i in ids) and "s-a-not-a-uuid" in packed
    assert str(uuid.UUID(int=1234567)) not in packed
    assert ids[3].upper() not in packed and 42 not in packed
    # A match must start on a 16-byte boundary: the tail of one id and the head
    # of the next are not an id.
    tail_and_head = str(uuid.UUID(bytes=pack_ids(ids[:2])[8:24]))
    assert tail_and_head not in packed
