"""A repeated key in an export is refused, however the rest of the file is spelt.

`riff verify` counts keys over a whole batch of lines (or the whole JSON
document) in C and only looks line by line when the count is not conclusive;
these exports are built so that a careless count would come out right.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riff.events import ChainHead, EventDraft, seal_events
from riff.events.audit import verify_export
from riff.events.errors import ExportFormatError
from riff.events.export import write_export
from tests.store.helpers import M


def _export(tmp_path: Path, fmt: str) -> Path:
    events = seal_events(
        ChainHead("0194d7c1-aaaa-7bbb-8ccc-000000000001"),
        [EventDraft(M[1], M[0], None, "alice", "r"), EventDraft(M[2], M[1], M[0], "alice")],
    )
    path = tmp_path / f"export.{fmt}"
    write_export(path, events, fmt=fmt)  # type: ignore[arg-type]
    return path


def test_a_key_spelt_with_a_space_before_its_colon_still_counts(tmp_path: Path) -> None:
    path = _export(tmp_path, "jsonl")
    lines = path.read_bytes().splitlines()
    row = orjson.loads(lines[1])
    row["operator"] = "mallory"
    lines[1] = orjson.dumps(row)[:-1] + b',"operator" :"alice"}'
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ExportFormatError, match="'operator' appears twice"):
        verify_export(path)


def test_a_repeated_optional_key_where_another_event_lacks_it(tmp_path: Path) -> None:
    # One event holds `is_reverted` twice, the other not at all: as many
    # `"is_reverted"` as events, yet one object repeats it.
    path = _export(tmp_path, "json")
    document = orjson.loads(path.read_bytes())
    first, second = document["events"]
    second.pop("is_reverted", None)
    first.pop("is_reverted", None)
    text = orjson.dumps(document)
    spliced = orjson.dumps(first)[:-1] + b',"is_reverted":false,"is_reverted":true}'
    path.write_bytes(text.replace(orjson.dumps(first), spliced, 1))
    with pytest.raises(ExportFormatError, match="'is_reverted' appears twice"):
        verify_export(path)


def test_clean_exports_of_both_forms_pass(tmp_path: Path) -> None:
    for fmt in ("json", "jsonl"):
        assert verify_export(_export(tmp_path, fmt)).ok


@pytest.mark.parametrize("reason", [b'"a: b: c"', b'"a\\u003a b"'], ids=["colons", "escaped-colon"])
def test_colons_in_a_value_do_not_hide_a_repeated_key(tmp_path: Path, reason: bytes) -> None:
    path = _export(tmp_path, "jsonl")
    lines = path.read_bytes().splitlines()
    row = orjson.loads(lines[1])
    row["operator"] = "mallory"
    text = orjson.dumps(row)
    start = text.index(b'"reason":') + len(b'"reason":')
    end = text.index(b',"', start)
    lines[1] = text[:start] + reason + text[end:-1] + b',"operator":"alice"}'
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ExportFormatError, match="'operator' appears twice"):
        verify_export(path)
