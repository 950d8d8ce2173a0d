"""The compact stored form of a view's maps (riff.store.view_maps): decoding gives back
exactly what was encoded, key order included, and rows of earlier riff versions
(a JSON object per map) still read back."""

from __future__ import annotations

import base64
import random
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.events import GENESIS_DIGEST
from riff.maps import Overlay
from riff.store import ImmutableEventStore, StoredViewError, StoreError, view_maps
from riff.store.rows import VIEWS_TABLE
from riff.store.sdk import RecordID
from riff.store.view_maps import DEFLATE_FROM, TAG, decode_view_maps, encode_view_maps
from riff.transcript.reader import read_transcript
from riff.views import ViewRecord
from tests.factories import generate_session, inject, write_generated_session
from tests.store.helpers import M, mem_recorder

Map = dict[str, str | None]

KEYS = st.one_of(st.uuids().map(str), st.text(max_size=6))


@st.composite
def maps(draw: st.DrawFn) -> tuple[Map, Map, Map]:
    """(base_parents, parents, timestamps): any maps, leaning to the shapes a session has
    (parents a few changes away from base_parents, timestamps on the same keys)."""
    keys = draw(st.lists(KEYS, unique=True, max_size=12))
    value = st.one_of(st.none(), KEYS, *([st.sampled_from(keys)] if keys else []))
    base = {key: draw(value) for key in keys}
    parents_shape = draw(st.sampled_from(["same", "changed", "any"]))
    if parents_shape == "any":
        parents = draw(st.dictionaries(KEYS, value, max_size=12))
    else:
        parents = dict(base)
        if parents_shape == "changed":
            for key in (
                draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)) if keys else []
            ):
                del parents[key]
            parents.update(draw(st.dictionaries(KEYS, value, max_size=3)))
    if draw(st.booleans()):
        timestamps = {key: draw(st.one_of(st.none(), st.text(max_size=4))) for key in keys}
    else:
        timestamps = draw(st.dictionaries(KEYS, st.one_of(st.none(), st.text()), max_size=12))
    return base, parents, timestamps


def _ordered(*mappings: Map) -> list[list[tuple[str, str | None]]]:
    return [list(mapping.items()) for mapping in mappings]


@given(maps())
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_decoding_gives_back_the_same_maps_in_the_same_order(
    three: tuple[Map, Map, Map],
) -> None:
    stored = encode_view_maps(*three)
    assert all(text.startswith(f'["{TAG}",') for text in stored)
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(*three)


def test_the_common_case_stores_each_uuid_once() -> None:
    base: Map = {M[0]: None, **{M[i]: M[i - 1] for i in range(1, 40)}, M[40]: "elsewhere"}
    parents = {**base, M[7]: M[2]}
    timestamps = {key: f"2026-01-01T00:00:{i:02d}.000Z" for i, key in enumerate(base)}
    stored = encode_view_maps(base, parents, timestamps)
    assert [orjson.loads(text)[1] for text in stored] == ["keys", "changes", "aligned"]
    assert orjson.loads(stored[0])[3][:3] == [None, 0, 1]
    assert orjson.loads(stored[1])[2:] == [{M[7]: M[2]}, []]
    assert sum(text.count(M[5]) for text in stored) == 1
    legacy = sum(len(orjson.dumps(m)) for m in (base, parents, timestamps))
    assert sum(map(len, stored)) < legacy / 2


def test_parents_in_an_order_no_difference_keeps_are_stored_whole() -> None:
    base: Map = {M[0]: None, M[1]: M[0]}
    parents: Map = {M[1]: M[0], M[0]: None}
    stored = encode_view_maps(base, parents, {})
    assert orjson.loads(stored[1])[1] == "keys"
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(base, parents, {})


def _big_session(n: int = 12_000) -> tuple[Map, Map, Map]:
    """A session's maps past DEFLATE_FROM: a chain with a few roots and an outside
    parent, one parent changed, one timestamp missing."""
    keys = [str(uuid.UUID(int=random.Random(7).getrandbits(128) ^ i)) for i in range(n)]
    base: Map = {key: keys[i - 1] if i % 1000 else None for i, key in enumerate(keys)}
    base[keys[5]] = "a-parent-in-another-file"
    parents = {**base, keys[42]: keys[7]}
    timestamps: Map = {
        key: f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z"
        for i, key in enumerate(keys)
    }
    timestamps[keys[3]] = None
    return base, parents, timestamps


def _layouts(stored: tuple[str, str, str]) -> list[str]:
    return [orjson.loads(text)[1] for text in stored]


def test_a_big_session_is_stored_compressed_and_reads_back_in_order() -> None:
    three = _big_session()
    plain = [len(orjson.dumps(form)) for form in _forms(*three)]
    assert plain[0] >= DEFLATE_FROM > plain[1]
    stored = encode_view_maps(*three)
    # The base map and its timestamps are big: compressed; the changes are not.
    assert _layouts(stored) == ["deflate", "changes", "deflate"]
    assert len(stored[0]) < plain[0] * 0.8 and len(stored[2]) < plain[2] * 0.3
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(*three)


