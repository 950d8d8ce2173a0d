"""RFC 9162 §2.1.1 Merkle tree hashing: SHA-256 with 0x00 leaf and 0x01 node prefixes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than n (n > 1)."""
    if n < 2:
        raise ValueError(f"no power of two below {n}")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Iterable[bytes]) -> bytes:
    """The tree head of the given leaf hashes, in one pass and O(log n) memory."""
    from riff.tlog.compact import CompactRange

    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()
