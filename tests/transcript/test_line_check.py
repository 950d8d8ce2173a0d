"""`nothing_to_edit` answers exactly what the long way of planning finds.

The long way (riff.app.repair_plan without its one-pass check) reads the whole
file, applies the recorded re-links and then the plan's
(`replace_parents_in_bytes`, which raises when one does not apply), plans torn
lines and duplicates on the first result (`plan_line_edits`) and runs the
tool-pairing check on the second (`may_need_tool_pairing`, held to the full
planners by test_repair_fast_paths.py). The one pass must say True exactly
when all of that finds nothing: on generated sessions with every break, on
lines two JSON parsers may read differently, on re-links that do not apply or
break their line, on a file changed behind the scan, and on the real
transcripts present.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riff.events.line_edit import split_segments
from riff.testing.repair_kinds import REPAIR_BREAKS, inject_break
from riff.testing.synthetic import generate_session
from riff.transcript.errors import RepairWriteError
from riff.transcript.line_check import _answer_from_columns, nothing_to_edit
from riff.transcript.line_repairs import DROP_DUPLICATE, QUARANTINE_LINE, plan_line_edits
from riff.transcript.reader import read_transcript
from riff.transcript.records import Transcript
from riff.transcript.tool_result_repairs import INSERT_TOOL_RESULT, may_need_tool_pairing
from riff.transcript.write import replace_parents_in_bytes
from tests.realdata.corpus import dev_files, real_client_files

ALL_KINDS = (QUARANTINE_LINE, DROP_DUPLICATE, INSERT_TOOL_RESULT)
KIND_SETS: tuple[tuple[str, ...], ...] = (
    (),
    (QUARANTINE_LINE,),
    (DROP_DUPLICATE,),
    (INSERT_TOOL_RESULT,),
    (QUARANTINE_LINE, DROP_DUPLICATE),
    ALL_KINDS,
)


def long_way(
    data: bytes,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: tuple[str, ...],
) -> bool:
    try:
        base, _ = replace_parents_in_bytes(data, recorded)
        relinked, _ = replace_parents_in_bytes(base, relinks)
    except RepairWriteError:
        return False
    structural = tuple(k for k in (QUARANTINE_LINE, DROP_DUPLICATE) if k in kinds)
    if structural:
        plan = plan_line_edits(base, structural)
        if plan.edits or plan.needs_decision:
            return False
    return not (INSERT_TOOL_RESULT in kinds and may_need_tool_pairing(relinked))


def one_pass(
    path: Path,
    transcript: Transcript,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: tuple[str, ...],
    *,
    with_index: bool = True,
) -> bool:
    """The plain one pass (every line parsed), with or without the scan's uuid index."""
    return nothing_to_edit(
        path,
        transcript.fingerprint,
        recorded=recorded,
        relinks=relinks,
        kinds=kinds,
        uuid_index=transcript.columns.index if with_index else None,
    )


def from_columns(
    path: Path,
    transcript: Transcript,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: tuple[str, ...],
) -> bool | None:
    """The columns' own answer: True or None (in doubt), never a True the long way denies."""
    return _answer_from_columns(
        path, transcript.fingerprint, transcript, recorded, relinks, set(kinds)
    )


def same_answer(
    tmp_path: Path,
    data: bytes,
    recorded: Mapping[str, str | None] | None = None,
    relinks: Mapping[str, str | None] | None = None,
    *,
    kind_sets: tuple[tuple[str, ...], ...] = KIND_SETS,
) -> dict[tuple[str, ...], bool]:
    """The one pass and the long way agree for every set of kinds; their answers."""
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    transcript = read_transcript(path)
    recorded = recorded or {}
    relinks = {**recorded, **(relinks or {})}
    answers = {}
    for kinds in kind_sets:
        want = long_way(data, recorded, relinks, kinds)
        assert one_pass(path, transcript, recorded, relinks, kinds) is want, kinds
        columns = from_columns(path, transcript, recorded, relinks, kinds)
        assert columns is None or columns is want, kinds
        assert (
            nothing_to_edit(
                path,
                transcript.fingerprint,
                recorded=recorded,
                relinks=relinks,
                kinds=kinds,
                transcript=transcript,
            )
            is want
        ), kinds
        answers[kinds] = want
    without_index = one_pass(path, transcript, recorded, relinks, ALL_KINDS, with_index=False)
    assert without_index is answers[ALL_KINDS]
    return answers


def row_uuids(data: bytes) -> list[str]:
    found = []
    for segment in split_segments(data):
        try:
            value = orjson.loads(segment)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("uuid"), str):
            found.append(value["uuid"])
    return found


def some_relinks(data: bytes, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    uuids = row_uuids(data)
    if len(uuids) < 4:
        return {}, {}
    picked = rng.sample(uuids, 4)
    recorded = {picked[0]: rng.choice([None, *uuids])}
    relinks = {picked[1]: rng.choice(uuids), picked[2]: None}
    if rng.random() < 0.2:
        relinks["00000000-0000-4000-8000-00000000dead"] = picked[3]  # not in the file
    return recorded, relinks


def lines(*rows: Any) -> bytes:
    return b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in rows)


