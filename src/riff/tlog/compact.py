"""Compact ranges: the O(log n) frontier of a tree, and aligned subtrees.

An *aligned subtree* (level, index) covers the leaves
[index * 2**level, (index + 1) * 2**level). Every perfect subtree of an RFC 9162
tree is aligned, so a store that keeps, for each leaf, the hashes of the aligned
subtrees that end at it (`CompactRange.append` returns them) can answer any
tree head or proof with O(log n) point reads (see `decompose`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from riff.tlog.hashing import EMPTY_ROOT, node_hash

NodeId = tuple[int, int]  # (level, index)


@dataclass(slots=True)
class CompactRange:
    """The roots of the aligned subtrees that make up leaves [0, size), largest first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise ValueError(
                f"a frontier of size {self.size} has {self.size.bit_count()} hashes, "
                f"got {len(self.hashes)}"
            )

    def append(self, leaf: bytes) -> list[bytes]:
        """Add one leaf hash; return the subtrees it completes, level 0 (the leaf) upwards."""
        completed = [leaf]
        node = leaf
        size = self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            completed.append(node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> list[list[bytes]]:
        return [self.append(leaf) for leaf in leaves]

    def root(self) -> bytes:
        """The tree head of leaves [0, size): the frontier folded right to left."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def copy(self) -> CompactRange:
        return CompactRange(self.size, list(self.hashes))


def completed_levels(index: int) -> int:
    """How many aligned subtrees end at leaf `index` (levels 0 .. n-1)."""
    return ((index + 1) & -(index + 1)).bit_length()


def node_end_leaf(node: NodeId) -> int:
    """The last leaf of an aligned subtree: where its hash is stored."""
    level, index = node
    return ((index + 1) << level) - 1


def decompose(start: int, end: int) -> list[NodeId]:
    """The aligned subtrees that cover [start, end), left to right, largest possible first."""
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_is_balanced(start: int, end: int) -> bool:
    """Whether MTH(D[start:end]) equals the right-to-left fold of `decompose(start, end)`.

    True for every range an RFC 9162 proof or tree head names: the start is a
    multiple of the smallest power of two that is at least the range's length.
    """
    if end <= start:
        return False
    span = 1 << (end - start - 1).bit_length()
    return start % span == 0


def fold_nodes(hashes: list[bytes]) -> bytes:
    """Fold subtree hashes (left to right) into one, right to left."""
    if not hashes:
        return EMPTY_ROOT
    node = hashes[-1]
    for left in reversed(hashes[:-1]):
        node = node_hash(left, node)
    return node


def frontier_nodes(size: int) -> list[NodeId]:
    """The aligned subtrees of the frontier of a tree of `size` leaves."""
    return decompose(0, size)
