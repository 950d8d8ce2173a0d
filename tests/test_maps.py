"""riff.maps: an Overlay reads as `{**base, **changes}`; bulk reads agree with lookups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riff.maps import BulkMap, Overlay, differing_keys, key_test, values_for

_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
_values = st.one_of(st.none(), _keys)
_maps = st.dictionaries(_keys, _values, max_size=12)


class _Plain(BulkMap[str | None]):
    """A bulk map with nothing overridden: every bulk read goes through lookups."""

    def __init__(self, entries: dict[str, str | None]) -> None:
        self._entries = entries

    def __getitem__(self, key: str) -> str | None:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@given(_maps, _maps)
def test_an_overlay_reads_as_the_merged_dict(
    base: dict[str, str | None], changes: dict[str, str | None]
) -> None:
    for under in (base, _Plain(base)):
        overlay = Overlay(under, dict(changes))
        merged = {**base, **changes}
        assert list(overlay) == list(merged)
        assert list(overlay.values()) == list(merged.values())
        assert list(overlay.items()) == list(merged.items())
        assert len(overlay) == len(merged)
        assert overlay == merged and merged == overlay
        assert all(key in overlay for key in merged)
        assert "zzzz" not in overlay
        assert [overlay.get(key) for key in merged] == list(merged.values())
        assert overlay.get("zzzz", "fallback") == "fallback"
        assert list(overlay.values_for(reversed(list(merged)))) == [
            merged[key] for key in reversed(list(merged))
        ]
        differ = [k for k in merged if k not in base or base[k] != merged[k]]
        assert sorted(overlay.changed_keys()) == sorted(differ)


@given(_maps, _maps, _maps)
def test_an_overlay_of_an_overlay_is_one_overlay_with_both_changes(
    base: dict[str, str | None], first: dict[str, str | None], second: dict[str, str | None]
) -> None:
    nested = Overlay(Overlay(base, dict(first)), dict(second))
    assert nested.base is base
    assert list(nested.items()) == list({**base, **first, **second}.items())


def test_an_overlays_bulk_reads_see_its_changes() -> None:
    overlay: Overlay[str | None] = Overlay({"a": None, "b": "a", "c": "b"}, {"b": None})
    assert list(overlay.values_for(["c", "b", "a"])) == ["b", None, None]
    assert list(overlay.values()) == [None, None, "b"]


@pytest.mark.parametrize("under_repairs", [False, True])
def test_an_overlay_reads_its_changes_as_they_grow(under_repairs: bool) -> None:
    """Also over an Overlay (a session whose events moved parents): the planner's dict
    of accepted repairs is a layer, not copied when the two are put together."""
    base: dict[str, str | None] = {"a": None, "b": "a", "c": "b"}
    under = Overlay(base, {"c": "a"}) if under_repairs else base
    accepted: dict[str, str | None] = {}
    overlay = Overlay(under, accepted)
    accepted["b"] = None
    assert overlay["b"] is None and overlay.get("b", "x") is None
    assert list(overlay.values_for(["b"])) == [None]
    expected = {**base, **({"c": "a"} if under_repairs else {}), "b": None}
    assert list(overlay.items()) == list(expected.items())
    assert sorted(overlay.changed_keys()) == (["b", "c"] if under_repairs else ["b"])


def test_a_missing_key_raises_in_bulk_reads_too() -> None:
    overlay: Overlay[str | None] = Overlay({"a": None}, {"b": "a"})
    with pytest.raises(KeyError):
        overlay["c"]
    with pytest.raises(KeyError):
        list(overlay.values_for(["a", "c"]))
    with pytest.raises(KeyError):
        list(values_for({"a": None}, ["c"]))


def test_key_positions_come_from_the_base_unless_keys_were_added() -> None:
    class Indexed(_Plain):
        def key_positions(self) -> dict[str, int]:
            return {key: i for i, key in enumerate(self)}

    base = Indexed({"a": None, "b": "a"})
    no_change: dict[str, str | None] = {}
    assert Overlay[str | None](base, {"b": None}).key_positions() == {"a": 0, "b": 1}
    assert Overlay[str | None](base, {"c": "b"}).key_positions() is None
    assert Overlay({"a": None}, no_change).key_positions() is None


@pytest.mark.parametrize(
    ("other", "equal"),
    [
        ({"a": None, "b": "a"}, True),
        ({"b": "a", "a": None}, True),  # order does not matter, as for dicts
        ({"a": None, "b": None}, False),
        ({"a": None, "c": "a"}, False),
        ({"a": None}, False),
        ({"a": None, "b": "a", "c": None}, False),
    ],
)
def test_bulk_map_equality_is_dict_equality(other: dict[str, str | None], equal: bool) -> None:
    mine = _Plain({"a": None, "b": "a"})
    assert (mine == other) is equal
    assert (other == mine) is equal
    assert (mine != other) is not equal


def test_a_bulk_map_is_not_equal_to_what_is_not_a_mapping() -> None:
    mine = _Plain({"a": None})
    assert mine != [("a", None)]
    assert mine != "a"


@given(_maps, _maps)
def test_differing_keys_are_the_common_keys_whose_values_differ(
    a: dict[str, str | None], b: dict[str, str | None]
) -> None:
    expected = [key for key in a if key in b and a[key] != b[key]]
    assert differing_keys(a, b) == expected
    assert differing_keys(_Plain(a), Overlay(b, {})) == expected
    same_order = {key: b.get(key, a[key]) for key in a}  # a's keys, in a's order
    assert differing_keys(a, same_order) == [k for k in a if k in b and a[k] != b[k]]


@given(_maps, _maps)
def test_key_test_answers_as_in_does(
    base: dict[str, str | None], changes: dict[str, str | None]
) -> None:
    class Indexed(_Plain):
        def key_positions(self) -> dict[str, int]:
            return {key: i for i, key in enumerate(self)}

    for mapping in (
        base,
        _Plain(base),
        Indexed(base),
        Overlay(base, dict(changes)),
        Overlay(Indexed(base), dict(changes)),
    ):
        test = key_test(mapping)
        for key in [*base, *changes, "zzzz"]:
            assert test(key) == (key in mapping)
