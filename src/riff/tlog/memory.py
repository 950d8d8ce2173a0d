"""A tree held in memory the way the store holds it: per leaf, the subtrees ending there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from riff.tlog.compact import CompactRange, NodeId, decompose, fold_nodes, node_end_leaf
from riff.tlog.proofs import build_proof, consistency_ranges, inclusion_ranges


class MemoryTree:
    """Leaves appended in order; tree heads and proofs for any size up to the current one."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.frontier = CompactRange()
        self.nodes: list[list[bytes]] = []
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, leaf: bytes) -> None:
        self.nodes.append(self.frontier.append(leaf))

    def lookup(self, wanted: list[NodeId]) -> Mapping[NodeId, bytes]:
        return {node: self.nodes[node_end_leaf(node)][node[0]] for node in wanted}

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        wanted = decompose(0, size)
        found = self.lookup(wanted)
        return fold_nodes([found[node] for node in wanted])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return build_proof(
            inclusion_ranges(index, self.size if size is None else size), self.lookup
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new = self.size if new_size is None else new_size
        return build_proof(consistency_ranges(old_size, new), self.lookup)
