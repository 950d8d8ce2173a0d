"""A materialized view's three maps as `sessions_materialized` keeps them: compact JSON text.

The maps cover every message of a session: `base_parents` (message -> parent, as
the transcript has it), `parents` (the same after the repairs: nearly always
equal) and `timestamps`. As three JSON objects each message's uuid is written
three times and each parent's once more; here each uuid is written once.

Each field holds a JSON array that opens with the tag of this form, so it never
reads as the JSON object an older riff wrote (a field that starts with `{`
still decodes as that map), then the name of its layout:

- `[TAG, "keys", [key, ...], [parent, ...]]`: the map's keys in order and,
  aligned with them, each value as the index of its key when the value is one
  of the keys (a parent in the same file), else the string itself, or null.
  `base_parents` always; `parents` when the difference cannot keep its order.
- `[TAG, "aligned", [value, ...]]`: the values of a map whose keys are
  `base_parents`' keys in the same order (`timestamps`, nearly always).
- `[TAG, "changes", {key: value, ...}, [removed key, ...]]`: `base_parents`
  with the keys removed, then the entries set (changed ones keep their place,
  new ones go last): `parents`, nearly always an empty difference.
- `[TAG, "map", {key: value, ...}]`: the whole map (`timestamps` whose keys
  differ from `base_parents`').
- `[TAG, "deflate", "<base64>"]`: any of the forms above, as the base64 of its
  JSON text compressed by zlib; used for a form whose text is `DEFLATE_FROM`
  bytes or more (`base_parents` from about 6,500 messages, `timestamps` from
  about 11,000), so a usual session's row stays readable in the database. The
  embedded engine holds several copies of a row it writes (about 6.5x the
  text, measured); a 104,000-message session's three fields go from 6.7 MB to
  3.7 MB this way, and `repair --write` of its 115 MB file from 150 MB of peak
  RSS to 126 MB (`bench/big_session.py`). The text is compressed as it is
  written, a block of list items at a time, so it is never whole in memory.

Decoding gives back the same keys, values and key order that were encoded.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Iterator, Mapping
from itertools import chain, compress, islice
from operator import ne
from typing import Any

import orjson

from riff.maps import BulkMap, Overlay
from riff.store.errors import StoredViewError

TAG = "riff-view-maps/2"
_KEYS = "keys"
_ALIGNED = "aligned"
_CHANGES = "changes"
_MAP = "map"
_DEFLATE = "deflate"

DEFLATE_FROM = 256 * 1024
"""Bytes of a form's JSON text from which it is stored compressed."""
_DEFLATE_LEVEL = 1
"""zlib's fastest level: uuids in hex and timestamps compress about as well at 1 as at 9
(2.28 MB against 2.18 MB, 0.48 against 0.38 of a 104,000-message session) in a quarter
of the time (46 ms against 211)."""

ParentMap = Mapping[str, str | None]


def _text(form: list[Any]) -> str:
    # The field's type is string: the SDK sends a str as CBOR text (bytes would be a
    # CBOR byte string the schema refuses), hence base64 for the compressed form.
    pieces = _json_pieces(form)
    head: list[bytes] = []
    size = 0
    for piece in pieces:
        head.append(piece)
        size += len(piece)
        if size >= DEFLATE_FROM:
            break
    else:
        return b"".join(head).decode()
    # Compressed as it is written: a million messages' text (about 50 MB) is never whole.
    deflate = zlib.compressobj(_DEFLATE_LEVEL)
    packed = [deflate.compress(piece) for piece in chain(head, pieces)]
    packed.append(deflate.flush())
    encoded = binascii.b2a_base64(b"".join(packed), newline=False).decode("ascii")
    return f'["{TAG}","{_DEFLATE}","{encoded}"]'  # base64 needs no JSON escape


_PIECE = 1 << 14
"""Items of a form's list serialized at a time."""


def _json_pieces(form: list[Any]) -> Iterator[bytes]:
    """orjson's text of ``form`` (a list), in pieces: its long lists, and the lists it
    holds as iterators (made as they are written), a block of items at a time."""
    yield b"["
    for place, item in enumerate(form):
        if place:
            yield b","
        if isinstance(item, Iterator):
            yield from _list_pieces(item)
        elif isinstance(item, list) and len(item) > _PIECE:
            yield from _list_pieces(iter(item))
        else:
            yield orjson.dumps(item)
    yield b"]"


def _list_pieces(items: Iterator[Any]) -> Iterator[bytes]:
    yield b"["
    first = True
    while block := list(islice(items, _PIECE)):
        text = orjson.dumps(block)[1:-1]
        yield text if first else b"," + text
        first = False
    yield b"]"


def _keys_form(values: ParentMap) -> list[Any]:
    keys = list(values)
    index = values.key_positions() if isinstance(values, BulkMap) else None
    if index is None:
        index = dict(zip(keys, range(len(keys)), strict=True))
    # A value among the keys becomes its index; any other string, or None, stays
    # itself (None is never a key: the keys are strings). map() keeps the loop in C:
    # a session's map has a key per message.
    refs = list(map(index.get, values.values(), values.values()))  # type: ignore[arg-type]
    return [TAG, _KEYS, keys, refs]


def encode_view_maps(
    base_parents: ParentMap, parents: ParentMap, timestamps: ParentMap
) -> tuple[str, str, str]:
    """The three fields' stored text: (base_parents, parents, timestamps)."""
    base_form = _keys_form(base_parents)
    keys: list[str] = base_form[2]
    return (
        _text(base_form),
        _text(_parents_form(base_parents, keys, parents)),
        _text(_timestamps_form(keys, timestamps)),
    )


