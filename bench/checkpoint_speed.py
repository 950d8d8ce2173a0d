"""Checkpoints and proofs on a 1,000,000-event log, against hashing every leaf.

    python bench/checkpoint_speed.py [--events 1000000]

Stores a tree of N leaves the way riff does (tlog_leaves rows, each with the
subtree hashes that end at it, in the embedded surrealkv engine), then times,
in the same run:

- baseline: what a checkpoint would cost without the stored subtrees, the
  tree head recomputed from the N leaf hashes (SHA-256 of every leaf and node);
- `riff checkpoint` after the first (the tree head read from popcount(N)
  stored subtrees, signed, written to the database and to disk);
- inclusion and consistency proofs for random leaves (O(log N) subtrees, one
  query each).

The leaves stand for generated events of about an event's canonical size.
To fill a million rows in reasonable time the bench drops, for the fill, the
leaf table's ASSERTs (the link to a stored event, the gap check) and its two
UNIQUE indexes: the timed reads go by record id and use none of them, and the
cost of appending events is `bench/append_speed.py`'s figure, not this one.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

from riff.app.checkpoints import make_checkpoint, tree_root
from riff.settings import Settings
from riff.store import open_store
from riff.tlog import (
    CompactRange,
    build_proof,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

BATCH = 10_000


def leaf_data(i: int) -> bytes:
    # About the size of an event's canonical bytes (~520 bytes).
    return (f'{{"event_id":"{i:036d}","reason":"{"x" * 420}","seq":{i}}}').encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db_url=f"surrealkv://{Path(tmp) / 'store'}", data_dir=Path(tmp))
        with open_store(settings) as store:
            store.conn.run(
                "DEFINE FIELD OVERWRITE event_id ON tlog_leaves TYPE string READONLY;"
                "DEFINE FIELD OVERWRITE log_index ON tlog_leaves TYPE int READONLY;"
                "REMOVE INDEX tlog_leaves_index ON tlog_leaves;"
                "REMOVE INDEX tlog_leaves_event ON tlog_leaves;"
            )
            print(f"storing a tree of {n:,} leaves …", flush=True)
            started = time.perf_counter()
            tree = CompactRange()
            leaves: list[bytes] = []
            for lo in range(0, n, BATCH):
                rows = []
                for i in range(lo, min(lo + BATCH, n)):
                    leaf = leaf_hash(leaf_data(i))
                    leaves.append(leaf)
                    nodes = tree.append(leaf)
                    rows.append(
                        {
                            "log_index": i,
                            "session_id": "bench",
                            "seq": i + 1,
                            "event_id": str(i),
                            "nodes": [h.hex() for h in nodes],
                        }
                    )
                store.conn.run(
                    "BEGIN TRANSACTION;"
                    "INSERT INTO tlog_leaves (SELECT *, type::thing('tlog_leaves', log_index)"
                    " AS id FROM $rows) RETURN NONE;"
                    "UPDATE tlog_state:current SET size = $size RETURN NONE;"
                    "COMMIT TRANSACTION;",
                    {"rows": rows, "size": min(lo + BATCH, n)},
                )
            print(f"  stored in {time.perf_counter() - started:.1f} s", flush=True)

            # Baseline: the tree head from every leaf (what no stored subtrees would cost).
            started = time.perf_counter()
            hashed = CompactRange()
            for i in range(n):
                hashed.append(hashlib.sha256(b"\x00" + leaf_data(i)).digest())
            baseline_root = hashed.root()
            baseline = time.perf_counter() - started
            started = time.perf_counter()
            root_only = CompactRange()
            for leaf in leaves:
                root_only.append(leaf)
            from_leaf_hashes = time.perf_counter() - started

            make_checkpoint(store, settings)  # the first (creates the key)
            timings = []
            for extra in range(5):
                # One more leaf, then the next checkpoint: what the hourly job does.
                index = n + extra
                leaf = leaf_hash(leaf_data(index))
                nodes = tree.append(leaf)
                leaves.append(leaf)
                store.conn.run(
                    "CREATE type::thing('tlog_leaves', $i) CONTENT $row RETURN NONE;"
                    "UPDATE tlog_state:current SET size = $size RETURN NONE;",
                    {
                        "i": index,
                        "size": index + 1,
                        "row": {
                            "log_index": index,
                            "session_id": "bench",
                            "seq": index + 1,
                            "event_id": str(index),
                            "nodes": [h.hex() for h in nodes],
                        },
                    },
                )
                started = time.perf_counter()
                made = make_checkpoint(store, settings)
                timings.append(time.perf_counter() - started)
                assert made.created and made.checkpoint.root == tree.root()
            size = tree.size
            assert tree_root(store, n) == baseline_root

            rng = random.Random(7)
            proof_times, proof_lengths = [], []
            for _ in range(200):
                index = rng.randrange(size)
                started = time.perf_counter()
                proof = build_proof(inclusion_ranges(index, size), store.tlog.nodes)
                proof_times.append(time.perf_counter() - started)
                proof_lengths.append(len(proof))
                verify_inclusion(index, size, leaves[index], proof, tree.root())
            consistency_times = []
            for _ in range(50):
                old = rng.randrange(1, size)
                started = time.perf_counter()
                proof = build_proof(consistency_ranges(old, size), store.tlog.nodes)
                consistency_times.append(time.perf_counter() - started)
                verify_consistency(old, size, tree_root(store, old), tree.root(), proof)

    checkpoint = statistics.median(timings)
    inclusion = statistics.median(proof_times)
    consistency = statistics.median(consistency_times)
    print(f"\n{n:,}-leaf log (surrealkv), medians:")
    print(
        f"  baseline: tree head from every leaf (SHA-256 of {n:,} events + nodes) {baseline:.2f} s"
    )
    print(f"            (from stored leaf hashes only: {from_leaf_hashes:.2f} s)")
    print(
        f"  riff checkpoint after the first: {checkpoint * 1000:.1f} ms "
        f"(ratio to baseline {checkpoint / baseline:.5f})"
    )
    print(
        f"  inclusion proof: {inclusion * 1000:.2f} ms, {statistics.mean(proof_lengths):.1f} "
        f"hashes (ratio to baseline {inclusion / baseline:.6f})"
    )
    print(
        f"  consistency proof: {consistency * 1000:.2f} ms (ratio to baseline "
        f"{consistency / baseline:.6f})"
    )


if __name__ == "__main__":
    main()
