"""Inclusion and consistency proofs, RFC 9162 §2.1.3 and §2.1.4.

Generation is split in two so that a store can answer it with O(log n) reads:
`inclusion_ranges` / `consistency_ranges` name the leaf ranges whose tree
hashes make up the proof (each range is balanced, so its hash is the fold of
the aligned subtrees `decompose` lists), and `assemble` turns the stored hashes
of those subtrees into the proof. Verification follows the RFC's algorithms
step by step and needs nothing but hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from riff.tlog.compact import NodeId, decompose, fold_nodes, range_is_balanced
from riff.tlog.errors import ProofError
from riff.tlog.hashing import HASH_SIZE, largest_power_of_two_below, node_hash

Range = tuple[int, int]  # leaves [start, end)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges of PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf level first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges of PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1), deepest first."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    lo, hi = 0, new_size
    complete_subtree = True  # the RFC's b: the old tree is still a complete subtree
    while True:
        if old_size == hi:
            if not complete_subtree:
                ranges.append((lo, hi))
            break
        k = largest_power_of_two_below(hi - lo)
        if old_size - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            complete_subtree = False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[Range]) -> list[NodeId]:
    """Every aligned subtree whose hash the ranges need (each once)."""
    needed: dict[NodeId, None] = {}
    for start, end in ranges:
        if not range_is_balanced(start, end):
            raise ProofError(f"range [{start}, {end}) is not a subtree of an RFC 9162 tree")
        for node in decompose(start, end):
            needed[node] = None
    return list(needed)


def assemble(ranges: Sequence[Range], hashes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The proof: the hash of each range, folded from its aligned subtrees."""
    return [fold_nodes([hashes[node] for node in decompose(start, end)]) for start, end in ranges]


NodeLookup = Callable[[list[NodeId]], Mapping[NodeId, bytes]]


def build_proof(ranges: Sequence[Range], lookup: NodeLookup) -> list[bytes]:
    """A proof from a source of aligned-subtree hashes, asked once for all it needs."""
    return assemble(ranges, lookup(nodes_for(ranges)))


# ------------------------------------------------------------ verification


def _check_hashes(proof: Sequence[bytes], *others: bytes) -> None:
    for value in (*proof, *others):
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash has {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `proof` leads to from `leaf` at `index`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes(proof, leaf)
    fn, sn = index, size - 1
    node = leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return node


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """ProofError unless `proof` shows `leaf` at `index` in the tree of `size` with `root`."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the tree's root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: ProofError unless (new_size, new_root) extends (old_size, old_root)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {new_size} cannot extend one of size {old_size}")
    _check_hashes(proof, old_root, new_root)
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the old root (size {old_size})")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the new root (size {new_size})")