def _timestamps_form(keys: list[str], timestamps: ParentMap) -> list[Any]:
    if len(timestamps) == len(keys) and list(timestamps) == keys:
        # An iterator: a million timestamps' strings (80 MB) are made a block at a time.
        return [TAG, _ALIGNED, iter(timestamps.values())]
    return [TAG, _MAP, dict(timestamps.items())]


def _parents_form(base: ParentMap, keys: list[str], parents: ParentMap) -> list[Any]:
    if parents is base:
        return [TAG, _CHANGES, {}, []]
    positions = base.key_positions() if isinstance(base, BulkMap) else None
    if (
        isinstance(parents, Overlay)
        and parents.base is base
        and not parents.added
        and positions is not None
    ):
        # Repairs over the base (nearly always): the changes are at hand, put in the
        # base's order as the comparison below would find them.
        moved = sorted(parents.changed_keys(), key=positions.__getitem__)
        return [TAG, _CHANGES, {key: parents[key] for key in moved}, []]
    if list(parents) == keys:
        # The same keys in the same order (nearly always): only some values differ,
        # found by comparing the two value lists in C.
        changed = compress(keys, map(ne, base.values(), parents.values()))
        return [TAG, _CHANGES, {key: parents[key] for key in changed}, []]
    removed = [key for key in keys if key not in parents]
    added = [key for key in parents if key not in base]
    if list(parents) != [key for key in keys if key in parents] + added:
        return _keys_form(parents)  # an order the changes cannot rebuild
    changes = {
        key: value for key, value in parents.items() if key not in base or base[key] != value
    }
    return [TAG, _CHANGES, changes, removed]


def decode_view_maps(
    session_id: str,
    base_text: str | None,
    parents_text: str | None,
    timestamps_text: str | None,
) -> tuple[dict[str, str | None], dict[str, str | None], dict[str, str | None]]:
    """The three maps from their stored text, in this form or an older riff's.

    StoredViewError (naming the session and the field) when one cannot be read.
    """
    base = _decode(session_id, "base_parents", base_text, None)
    return (
        base,
        _decode(session_id, "parents", parents_text, base),
        _decode(session_id, "timestamps", timestamps_text, base),
    )


def _decode(
    session_id: str, field: str, text: str | None, base: dict[str, str | None] | None
) -> dict[str, str | None]:
    if not text:
        return {}
    try:
        stored = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise StoredViewError(session_id, field, f"not JSON: {exc}") from None
    if isinstance(stored, dict):
        return stored  # the JSON object riff wrote before this form
    if not isinstance(stored, list) or not stored or stored[0] != TAG:
        first = stored[0] if isinstance(stored, list) and stored else stored
        raise StoredViewError(session_id, field, f"unknown form {str(first)[:40]!r}")
    try:
        if len(stored) == 3 and stored[1] == _DEFLATE:
            stored = _inflated(stored[2])
        return _decode_form(stored, base)
    except (IndexError, KeyError, TypeError, ValueError, zlib.error) as exc:
        raise StoredViewError(session_id, field, f"malformed: {exc}") from None


_MOST_INFLATION = 64
"""How many times its compressed size a form's text may be. riff's forms compress 2 to
6 times (uuids in hex, timestamps); a row edited to hold a zlib bomb is refused before
it fills memory."""


def _inflated(packed: str) -> list[Any]:
    """The form a deflate form holds (binascii.Error is a ValueError)."""
    data = binascii.a2b_base64(packed, strict_mode=True)
    inflate = zlib.decompressobj()
    text = inflate.decompress(data, _MOST_INFLATION * len(data) + 4096)
    if inflate.unconsumed_tail:
        raise ValueError(f"the text inflates past {_MOST_INFLATION}x its compressed size")
    if not inflate.eof:
        raise ValueError("the compressed text is cut short")
    form = orjson.loads(text)
    if not isinstance(form, list) or len(form) < 2 or form[0] != TAG or form[1] == _DEFLATE:
        raise ValueError("the compressed text is not a form of its own")
    return form


def _decode_form(stored: list[Any], base: dict[str, str | None] | None) -> dict[str, str | None]:
    _, layout, *body = stored
    if layout == _KEYS:
        keys, refs = body
        if len(keys) != len(refs):
            raise ValueError(f"{len(keys)} keys, {len(refs)} values")
        if any(type(ref) is int and ref < 0 for ref in refs):
            raise ValueError("a negative key index")
        return dict(
            zip(keys, [keys[ref] if type(ref) is int else ref for ref in refs], strict=True)
        )
    if layout == _MAP:
        [whole] = body
        if not isinstance(whole, dict):
            raise TypeError("the map is not an object")
        return whole
    if base is None:
        raise ValueError(f"{layout!r} is only for parents and timestamps")
    if layout == _ALIGNED:
        [values] = body
        if len(values) != len(base):
            raise ValueError(f"{len(values)} values for {len(base)} keys")
        return dict(zip(base, values, strict=True))
    if layout == _CHANGES:
        changed, removed = body
        result = dict(base)
        for key in removed:
            del result[key]
        result.update(changed)
        return result
    raise ValueError(f"unknown layout {layout!r}")


__all__ = ["DEFLATE_FROM", "TAG", "decode_view_maps", "encode_view_maps"]
