"""The transparency log: a Merkle tree over every event, signed checkpoints, proofs.

Pure domain code (no database, no clock): RFC 9162 hashing, compact ranges,
inclusion and consistency proofs, C2SP signed notes, tlog-checkpoint bodies and
tlog-proof files. The store keeps the tree's nodes; `riff.app.checkpoints`
orchestrates.
"""

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
