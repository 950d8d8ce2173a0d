"""The transparency log: a Merkle tree over every event, signed checkpoints, proofs.

Pure domain code (no database, no clock): RFC 9162 hashing, compact ranges,
inclusion and consistency proofs, C2SP signed notes, tlog-checkpoint bodies and
tlog-proof files. The store keeps the tree's nodes; `riff.app.checkpoints`
orchestrates.

The names below load with their module on first use, so a caller that needs
one of them (riff verify FILE asking what kind of file it has) does not pay
for the signing stack (cryptography) the others bring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riff.lazy import lazy_names

if TYPE_CHECKING:
    from riff.tlog.checkpoint import (
        Checkpoint,
        open_checkpoint,
        origin_for,
        read_checkpoint,
        sign_checkpoint,
    )
    from riff.tlog.compact import (
        CompactRange,
        NodeId,
        completed_levels,
        decompose,
        fold_nodes,
        node_end_leaf,
    )
    from riff.tlog.errors import CheckpointError, NoteError, ProofError, TlogError
    from riff.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, root_from_leaf_hashes
    from riff.tlog.leaves import event_leaf_hash
    from riff.tlog.memory import MemoryTree
    from riff.tlog.note import NoteSigner, NoteVerifier, open_note, sign_note
    from riff.tlog.proofs import (
        Range,
        assemble,
        build_proof,
        consistency_ranges,
        inclusion_ranges,
        nodes_for,
        root_from_inclusion,
        verify_consistency,
        verify_inclusion,
    )

_LAZY = {
    "Checkpoint": "riff.tlog.checkpoint",
    "open_checkpoint": "riff.tlog.checkpoint",
    "origin_for": "riff.tlog.checkpoint",
    "read_checkpoint": "riff.tlog.checkpoint",
    "sign_checkpoint": "riff.tlog.checkpoint",
    "CompactRange": "riff.tlog.compact",
    "NodeId": "riff.tlog.compact",
    "completed_levels": "riff.tlog.compact",
    "decompose": "riff.tlog.compact",
    "fold_nodes": "riff.tlog.compact",
    "node_end_leaf": "riff.tlog.compact",
    "CheckpointError": "riff.tlog.errors",
    "NoteError": "riff.tlog.errors",
    "ProofError": "riff.tlog.errors",
    "TlogError": "riff.tlog.errors",
    "EMPTY_ROOT": "riff.tlog.hashing",
    "HASH_SIZE": "riff.tlog.hashing",
    "leaf_hash": "riff.tlog.hashing",
    "node_hash": "riff.tlog.hashing",
    "root_from_leaf_hashes": "riff.tlog.hashing",
    "event_leaf_hash": "riff.tlog.leaves",
    "MemoryTree": "riff.tlog.memory",
    "NoteSigner": "riff.tlog.note",
    "NoteVerifier": "riff.tlog.note",
    "open_note": "riff.tlog.note",
    "sign_note": "riff.tlog.note",
    "Range": "riff.tlog.proofs",
    "assemble": "riff.tlog.proofs",
    "build_proof": "riff.tlog.proofs",
    "consistency_ranges": "riff.tlog.proofs",
    "inclusion_ranges": "riff.tlog.proofs",
    "nodes_for": "riff.tlog.proofs",
    "root_from_inclusion": "riff.tlog.proofs",
    "verify_consistency": "riff.tlog.proofs",
    "verify_inclusion": "riff.tlog.proofs",
}


__getattr__ = lazy_names(globals(), _LAZY)


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "CheckpointError",
    "CompactRange",
    "MemoryTree",
    "NodeId",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "ProofError",
    "Range",
    "TlogError",
    "assemble",
    "build_proof",
    "completed_levels",
    "consistency_ranges",
    "decompose",
    "event_leaf_hash",
    "fold_nodes",
    "inclusion_ranges",
    "leaf_hash",
    "node_end_leaf",
    "node_hash",
    "nodes_for",
    "open_checkpoint",
    "open_note",
    "origin_for",
    "read_checkpoint",
    "root_from_inclusion",
    "root_from_leaf_hashes",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
]