def user(uid: str, parent: str | None, text: str = "hi", **more: Any) -> dict[str, Any]:
    return {
        "parentUuid": parent,
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": uid,
        **more,
    }


CLEAN = lines(user("u1", None), user("u2", "u1"), user("u3", "u2"))


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param(b'{"uuid":"x1","parentUuid":"u1","s":"\xff\xfe"}\n', id="invalid-utf8"),
        pytest.param(b'{"uuid":"x1","parentUuid":"u1","n":1e400}\n', id="float-overflow"),
        pytest.param(
            b'{"uuid":"x1","parentUuid":"u1","d":' + b"[" * 1010 + b"]" * 1010 + b"}\n",
            id="deep-1010",
        ),
        pytest.param(
            b'{"uuid":"x1","parentUuid":"u1","d":' + b"[" * 1030 + b"]" * 1030 + b"}\n",
            id="deep-1030",
        ),
        pytest.param(b'{"\\u0075uid":"x1","parentUuid":"u1"}\n', id="escaped-uuid-key"),
        pytest.param(b'{"uuid":"u2","parentUuid":"u1"}\n', id="uuid-again"),
        pytest.param(b"null\n", id="json-null"),
        pytest.param(b"[1,2]\n", id="json-array"),
        pytest.param(b"\x00\x00\x00\n", id="nul-run"),
        pytest.param(b'{"uuid":"x1","parentUuid":"u1"}\x00\n', id="nul-after-row"),
        pytest.param(b'{"uuid":"x1","parentUuid":"u1"}\r\n', id="crlf"),
        pytest.param(b"   \n", id="blank"),
        pytest.param(b'{"uuid":"x1","parentUuid":"u1"', id="torn-last-line"),
        pytest.param(b'{"uuid":5,"parentUuid":"u1"}\n', id="uuid-not-text"),
        pytest.param(
            b'{"uuid":"x1","parentUuid":"u1","type":"system","subtype":"compact\\u005fboundary"}\n',
            id="escaped-compact-boundary",
        ),
        pytest.param(
            b'{"uuid":"x1","parentUuid":"u1","type":"assistant","message":{"content":'
            b'[{"type":"tool\\u005fuse","id":"c1","name":"Bash","input":{}}]}}\n',
            id="escaped-tool-use",
        ),
        pytest.param(
            b'{"uuid":"x1","parentUuid":"u1","type":"user","message":{"content":'
            b'[{"type":"tool_result","tool_use_id":{"no":"text"}}]}}\n',
            id="tool-id-not-text",
        ),
    ],
)
def test_lines_parsers_may_read_differently(tmp_path: Path, odd: bytes) -> None:
    for at in (1, 3):
        segments = split_segments(CLEAN)
        data = b"".join([*segments[:at], odd, *segments[at:]])
        same_answer(tmp_path, data)
        same_answer(tmp_path, data, {"u2": None}, {"u3": "u1"})
        same_answer(tmp_path, data, relinks={"x1": "u3"})


def test_a_clean_file_takes_the_one_pass(tmp_path: Path) -> None:
    answers = same_answer(tmp_path, CLEAN, {"u2": None}, {"u3": "u1"})
    assert all(answers.values())


def test_the_columns_answer_for_a_healthy_session(tmp_path: Path) -> None:
    """The fast answer is given (not left to the plain pass) when nothing is in doubt,
    with tool calls, results, a compaction and re-links of rows holding them."""
    data = generate_session(300, seed=0).to_bytes()
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    transcript = read_transcript(path)
    assert transcript.columns.tool_ids  # the columns answer for tool pairing too
    uuids = row_uuids(data)
    recorded, relinks = {uuids[5]: uuids[1]}, {uuids[5]: uuids[1], uuids[9]: None}
    for kinds in KIND_SETS:
        assert long_way(data, recorded, relinks, kinds)
        assert from_columns(path, transcript, recorded, relinks, kinds) is True, kinds


def test_lines_only_orjson_refuses_keep_the_columns_in_doubt(tmp_path: Path) -> None:
    """The reader takes this line (its decoder skips what it does not keep), the
    planners' orjson does not: the columns must not answer for it."""
    data = CLEAN + b'{"uuid":"x1","parentUuid":"u1","n":1e400}\n'
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    transcript = read_transcript(path)
    assert not transcript.problems  # the columns alone would see nothing wrong
    assert from_columns(path, transcript, {}, {}, (QUARANTINE_LINE,)) is None
    assert not long_way(data, {}, {}, (QUARANTINE_LINE,))


