"""Property tests: the tree, its proofs and the proof files against the RFC's own definitions."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from riff.tlog import (
    Checkpoint,
    CompactRange,
    MemoryTree,
    NoteSigner,
    ProofError,
    TlogError,
    event_leaf_hash,
    leaf_hash,
    node_hash,
    sign_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from riff.tlog.proof_file import (
    ConsistencyProofFile,
    InclusionProofFile,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from tests.event_factories import LogBuilder, message_uuid


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: tuple[bytes, ...]) -> bytes:
    """RFC 9162 §2.1.1 MTH, recursively, straight from its definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _k(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: tuple[bytes, ...]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH."""
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: tuple[bytes, ...], complete: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF."""
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


@lru_cache(maxsize=8)
def tree_of(n: int) -> tuple[tuple[bytes, ...], MemoryTree]:
    data = tuple(i.to_bytes(4, "big") for i in range(n))
    return data, MemoryTree(leaf_hash(d) for d in data)


sizes = st.integers(min_value=1, max_value=70)


@given(n=sizes)
def test_tree_head_matches_the_definition_at_every_size(n: int) -> None:
    data, tree = tree_of(70)
    assert tree.root(n) == mth(data[:n])
    frontier = CompactRange()
    for d in data[:n]:
        frontier.append(leaf_hash(d))
    assert frontier.root() == mth(data[:n])


@given(n=sizes, data=st.data())
def test_inclusion_proofs_match_the_definition_and_verify(n: int, data: st.DataObject) -> None:
    leaves, tree = tree_of(70)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = tree.inclusion_proof(index, n)
    assert proof == path(index, leaves[:n])
    verify_inclusion(index, n, leaf_hash(leaves[index]), proof, tree.root(n))


@given(new=sizes, data=st.data())
def test_consistency_proofs_match_the_definition_and_verify(new: int, data: st.DataObject) -> None:
    leaves, tree = tree_of(70)
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = tree.consistency_proof(old, new)
    assert proof == ([] if old == new else subproof(old, leaves[:new], True))
    verify_consistency(old, new, tree.root(old), tree.root(new), proof)


@given(n=st.integers(min_value=2, max_value=70), data=st.data())
def test_any_flipped_bit_of_an_inclusion_proof_fails(n: int, data: st.DataObject) -> None:
    leaves, tree = tree_of(70)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = tree.inclusion_proof(index, n)
    which = data.draw(st.integers(min_value=0, max_value=len(proof)))  # len = the leaf
    bit = data.draw(st.integers(min_value=0, max_value=255))
    leaf = leaf_hash(leaves[index])
    target = bytearray(leaf if which == len(proof) else proof[which])
    target[bit // 8] ^= 1 << (bit % 8)
    if which == len(proof):
        leaf = bytes(target)
    else:
        proof[which] = bytes(target)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, leaf, proof, tree.root(n))


@given(new=st.integers(min_value=2, max_value=70), data=st.data())
def test_any_flipped_bit_of_a_consistency_proof_fails(new: int, data: st.DataObject) -> None:
    _, tree = tree_of(70)
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    proof = tree.consistency_proof(old, new)
    which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    target = bytearray(proof[which])
    target[bit // 8] ^= 1 << (bit % 8)
    proof[which] = bytes(target)
    with pytest.raises(ProofError):
        verify_consistency(old, new, tree.root(old), tree.root(new), proof)


# ----------------------------------------------------------------- proof files

SIGNER = NoteSigner.from_skey(
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
)
ORIGIN = "riff/0192f3a4-0000-7000-8000-000000000000"


@lru_cache(maxsize=1)
def _event_log() -> tuple[list[dict[str, object]], MemoryTree]:
    builder = LogBuilder("sess-tlog", {message_uuid(i): None for i in range(12)})
    for i in range(1, 12):
        builder.repair(message_uuid(i), message_uuid(i - 1), reason=f"fix {i} ✓")
    events = [e.to_dict() for e in builder.events]
    return events, MemoryTree(event_leaf_hash(e) for e in events)


def _inclusion_file(index: int) -> str:
    events, tree = _event_log()
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), SIGNER)
    return InclusionProofFile(
        events[index], index, tuple(tree.inclusion_proof(index)), note
    ).render()


def test_an_inclusion_proof_file_verifies_with_only_the_public_key() -> None:
    for index in range(11):
        verified = verify_inclusion_proof(
            _inclusion_file(index), [SIGNER.verifier()], origin=ORIGIN
        )
        assert verified.index == index
        assert verified.checkpoint.size == 11


@settings(max_examples=300)
@given(index=st.integers(min_value=0, max_value=10), data=st.data())
def test_any_changed_byte_of_an_inclusion_proof_file_fails(index: int, data: st.DataObject) -> None:
    text = _inclusion_file(index).encode()
    position = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    replacement = data.draw(st.integers(min_value=0, max_value=255))
    assume(text[position] != replacement)
    changed = text[:position] + bytes([replacement]) + text[position + 1 :]
    try:
        decoded = changed.decode("utf-8")
    except UnicodeDecodeError:
        return  # not even text: refused before any parsing
    with pytest.raises(TlogError):
        verify_inclusion_proof(decoded, [SIGNER.verifier()], origin=ORIGIN)


def _consistency_file(old: int) -> str:
    _, tree = _event_log()
    old_note = sign_checkpoint(Checkpoint(ORIGIN, old, tree.root(old)), SIGNER)
    new_note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), SIGNER)
    return ConsistencyProofFile(old_note, new_note, tuple(tree.consistency_proof(old))).render()


@settings(max_examples=200)
@given(old=st.integers(min_value=1, max_value=10), data=st.data())
def test_any_changed_byte_of_a_consistency_proof_file_fails(old: int, data: st.DataObject) -> None:
    text = _consistency_file(old)
    verify_consistency_proof(text, [SIGNER.verifier()], origin=ORIGIN)
    raw = text.encode()
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    replacement = data.draw(st.sampled_from(b'ABCDEFabcdef0123456789+/= \n"{},:'))
    assume(raw[position] != replacement)
    try:
        changed = (raw[:position] + bytes([replacement]) + raw[position + 1 :]).decode()
    except UnicodeDecodeError:
        return  # not even text: refused before any parsing
    # Whitespace between JSON tokens carries no meaning; every other byte does.
    try:
        verify_consistency_proof(changed, [SIGNER.verifier()], origin=ORIGIN)
    except TlogError:
        return
    assert orjson.loads(changed) == orjson.loads(text)
