"""Event ids held compactly while a large log is verified.

An event id is a lowercase UUID (its shape is checked before it gets here),
so it packs losslessly into 16 bytes; a set of them is one bytes object
rather than a Python string each. Duplicated ids are found from 8-byte
hashes sorted in place a chunk at a time, so that finding them never holds
more than one chunk's worth of Python integers.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from array import array
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet

_PACKED = 16


def pack_ids(ids: Iterable[str]) -> bytes:
    """Lowercase UUIDs as 16 bytes each, in order."""
    return bytes.fromhex("".join(ids).replace("-", ""))


def _unpack(raw: bytes) -> str:
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class PackedIds(AbstractSet[str]):
    """A read-only set of event ids: packed UUIDs plus a few ordinary strings."""

    __slots__ = ("_others", "_packed")

    def __init__(self, packed: bytes | bytearray = b"", others: Iterable[str] = ()) -> None:
        self._packed = packed
        self._others = frozenset(others)

    def __contains__(self, item: object) -> bool:
        if item in self._others:
            return True
        if not isinstance(item, str) or len(item) != 36 or item != item.lower():
            return False
        try:
            key = pack_ids([item])
        except ValueError:
            return False
        start = self._packed.find(key)
        while start != -1 and start % _PACKED:
            start = self._packed.find(key, start + 1)
        return start != -1

    def __iter__(self) -> Iterator[str]:
        yield from self._others
        packed = self._packed
        for start in range(0, len(packed), _PACKED):
            yield _unpack(bytes(packed[start : start + _PACKED]))

    def __len__(self) -> int:
        return len(self._others) + len(self._packed) // _PACKED

    def __repr__(self) -> str:
        return f"PackedIds({sorted(self)!r})"


_CHUNK = 1 << 14


def repeated_hashes(hashes: array[int]) -> set[int]:
    """The values that occur more than once in `hashes` (which this sorts in place).

    Python can only sort lists of int objects (40 bytes each with the list's
    pointer), so the array is sorted a chunk at a time, then each range of
    values is gathered from every chunk (found by bisection) and sorted on
    its own: at most about two chunks of ints live at once, whatever the size.
    """
    count = len(hashes)
    for start in range(0, count, _CHUNK):
        hashes[start : start + _CHUNK] = array("q", sorted(hashes[start : start + _CHUNK]))
    lows = list(range(0, count, _CHUNK))  # where each chunk's unread values start
    highs = [min(low + _CHUNK, count) for low in lows]
    if len(lows) <= 1:
        return _adjacent_equal(list(hashes))
    width = (1 << 64) // len(lows)
    bounds = [-(1 << 63) + i * width for i in range(1, len(lows))]
    repeated: set[int] = set()
    for bound in [*bounds, None]:
        pieces = []
        for index, high in enumerate(highs):
            top = high if bound is None else bisect.bisect_left(hashes, bound, lows[index], high)
            pieces.append(hashes[lows[index] : top])
            lows[index] = top
        repeated |= _adjacent_equal(sorted(itertools.chain.from_iterable(pieces)))
    return repeated


def _adjacent_equal(ordered: list[int]) -> set[int]:
    same = map(operator.eq, ordered, itertools.islice(ordered, 1, None))
    return set(itertools.compress(ordered, same))