def test_bytes_not_utf8_in_a_string_are_read_alike_by_the_reader_and_the_planners(
    tmp_path: Path,
) -> None:
    """Claude Code reads them as U+FFFD (riff.transcript.json_line), and so do the reader
    and the planners: nothing to quarantine, whichever way is asked."""
    data = CLEAN + b'{"uuid":"x1","parentUuid":"u1","s":"\xff\xfe"}\n'
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    transcript = read_transcript(path)
    assert not transcript.problems
    assert from_columns(path, transcript, {}, {}, (QUARANTINE_LINE,)) is True
    assert long_way(data, {}, {}, (QUARANTINE_LINE,))


@pytest.mark.parametrize(
    ("data", "relinks"),
    [
        pytest.param(CLEAN, {"nope": "u1"}, id="message-not-in-the-file"),
        pytest.param(
            lines(user("u1", None), {"type": "user", "uuid": "u2"}), {"u2": "u1"}, id="no-parent"
        ),
        # A parentUuid holding an object: the writer's scanner replaces only part of
        # it, and the line no longer reads as JSON (a torn line the long way plans).
        pytest.param(
            lines(user("u1", None), {"parentUuid": {"a": 1}, "type": "user", "uuid": "u2"}),
            {"u2": "u1"},
            id="parent-is-an-object",
        ),
        pytest.param(
            lines(user("u1", None), user("u2", "u1"), user("u2", "u1")),
            {"u2": None},
            id="duplicated-row",
        ),
    ],
)
def test_relinks_that_do_not_apply_cleanly(
    tmp_path: Path, data: bytes, relinks: dict[str, Any]
) -> None:
    answers = same_answer(tmp_path, data, relinks=relinks)
    assert not answers[ALL_KINDS]
    answers = same_answer(tmp_path, data, recorded=relinks)
    assert not answers[ALL_KINDS]


def test_a_file_changed_behind_the_scan_is_left_to_the_long_way(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(CLEAN)
    transcript = read_transcript(path)
    stat = path.stat()
    path.write_bytes(CLEAN.replace(b"hi", b"ho"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not nothing_to_edit(
        path, transcript.fingerprint, recorded={}, relinks={}, kinds=ALL_KINDS
    )
    path.write_bytes(CLEAN + b"\n")
    assert not nothing_to_edit(
        path, transcript.fingerprint, recorded={}, relinks={}, kinds=ALL_KINDS
    )
    path.unlink()
    assert not nothing_to_edit(
        path, transcript.fingerprint, recorded={}, relinks={}, kinds=ALL_KINDS
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(10, 120),
    kind=st.sampled_from((None, *REPAIR_BREAKS)),
)
def test_generated_sessions_with_each_break(
    tmp_path: Path, seed: int, size: int, kind: str | None
) -> None:
    rng = random.Random(seed)
    data = generate_session(size, seed=seed).to_bytes()
    if kind is not None:
        broken = inject_break(kind, data, rng)
        data = broken.data if broken is not None else data
    answers = same_answer(tmp_path, data)
    if kind is None:
        assert all(answers.values())  # a healthy session takes the one pass
        path = tmp_path / "session.jsonl"
        transcript = read_transcript(path)
        assert from_columns(path, transcript, {}, {}, ALL_KINDS) is True
    same_answer(tmp_path, data, *some_relinks(data, rng))


def _real() -> list[Any]:
    return [pytest.param(p, id=p.name[:50]) for p in real_client_files() + dev_files()]


@pytest.mark.parametrize("path", _real())
def test_real_transcripts_with_each_break(tmp_path: Path, path: Path) -> None:
    clean = path.read_bytes()
    rng = random.Random(path.name)
    same_answer(tmp_path, clean, *some_relinks(clean, rng))
    for kind in REPAIR_BREAKS:
        broken = inject_break(kind, clean, random.Random(f"{path.name}/{kind}"))
        if broken is not None:
            relinks = some_relinks(broken.data, rng)
            same_answer(tmp_path, broken.data, *relinks, kind_sets=((), ALL_KINDS))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_every_line_read_across_chunk_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Lines cut by chunk ends are read whole: blank lines, a last line without its
    newline, a line orjson refuses in the middle or at the end, a NUL."""
    import hashlib

    import riff.transcript.line_check as line_check

    monkeypatch.setattr(line_check, "READ_CHUNK_BYTES", chunk)
    good = b'{"a": 1}\n\n  \n{"b": [1, 2, {"c": "x\\ny"}]}\n'
    cases = {
        "good": (good, True),
        "no final newline": (good + b'{"d": 2}', True),
        "refused line": (good + b'{"e": \n' + good, False),
        "refused last line": (good + b'{"f"', False),
        "null line": (good + b"null\n", True),  # JSON: left as it is, as an array is
        "nul byte": (good + b"\x00\n", False),
    }
    for name, (data, lines_read) in cases.items():
        path = tmp_path / "t.jsonl"
        path.write_bytes(data)
        reading = line_check.read_every_line(path)
        assert reading.lines_read is lines_read, name
        if lines_read:
            assert (reading.size, reading.sha256) == (len(data), hashlib.sha256(data).hexdigest())
