"""The message tree of a transcript, on any parent mapping.

Nodes are the uuids of a session in file order (a uuid seen twice keeps its
first line; duplicates are a finding, not a second node). Internally nodes are
integers and the children index is a CSR pair of arrays, so a graph of a
million messages stays small and every traversal is an iterative, linear walk:
chains of 100k+ messages exist, recursion is never used.

The same class serves the file as read and the "effective" tree after
repairs: pass ``parent_overrides`` (uuid -> new parent or None).
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from riff.transcript.records import MessageRecord

ROOT = -1
"""Parent index of a node whose parentUuid is null."""
DANGLING = -2
"""Parent index of a node whose parentUuid names no known message."""
EXTERNAL = -3
"""Parent index of a node whose parent lives in another file of the session."""


class MessageGraph:
    """Parent links, children index, roots, leaves, chains and cycles."""

    def __init__(
        self,
        nodes: Iterable[tuple[str, str | None]],
        *,
        external_uuids: Collection[str] = (),
    ) -> None:
        uuids: list[str] = []
        raw_parents: list[str | None] = []
        index: dict[str, int] = {}
        for uuid, parent in nodes:
            if uuid in index:
                continue
            index[uuid] = len(uuids)
            uuids.append(uuid)
            raw_parents.append(parent)
        self._uuids = uuids
        self._index = index
        self._raw_parents = raw_parents
        parents = array("q", [ROOT]) * len(uuids)
        lookup = index.get
        for i, parent_uuid in enumerate(raw_parents):
            if parent_uuid is None:
                continue
            j = lookup(parent_uuid)
            if j is None:
                parents[i] = EXTERNAL if parent_uuid in external_uuids else DANGLING
            else:
                parents[i] = j
        self._parents = parents
        self._child_start, self._children = _children_index(parents)
        self.records: list[MessageRecord] | None = None
        """Records aligned with node indices, when built from records."""

    # -- construction -----------------------------------------------------

    @classmethod
    def from_records(
        cls,
        records: Iterable[MessageRecord],
        parent_overrides: Mapping[str, str | None] | None = None,
        *,
        external_uuids: Collection[str] = (),
    ) -> MessageGraph:
        """Graph of the uuid-bearing records, with ``parent_overrides`` applied."""
        overrides = parent_overrides or {}
        kept: list[MessageRecord] = []
        seen: set[str] = set()
        for record in records:
            uuid = record.uuid
            if uuid is None or uuid in seen:
                continue
            seen.add(uuid)
            kept.append(record)
        nodes = (
            (
                r.uuid,
                overrides.get(r.uuid, r.parent_uuid),
            )
            for r in kept
            if r.uuid is not None
        )
        graph = cls(nodes, external_uuids=external_uuids)
        graph.records = kept
        return graph

    @classmethod
    def from_parents(
        cls, parents: Mapping[str, str | None], *, external_uuids: Collection[str] = ()
    ) -> MessageGraph:
        return cls(parents.items(), external_uuids=external_uuids)

    # -- node access --------------------------------------------------------

    def __len__(self) -> int:
        return len(self._uuids)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._uuids)

    def index_of(self, uuid: str) -> int:
        return self._index[uuid]

    def get_index(self, uuid: str) -> int | None:
        return self._index.get(uuid)

    def uuid_at(self, i: int) -> str:
        return self._uuids[i]

    @property
    def uuids(self) -> Sequence[str]:
        return self._uuids

    def parent_index(self, i: int) -> int:
        """Index of the parent, or ROOT / DANGLING / EXTERNAL."""
        return self._parents[i]

    def parent_of(self, uuid: str) -> str | None:
        """The parentUuid in effect (may name an unknown message)."""
        return self._raw_parents[self._index[uuid]]

    def parent_map(self) -> dict[str, str | None]:
        return dict(zip(self._uuids, self._raw_parents, strict=True))

    def child_indices(self, i: int) -> Sequence[int]:
        return self._children[self._child_start[i] : self._child_start[i + 1]]

    def child_count(self, i: int) -> int:
        return self._child_start[i + 1] - self._child_start[i]

    def children(self, uuid: str) -> list[str]:
        return [self._uuids[c] for c in self.child_indices(self._index[uuid])]

    # -- whole-graph views ----------------------------------------------------

    def roots(self) -> list[str]:
        """Messages whose parentUuid is null."""
        return [u for u, p in zip(self._uuids, self._parents, strict=True) if p == ROOT]

    def dangling(self) -> list[str]:
        """Messages whose parentUuid names no message of the session."""
        return [u for u, p in zip(self._uuids, self._parents, strict=True) if p == DANGLING]

    def leaf_indices(self) -> list[int]:
        start = self._child_start
        return [i for i in range(len(self._uuids)) if start[i] == start[i + 1]]

    def leaves(self) -> list[str]:
        return [self._uuids[i] for i in self.leaf_indices()]

    # -- walks --------------------------------------------------------------

    def ancestor_indices(self, i: int) -> list[int]:
        """Parents of node ``i`` nearest first; stops at a root, a gap or a cycle."""
        out: list[int] = []
        seen = {i}
        parents = self._parents
        j = parents[i]
        while j >= 0 and j not in seen:
            seen.add(j)
            out.append(j)
            j = parents[j]
        return out

    def ancestors(self, uuid: str) -> list[str]:
        return [self._uuids[j] for j in self.ancestor_indices(self._index[uuid])]

    def chain(self, leaf: str) -> list[str]:
        """The leaf and its ancestors: what a resume from ``leaf`` walks."""
        return [leaf, *self.ancestors(leaf)]

    def descendant_indices(self, i: int) -> list[int]:
        """Every node below ``i`` (a cycle through ``i`` does not loop)."""
        out: list[int] = []
        seen = {i}
        stack = [i]
        start, children = self._child_start, self._children
        while stack:
            node = stack.pop()
            for c in children[start[node] : start[node + 1]]:
                if c not in seen:
                    seen.add(c)
                    out.append(c)
                    stack.append(c)
        return out

    def descendants(self, uuid: str) -> list[str]:
        return [self._uuids[j] for j in self.descendant_indices(self._index[uuid])]

    def is_ancestor(self, ancestor: str, node: str) -> bool:
        """True if ``ancestor`` is on the parent chain of ``node`` (or is ``node``)."""
        target = self._index.get(ancestor)
        i = self._index.get(node)
        if target is None or i is None:
            return False
        return i == target or target in self.ancestor_indices(i)

    def cycle_indices(self) -> list[list[int]]:
        """Every cycle of parent links, each once, in parent order from its first node."""
        parents = self._parents
        state = array("q", [-1]) * len(parents)  # -1 unseen, else id of the walk
        done = -2
        cycles: list[list[int]] = []
        for start in range(len(parents)):
            if state[start] != -1:
                continue
            path: list[int] = []
            i = start
            while i >= 0 and state[i] == -1:
                state[i] = start
                path.append(i)
                i = parents[i]
            if i >= 0 and state[i] == start:
                cycles.append(path[path.index(i) :])
            for node in path:
                state[node] = done
        return cycles

    def cycles(self) -> list[list[str]]:
        return [[self._uuids[i] for i in cycle] for cycle in self.cycle_indices()]

    def euler_tour(self) -> tuple[array[int], array[int]]:
        """Entry/exit times of an iterative DFS from every root-like node.

        ``b`` is a descendant of ``a`` iff ``tin[a] <= tin[b] < tout[a]``.
        Nodes on cycles (unreachable from any root) keep -1.
        """
        n = len(self._uuids)
        tin = array("q", [-1]) * n
        tout = array("q", [-1]) * n
        start, children, parents = self._child_start, self._children, self._parents
        clock = 0
        for root in range(n):
            if parents[root] >= 0:
                continue
            tin[root] = clock
            clock += 1
            stack = [(root, start[root])]
            while stack:
                node, pos = stack[-1]
                if pos < start[node + 1]:
                    stack[-1] = (node, pos + 1)
                    child = children[pos]
                    tin[child] = clock
                    clock += 1
                    stack.append((child, start[child]))
                else:
                    stack.pop()
                    tout[node] = clock
        return tin, tout


def _children_index(parents: array[int]) -> tuple[array[int], array[int]]:
    """CSR children index: children of i are children[start[i]:start[i+1]], file order."""
    n = len(parents)
    start = array("q", [0]) * (n + 1)
    for p in parents:
        if p >= 0:
            start[p + 1] += 1
    total = 0
    for i in range(n + 1):
        total += start[i]
        start[i] = total
    fill = array("q", start)
    children = array("q", [0]) * total
    for i, p in enumerate(parents):
        if p >= 0:
            children[fill[p]] = i
            fill[p] += 1
    return start, children
