"""Read-only maps with an entry per message, that are not dicts.

A session's parent and timestamp maps hold every message: as dicts, a
million-message session's parents cost about 90 MB and its timestamps as much
again, and a dict copy to apply a few repairs costs 40 MB more. Here:

- `BulkMap`, a Mapping whose bulk reads (`values()`, `items()`, `values_for`)
  run as C loops where its subclass can, and whose equality with a dict does
  not build one: the transcript's column-backed maps derive from it
  (riff.transcript.records);
- `Overlay`, a map with a few entries set over another one, in the order
  `{**base, **changes}` would have, without copying the base.

Nothing here is changed in place: a map shared between a session's file,
its replay and its view stays what it was.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, ValuesView
from itertools import chain, compress
from operator import eq, ne
from typing import Any, TypeVar

V = TypeVar("V")


class _Values(ValuesView[V]):
    _mapping: BulkMap[V]

    def __iter__(self) -> Iterator[V]:
        return self._mapping.iter_values()


class _Items(ItemsView[str, V]):
    _mapping: BulkMap[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        mapping = self._mapping
        return zip(mapping, mapping.iter_values(), strict=True)


class BulkMap(Mapping[str, V]):
    """A Mapping from message ids whose bulk reads subclasses may run as C loops."""

    __slots__ = ()

    def iter_values(self) -> Iterator[V]:
        """Every value, in key order (one lookup per key unless overridden)."""
        return map(self.__getitem__, self)

    def values_for(self, keys: Iterable[str]) -> Iterator[V]:
        """The value of each of ``keys`` (KeyError for a key the map lacks)."""
        return map(self.__getitem__, keys)

    def key_positions(self) -> Mapping[str, int] | None:
        """Each key's place in iteration order, when the map keeps such an index."""
        return None

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def items(self) -> ItemsView[str, V]:
        return _Items(self)

    def __eq__(self, other: object) -> bool:
        # Mapping's own __eq__ builds a dict of each side: a million entries twice.
        if not isinstance(other, Mapping):
            return NotImplemented
        if len(self) != len(other):
            return False
        try:
            mine = self.values_for(other.keys())
            return all(map(eq, mine, other.values()))
        except KeyError:
            return False

    __hash__ = None  # type: ignore[assignment]


def key_test(values: Mapping[str, Any]) -> Callable[[object], bool]:
    """``key in values`` at C speed where it can be: a dict's own test, or that of the
    index a bulk map keeps (an Overlay with no keys of its own has its base's keys)."""
    if isinstance(values, Overlay) and not values.added:
        return key_test(values.base)
    if isinstance(values, BulkMap):
        positions = values.key_positions()
        if positions is not None:
            return positions.__contains__
    return values.__contains__


def differing_keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The keys both maps have whose values differ, in ``a``'s order (C loops)."""
    keys = list(a)
    if len(keys) == len(b) and keys == list(b):  # the same keys in the same order: no lookup
        return list(compress(keys, map(ne, a.values(), b.values())))
    common = list(filter(key_test(b), keys))
    return list(compress(common, map(ne, values_for(a, common), values_for(b, common))))


def values_for(values: Mapping[str, V], keys: Iterable[str]) -> Iterator[V]:
    """The value of each of ``keys`` in ``values``, in C loops for dicts and bulk maps."""
    if isinstance(values, BulkMap):
        return values.values_for(keys)
    return map(values.__getitem__, keys)


class Overlay(BulkMap[V]):
    """``base`` with ``changes`` set: `{**base, **changes}` without copying ``base``.

    Keys keep ``base``'s order; keys only the changes have follow, in their
    order. An Overlay over an Overlay keeps both sets of changes as layers over
    the one plain base (a lookup never goes through two Overlays). The changes
    are read, not copied: a dict of them may still be given values for keys the
    base has (a planner's accepted repairs, seen by the next one it checks),
    never keys the base lacks.
    """

    __slots__ = ("added", "base", "layers")

    def __init__(self, base: Mapping[str, V], changes: dict[str, V]) -> None:
        layers = [changes]
        if isinstance(base, Overlay):
            layers += base.layers
            base = base.base
        self.base: Mapping[str, V] = base
        self.layers: list[dict[str, V]] = layers
        """The changes, newest first."""
        added: dict[str, None] = {}
        for layer in reversed(layers):
            added.update((key, None) for key in layer if key not in base)
        self.added = list(added)
        """Keys only the changes have, in the order `{**base, **older, **newer}` has them."""

    @property
    def changes(self) -> dict[str, V]:
        """Every layer's changes in one dict (the newest value of each key)."""
        merged: dict[str, V] = {}
        for layer in reversed(self.layers):
            merged.update(layer)
        return merged

    def __getitem__(self, key: str) -> V:
        for layer in self.layers:
            if key in layer:
                return layer[key]
        return self.base[key]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        # Mapping.get would go through __getitem__ and KeyError: chain walks call it per step.
        for layer in self.layers:
            if key in layer:
                return layer[key]
        return self.base.get(key, default)

    def __contains__(self, key: object) -> bool:
        return any(key in layer for layer in self.layers) or key in self.base

    def __len__(self) -> int:
        return len(self.base) + len(self.added)

    def __iter__(self) -> Iterator[str]:
        return chain(self.base, self.added)

    def iter_values(self) -> Iterator[V]:
        # Each base key's value from the newest layer setting it, else the base's: the
        # value so far is the default of each layer's `get`, so the loops stay in C.
        values: Iterator[V] = iter(self.base.values())
        for layer in reversed(self.layers):
            if layer:
                values = map(layer.get, self.base, values)
        return chain(values, map(self.__getitem__, self.added))

    def values_for(self, keys: Iterable[str]) -> Iterator[V]:
        if self.added:
            return map(self.__getitem__, keys)
        keys = list(keys)
        values = values_for(self.base, keys)
        for layer in reversed(self.layers):
            if layer:
                values = map(layer.get, keys, values)
        return values

    def key_positions(self) -> Mapping[str, int] | None:
        if self.added or not isinstance(self.base, BulkMap):
            return None
        return self.base.key_positions()

    def changed_keys(self) -> Iterator[str]:
        """Keys whose value differs from ``base``'s (those only the changes have too)."""
        base, changes = self.base, self.changes
        kept = [key for key in changes if key in base]
        differs = map(ne, values_for(base, kept), map(changes.__getitem__, kept))
        return chain(compress(kept, differs), self.added)


__all__ = ["BulkMap", "Overlay", "differing_keys", "key_test", "values_for"]