@pytest.mark.parametrize("reorder", [False, True])
def test_every_layout_reads_back_compressed(reorder: bool) -> None:
    base, _, timestamps = _big_session()
    # Parents in another order: stored whole (keys); timestamps on other keys: a map.
    parents = dict(reversed(base.items())) if reorder else dict(base)
    timestamps = {**timestamps, "a-key-only-timestamps-have": None} if reorder else timestamps
    stored = encode_view_maps(base, parents, timestamps)
    expected = ["deflate", "deflate", "deflate"] if reorder else ["deflate", "changes", "deflate"]
    assert _layouts(stored) == expected
    inner = [
        orjson.loads(zlib.decompress(base64.b64decode(orjson.loads(text)[2])))[1]
        for text in stored
        if orjson.loads(text)[1] == "deflate"
    ]
    assert inner == (["keys", "keys", "map"] if reorder else ["keys", "aligned"])
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(base, parents, timestamps)


def _forms(base: Map, parents: Map, timestamps: Map) -> list[Any]:
    """The uncompressed forms of the three maps (as a riff before compression wrote),
    with the lists a form makes as it is written made whole."""
    base_form = view_maps._keys_form(base)
    forms = [
        base_form,
        view_maps._parents_form(base, base_form[2], parents),
        view_maps._timestamps_form(base_form[2], timestamps),
    ]
    return [[list(item) if isinstance(item, Iterator) else item for item in f] for f in forms]


def test_an_uncompressed_big_map_still_reads_back() -> None:
    """A big session's row written before compression holds its forms as they are."""
    three = _big_session()
    stored = [orjson.dumps(form).decode() for form in _forms(*three)]
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(*three)


def _deflated(payload: bytes) -> str:
    return orjson.dumps([TAG, "deflate", base64.b64encode(payload).decode()]).decode()


@pytest.mark.parametrize(
    ("field", "text", "problem"),
    [
        ("base_parents", "[1,", "not JSON"),
        ("base_parents", '["riff-view-maps/9", "keys", [], []]', "unknown form 'riff-view-maps/9'"),
        ("base_parents", f'["{TAG}", "keys", ["a"], [3]]', "malformed"),
        ("base_parents", f'["{TAG}", "keys", ["a", "b"], [null, -1]]', "malformed"),
        ("base_parents", f'["{TAG}", "aligned", []]', "only for parents and timestamps"),
        ("timestamps", f'["{TAG}", "aligned", [null, null]]', "2 values for 1 keys"),
        ("parents", f'["{TAG}", "changes", {{}}, ["x"]]', "malformed"),
        ("parents", '"text"', "unknown form 'text'"),
        ("base_parents", f'["{TAG}", "deflate", "not base64!"]', "malformed"),
        ("base_parents", _deflated(b"not zlib"), "malformed"),
        ("base_parents", _deflated(zlib.compress(b"[1,")), "malformed"),
        ("base_parents", _deflated(zlib.compress(b'{"a": null}')), "not a form of its own"),
        (
            "base_parents",
            _deflated(zlib.compress(_deflated(zlib.compress(b"[]")).encode())),
            "not a form of its own",
        ),
        ("base_parents", f'["{TAG}", "deflate", 7]', "malformed"),
        ("base_parents", _deflated(zlib.compress(b"[" + b" " * 10_000_000 + b"]")), "64x"),
        (
            "base_parents",
            _deflated(zlib.compress(f'["{TAG}", "keys", [], []]'.encode())[:-6]),
            "cut short",
        ),
    ],
)
def test_an_unreadable_map_names_the_session_and_the_field(
    field: str, text: str, problem: str
) -> None:
    fields = {"base_parents": f'["{TAG}", "keys", ["a"], [null]]', "parents": "", "timestamps": ""}
    fields[field] = text
    with pytest.raises(StoredViewError) as caught:
        decode_view_maps("s1", fields["base_parents"], fields["parents"], fields["timestamps"])
    message = str(caught.value)
    assert isinstance(caught.value, StoreError) and "\n" not in message
    assert f"session s1 has an unreadable {field}" in message and problem in message
    assert message.endswith("riff views rebuild s1")


# -- through the real engine -------------------------------------------------------


@pytest.fixture(scope="module")
def recorder() -> Iterator[ImmutableEventStore]:
    with mem_recorder() as store:
        yield store


def _view(base: Map, parents: Map, timestamps: Map) -> ViewRecord:
    return ViewRecord(
        session_id="s1",
        base_parents=base,
        parents=parents,
        timestamps=timestamps,
        through_seq=0,
        head_digest=GENESIS_DIGEST,
        materialization_digest="a" * 64,
        updated_at="2026-01-01T00:00:00.000000Z",
    )


