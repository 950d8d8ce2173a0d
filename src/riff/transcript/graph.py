"""The message tree of a transcript, on any parent mapping.

Nodes are the uuids of a session in file order (a uuid seen twice keeps its
first line; duplicates are a finding, not a second node). Internally nodes are
integers and the children index is a CSR pair of arrays, so a graph of a
million messages stays small and every traversal is an iterative, linear walk:
chains of 100k+ messages exist, recursion is never used.

The same class serves the file as read and the "effective" tree after
repairs: pass ``parent_overrides`` (uuid -> new parent or None).

Built from a transcript's columns (:meth:`MessageGraph.from_records`), the
graph shares the transcript's uuid table and index instead of copying them,
and its parent array comes straight from the columns' node parents.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import accumulate, islice, repeat, takewhile
from operator import le

from riff.transcript.records import Columns, MessageRecord, RecordList

_SEARCH_SLICE = 1 << 15

ROOT = -1
"""Parent index of a node whose parentUuid is null."""
DANGLING = -2
"""Parent index of a node whose parentUuid names no known message."""
EXTERNAL = -3
"""Parent index of a node whose parent lives in another file of the session."""

_NOT_NEGATIVE = partial(le, 0)
"""0 <= x: a node index, not ROOT / DANGLING / EXTERNAL."""


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
        self._uuid_list: list[str] | None = uuids
        self._index = index
        self._raw_parents: list[str | None] | None = raw_parents
        self._cols: Columns | None = None
        self._raw_overrides: dict[int, str | None] = {}
        self._forward: list[int] | None = None
        """Nodes whose parent index is >= their own (None: unknown); only they close cycles."""
        parents = array("i", [ROOT]) * len(uuids)
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
        self.memo: dict[object, object] = {}
        """Results derived from the (immutable) graph, e.g. what resume keeps."""
        self._csr: tuple[array[int], array[int]] | None = None
        self.records: Sequence[MessageRecord] | None = None
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
        if isinstance(records, RecordList) and records.is_whole:
            cols = records.columns
        else:
            cols = Columns.from_records(records)
        return cls.from_columns(cols, parent_overrides, external_uuids=external_uuids)

    @classmethod
    def from_columns(
        cls,
        cols: Columns,
        parent_overrides: Mapping[str, str | None] | None = None,
        *,
        external_uuids: Collection[str] = (),
    ) -> MessageGraph:
        """Graph of a transcript's columns (shares its uuid table and index)."""
        graph = cls.__new__(cls)
        graph._uuid_list = None
        graph._index = index = cols.index
        graph._raw_parents = None
        graph._cols = cols
        if len(cols.node_rec) == len(cols.par):
            # Every record is a node of its own (nodes are numbered by first
            # record, in file order): the records' parents are the nodes'.
            parents = array("i", cols.par)
        else:
            parents = array("i", map(cols.par.__getitem__, cols.node_rec))
        extras, par, uid, node_rec = cols.extras, cols.par, cols.uid, cols.node_rec
        for i in cols.unresolved:
            value = par[i]
            node = uid[i]
            if value <= -2 and node >= 0 and node_rec[node] == i:
                parents[node] = EXTERNAL if extras[-2 - value] in external_uuids else DANGLING
        forward = list(cols.forward)
        raw: dict[int, str | None] = {}
        for uuid, new_parent in (parent_overrides or {}).items():
            target = index.get(uuid)
            if target is None:
                continue
            raw[target] = new_parent
            forward.append(target)
            if new_parent is None:
                parents[target] = ROOT
            else:
                j = index.get(new_parent)
                if j is None:
                    parents[target] = EXTERNAL if new_parent in external_uuids else DANGLING
                else:
                    parents[target] = j
        graph._raw_overrides = raw
        graph._forward = forward
        graph._parents = parents
        graph.memo = {}
        graph._csr = None
        graph.records = RecordList(cols, node_rec)
        return graph

    @classmethod
    def from_parents(
        cls, parents: Mapping[str, str | None], *, external_uuids: Collection[str] = ()
    ) -> MessageGraph:
        return cls(parents.items(), external_uuids=external_uuids)

    @property
    def _uuids(self) -> list[str]:
        if self._uuid_list is not None:
            return self._uuid_list
        assert self._cols is not None
        return self._cols.uuids

    @property
    def _child_start(self) -> array[int]:
        if self._csr is None:
            self._csr = _children_index(self._parents)
        return self._csr[0]

    @property
    def _children(self) -> array[int]:
        if self._csr is None:
            self._csr = _children_index(self._parents)
        return self._csr[1]

    def last_child(self, i: int) -> int | None:
        """The last child of ``i`` in file order (no children index needed)."""
        if self._csr is not None:
            start = self._csr[0]
            return self._csr[1][start[i + 1] - 1] if start[i + 1] > start[i] else None
        data = self._parents.tobytes()  # not kept: a scan asks for a few nodes only
        pattern = array(self._parents.typecode, [i]).tobytes()
        width = self._parents.itemsize
        pos = data.rfind(pattern)
        while pos >= 0 and pos % width:
            pos = data.rfind(pattern, 0, pos + width - 1)
        return None if pos < 0 else pos // width

    def has_children(self, i: int) -> bool:
        return self.last_child(i) is not None

    # -- node access --------------------------------------------------------

    def __len__(self) -> int:
        return len(self._index)

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

    @property
    def forward_indices(self) -> Sequence[int]:
        """Nodes whose parent was not known when they were read, or was changed."""
        if self._forward is None:
            return [i for i, p in enumerate(self._parents) if p >= i]
        return self._forward

    @property
    def parent_array(self) -> array[int]:
        """Parent index of every node (ROOT / DANGLING / EXTERNAL when negative); read-only."""
        return self._parents

    def parent_index(self, i: int) -> int:
        """Index of the parent, or ROOT / DANGLING / EXTERNAL."""
        return self._parents[i]

    @property
    def columns(self) -> Columns | None:
        """The transcript columns the graph was built from, if any."""
        return self._cols

    def _raw_parent(self, i: int) -> str | None:
        if self._raw_parents is not None:
            return self._raw_parents[i]
        if i in self._raw_overrides:
            return self._raw_overrides[i]
        cols = self._cols
        assert cols is not None
        return cols.ref(cols.par[cols.node_rec[i]])

    def parent_of(self, uuid: str) -> str | None:
        """The parentUuid in effect (may name an unknown message)."""
        return self._raw_parent(self._index[uuid])

    def parent_map(self) -> dict[str, str | None]:
        if self._raw_parents is not None:
            return dict(zip(self._uuids, self._raw_parents, strict=True))
        return {u: self._raw_parent(i) for i, u in enumerate(self._uuids)}

    def child_indices(self, i: int) -> Sequence[int]:
        return self._children[self._child_start[i] : self._child_start[i + 1]]

    def child_count(self, i: int) -> int:
        return self._child_start[i + 1] - self._child_start[i]

    def children(self, uuid: str) -> list[str]:
        return [self._uuids[c] for c in self.child_indices(self._index[uuid])]

    # -- whole-graph views ----------------------------------------------------

    def indices_with_parent(self, value: int) -> list[int]:
        """Nodes whose parent index is ``value`` (e.g. ROOT or DANGLING), in order."""
        return _positions(self._parents, value)

    def roots(self) -> list[str]:
        """Messages whose parentUuid is null."""
        return [self._uuids[i] for i in _positions(self._parents, ROOT)]

    def dangling(self) -> list[str]:
        """Messages whose parentUuid names no message of the session."""
        return [self._uuids[i] for i in _positions(self._parents, DANGLING)]

    def leaf_indices(self) -> list[int]:
        start = self._child_start
        return [i for i in range(len(self)) if start[i] == start[i + 1]]

    def leaves(self) -> list[str]:
        return [self._uuids[i] for i in self.leaf_indices()]

    # -- walks --------------------------------------------------------------

    def ancestor_indices(self, i: int) -> list[int]:
        """Parents of node ``i`` nearest first; stops at a root, a gap or a cycle."""
        return self.walk_up(i)[1:].tolist()

    def walk_up(self, i: int) -> array[int]:
        """Node ``i``, then its parents nearest first, up to a root, a gap or a cycle
        (the walk ends before it would meet a node a second time).

        C loops, for chains of millions: the map reads the walk as it grows,
        each step looking up the parent of the node the step before appended.
        """
        parents = self._parents
        nodes = len(parents)
        walk = array("i", [i])
        walk.extend(islice(takewhile(_NOT_NEGATIVE, map(parents.__getitem__, walk)), nodes))
        if len(walk) > nodes:  # more steps than nodes: a cycle, cut at its first repeat
            seen = bytearray(nodes)
            for k, j in enumerate(walk):
                if seen[j]:
                    del walk[k:]
                    break
                seen[j] = 1
        return walk

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
        if self._forward is not None and not self._forward:
            return []  # every parent comes before its child: no cycle is possible
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
        n = len(self)
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


