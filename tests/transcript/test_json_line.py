"""riff.transcript.json_line: orjson's values, read as deep as Claude Code reads a line."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riff.transcript import json_line
from riff.transcript.json_line import MAX_DEPTH, _loads_flat

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _nested(depth: int, inner: bytes = b'{"x":[1]}') -> bytes:
    return b"[" * depth + inner + b"]" * depth


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    return depth


@given(_values, st.sampled_from([None, 0, 2]))
@settings(max_examples=300, deadline=None)
def test_the_flat_parser_reads_what_orjson_reads(value: Any, indent: int | None) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=indent == 2).encode()
    assert _loads_flat(data) == orjson.loads(data)


@given(_values, st.integers(min_value=0), st.binary(min_size=1, max_size=3))
@settings(max_examples=500, deadline=None)
def test_the_flat_parser_refuses_what_orjson_refuses(value: Any, at: int, junk: bytes) -> None:
    data = orjson.dumps(value)
    at %= len(data) + 1
    mutated = data[:at] + junk + data[at + 1 :]
    try:
        expected = orjson.loads(mutated)
    except orjson.JSONDecodeError:
        with pytest.raises(orjson.JSONDecodeError):
            _loads_flat(mutated)
    else:
        assert _loads_flat(mutated) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b" ", b"[", b"[1,]", b'{"a":1,}', b'{"a" 1}', b"{a:1}", b"01", b"[1 2]", b'"\x01"',
     b'"\\x"', b"[1]]", b'{"a":1}}', b"tru", b"[-]", b'"\xff"', b"1.", b".5", b"[1,,2]", b"{,}",
     b'{"a":1 "b":2}', b"NaN", b'{"a":[}', b'{"a"}'],
)  # fmt: skip
def test_what_is_not_json_is_refused_like_orjson(data: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(data)
    with pytest.raises(orjson.JSONDecodeError):
        _loads_flat(data)


def test_orjson_still_names_its_depth_limit_as_loads_expects() -> None:
    # `loads` only falls back on this error: an orjson that words it otherwise must fail here.
    with pytest.raises(orjson.JSONDecodeError) as caught:
        orjson.loads(_nested(2000))
    assert json_line.is_too_deep(caught.value)
    with pytest.raises(orjson.JSONDecodeError) as other:
        orjson.loads(b"[1,]")
    assert not json_line.is_too_deep(other.value)


def test_a_line_deeper_than_orjson_reads_is_read() -> None:
    value = json_line.loads(b'{"uuid":"u","input":' + _nested(2000) + b"}")
    assert value["uuid"] == "u"
    assert _depth(value["input"]) == 2000


def test_a_deep_document_that_is_not_json_is_still_refused() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        json_line.loads(b'{"a":' + _nested(2000)[:-1] + b"}")


def test_past_max_depth_a_line_is_refused_as_too_deep() -> None:
    assert _depth(json_line.loads(_nested(MAX_DEPTH, b"1"))) == MAX_DEPTH
    with pytest.raises(orjson.JSONDecodeError) as caught:
        json_line.loads(_nested(MAX_DEPTH + 1, b"1"))
    assert json_line.is_too_deep(caught.value)


def test_bytes_that_are_not_utf8_read_as_claude_code_reads_them() -> None:
    # Claude Code decodes its transcripts with U+FFFD for such bytes (the resume oracle
    # shows the replacement characters in the message it sends).
    assert json_line.loads(b'{"text":"a\xff\xfeb"}') == {"text": "a\ufffd\ufffdb"}
    assert json_line.loads(b'{"k\xc3":' + _nested(1500) + b"}")["k\ufffd"] is not None
    for outside_a_string in (b'{"a":1}\xff', b'\xff{"a":1}', b'{"a":\xff1}'):
        with pytest.raises(orjson.JSONDecodeError):
            json_line.loads(outside_a_string)


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b'{"a":1}x', 7),
        (b'{"a":"\xc3\xa9"}  xyz', 12),
        (b'{"a":1}}', 7),
        (b'{"a":1}\xff', 7),
        (b'{"a":1}\x00\x00xy', 7),
        pytest.param(b'{"a":' + _nested(1500, b"1") + b"}x", 3007, id="nested-1500-deep"),
        (b'{"a":1}', None),  # nothing after it
        (b'{"a":1} {"b":2}', None),  # two rows on one line: split, not cut
        (b"[1]x", None),  # not a row
        (b'{"a":"\xff"}x', None),  # bytes that are not UTF-8 inside it as well
        (b'{"a":1', None),
        (b'x{"a":1}', None),  # Claude Code 2.1 skips this line too
    ],
)
def test_the_bytes_after_a_whole_row_are_found(data: bytes, end: int | None) -> None:
    assert json_line.junk_after_object(data) == end