@given(maps())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_stored_view_reads_back_in_order(
    recorder: ImmutableEventStore, three: tuple[Map, Map, Map]
) -> None:
    recorder.put_view(_view(*three).to_row())
    row = recorder.get_view("s1")
    assert row is not None
    assert _ordered(row["base_parents"], row["parents"], row["timestamps"]) == _ordered(*three)


def test_a_row_of_an_earlier_riff_reads_back(recorder: ImmutableEventStore) -> None:
    """Before the compact form, each map was stored as its JSON object."""
    base: Map = {M[2]: M[1], M[1]: None, M[3]: "elsewhere"}
    parents: Map = {M[2]: M[3], M[1]: None, M[3]: "elsewhere"}
    timestamps: Map = {M[1]: "2026-01-01T00:00:00.000Z", M[2]: None}
    old_row = _view(base, parents, timestamps).to_row()
    for name in ("base_parents", "parents", "timestamps"):
        old_row[name] = orjson.dumps(old_row[name]).decode()
    recorder.conn.run(
        "UPSERT $vid CONTENT $row RETURN NONE",
        {"vid": RecordID(VIEWS_TABLE, "s1"), "row": old_row},
    )
    row = recorder.get_view("s1")
    assert row is not None
    assert _ordered(row["base_parents"], row["parents"], row["timestamps"]) == _ordered(
        base, parents, timestamps
    )
    assert ViewRecord.from_row(row) == _view(base, parents, timestamps)
    # Stored again, it is written in the compact form and reads back the same.
    recorder.put_view(ViewRecord.from_row(row).to_row())
    stored = recorder.conn.one(
        "SELECT base_parents FROM ONLY $vid", {"vid": RecordID(VIEWS_TABLE, "s1")}
    )
    assert stored["base_parents"].startswith(f'["{TAG}","keys",')
    again = recorder.get_view("s1")
    assert again is not None and list(again["parents"].items()) == list(parents.items())


def test_a_big_view_is_stored_compressed_and_reads_back(recorder: ImmutableEventStore) -> None:
    three = _big_session()
    recorder.put_view(_view(*three).to_row())
    stored = recorder.conn.one(
        "SELECT base_parents, parents, timestamps FROM ONLY $vid",
        {"vid": RecordID(VIEWS_TABLE, "s1")},
    )
    assert stored["base_parents"].startswith(f'["{TAG}","deflate",')
    row = recorder.get_view("s1")
    assert row is not None
    assert _ordered(row["base_parents"], row["parents"], row["timestamps"]) == _ordered(*three)
    assert ViewRecord.from_row(row) == _view(*three)


@pytest.mark.parametrize("piece", [3, 4, 1 << 14])
def test_a_forms_text_in_pieces_is_its_whole_text(
    monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    monkeypatch.setattr(view_maps, "_PIECE", piece)
    for form in (
        [TAG, "keys", [], []],
        [TAG, "keys", ["a", "b", "c"], [None, 0, 1]],
        [TAG, "aligned", [f"t{i}" for i in range(7)]],
        [TAG, "changes", {"a": None}, ["b", "c", "d", "e"]],
        [TAG, "keys", [f'k"{i}\\' for i in range(10)], list(range(10))],
    ):
        assert b"".join(view_maps._json_pieces(form)) == orjson.dumps(form)
        made_as_written = [iter(item) if isinstance(item, list) else item for item in form]
        assert b"".join(view_maps._json_pieces(made_as_written)) == orjson.dumps(form)


@pytest.mark.parametrize("deflate_from", [200, DEFLATE_FROM])
def test_a_transcripts_own_maps_are_stored_as_their_dicts_would_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deflate_from: int
) -> None:
    """The maps a scan gives (read from its columns, and repairs laid over them) are
    stored with the same text as dicts holding the same entries; compressed too, a few
    list items at a time."""
    monkeypatch.setattr(view_maps, "DEFLATE_FROM", deflate_from)
    monkeypatch.setattr(view_maps, "_PIECE", 5)
    session = generate_session(300, seed=11)
    inject(session, "orphan", 2, random.Random(11))
    transcript = read_transcript(write_generated_session(tmp_path / "s.jsonl", session))
    base, timestamps = transcript.parent_map(), transcript.timestamp_map()
    keys = list(base)
    # Changes set out of the file's order: stored in it, as a dict's comparison finds them.
    parents = Overlay(base, {keys[90]: None, keys[41]: base[keys[41]], keys[40]: keys[3]})
    plain = (dict(base.items()), dict(parents.items()), dict(timestamps.items()))
    stored = encode_view_maps(base, parents, timestamps)
    assert stored == encode_view_maps(*plain)
    assert _layouts(stored)[1] == "changes"
    assert orjson.loads(stored[1])[2] == {keys[40]: keys[3], keys[90]: None}
    assert _ordered(*decode_view_maps("s1", *stored)) == _ordered(*plain)