def _positions(values: array[int], value: int) -> list[int]:
    """Indices of ``value`` in ``values``, found by a byte search (values are rare).

    The array is searched in slices, so only a slice is ever copied.
    """
    pattern = array(values.typecode, [value]).tobytes()
    width = values.itemsize
    out: list[int] = []
    for base in range(0, len(values), _SEARCH_SLICE):
        data = values[base : base + _SEARCH_SLICE].tobytes()
        pos = data.find(pattern)
        while pos >= 0:
            if pos % width:
                pos = data.find(pattern, pos + 1)
                continue
            out.append(base + pos // width)
            pos = data.find(pattern, pos + width)
    return out


def _children_index(parents: array[int]) -> tuple[array[int], array[int]]:
    """CSR children index: children of i are children[start[i]:start[i+1]], file order.

    Built with a stable sort by parent and a count per parent (C loops, not
    Python ones); built on first use, since a scan does not need it.
    """
    n = len(parents)
    order = sorted(range(n), key=parents.__getitem__)  # stable: file order per parent
    counts = Counter(parents)
    negative = sum(c for p, c in counts.items() if p < 0)
    children = array("i", order[negative:])
    start = array("i", [0])
    start.extend(accumulate(map(counts.get, range(n), repeat(0))))
    return start, children
