"""Reading a transcript in two halves on two cores builds exactly the columns of one pass.

Every test forces the split on small files (threshold, probe size and the
fork check lowered) and compares the whole column state with a sequential
read: numbering, parents (resolved, unresolved, forward), duplicates,
timestamps and their suspects, message and tool ids, line numbers, problems.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import riff.transcript.reader as reader_module
import riff.transcript.split_read as split_module
from riff.transcript.reader import read_transcript
from riff.transcript.records import Transcript
from tests.factories import BREAKAGE_KINDS, generate_session, inject, write_generated_session
from tests.realdata.corpus import dev_files, real_client_files


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every read splits (when the file has two halves' worth of lines)."""
    monkeypatch.setattr(reader_module, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(split_module, "_PROBE", 64)
    monkeypatch.setattr(split_module, "may_fork", lambda: True)
    monkeypatch.setattr(split_module, "_SLICE", 7)  # renumbered a few values at a time
    return monkeypatch


def _state(t: Transcript) -> dict[str, Any]:
    cols = t._columns
    assert cols is not None
    n = len(cols)
    return {
        "records": [cols.record(i)._values() for i in range(n)],
        "uid": list(cols.uid),
        # A parent not found is named, not numbered: the bookkeeping of those found
        # later (extras, unresolved) depends on where chunks end, in one pass too.
        "par": [v if v >= -1 else cols.extras[-2 - v] for v in cols.par],
        "node_rec": list(cols.node_rec),
        "uuids": list(cols.uuids),
        "msg_keys": list(cols.msg_keys),
        "tools": (list(cols.tool_rec), list(cols.tool_ids), bytes(cols.tool_kind)),
        "ts": bytes(cols.ts),
        "ts_odd": dict(cols.ts_odd),
        "duplicates": list(cols.duplicates),
        "forward": sorted(cols.forward),
        "ts_suspects": sorted(set(cols.ts_suspects)),
        "unresolved": [i for i in cols.unresolved if cols.par[i] <= -2],
        "api_suspects": sorted(set(cols.api_suspects)),
        "skips": list(cols.line.skips),
        "problems": t.problems,
        "line_count": t.line_count,
        "last_prompt_leaf": t.last_prompt_leaf,
        "session_id": t.session_id,
        "size": t.fingerprint.size,
    }


def _sequential(path: Path) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader_module, "SPLIT_MIN_BYTES", 1 << 62)
        return _state(read_transcript(path, content_hash=False))


def _halves_used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each read, whether the second half came from the child."""
    used: list[bool] = []
    append = split_module._append

    def recording(reader: Any, half: Any) -> bool:
        ok = append(reader, half)
        used.append(ok)
        return ok

    monkeypatch.setattr(split_module, "_append", recording)
    return used


def _check(path: Path) -> None:
    assert _state(read_transcript(path, content_hash=False)) == _sequential(path)


def _generated(tmp_path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    session = generate_session(
        rng.randint(60, 400), seed=seed, inline_sidechains=seed % 3 == 0, compactions=seed % 2 == 0
    )
    for kind in rng.sample(BREAKAGE_KINDS, rng.randint(0, 4)):
        inject(session, kind, rng.randint(1, 3), rng)
    return write_generated_session(tmp_path / f"g{seed}.jsonl", session)


@pytest.mark.parametrize("seed", range(16))
def test_generated_sessions_read_in_halves_as_in_one_pass(
    tmp_path: Path, split: pytest.MonkeyPatch, seed: int
) -> None:
    used = _halves_used(split)
    _check(_generated(tmp_path, seed))
    assert used, "the file was not split"


def test_every_cut_position(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    # Cuts at every line of a broken session: parents on either side of the cut,
    # later parents (resolved by finish), duplicates, odd timestamps.
    path = _generated(tmp_path, 3)
    size = path.stat().st_size
    used = _halves_used(split)
    for middle in range(0, size, max(1, size // 97)):
        split.setattr(split_module, "_middle", lambda _size, m=middle: m)
        _check(path)
    assert sum(used) > 50


def _lines(*rows: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def _row(uuid: str, parent: str | None, ts: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "user",
        "uuid": uuid,
        "parentUuid": parent,
        "timestamp": ts,
        "sessionId": "s",
        "message": {"role": "user", "content": f"text {uuid}"},
        **extra,
    }


def _chain(n: int) -> list[dict[str, Any]]:
    stamps = [f"2025-01-01T00:00:{i:02d}.000Z" for i in range(n)]
    return [_row(f"u{i}", f"u{i - 1}" if i else None, stamps[i]) for i in range(n)]


def test_links_and_times_across_the_cut(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    rows = [
        _row("a", None, "2025-01-01T00:00:05.000Z"),
        _row("b", "z", "2025-01-01T00:00:06.000Z"),  # parent further down, past the cut
        _row("c", "b", "2025-01-01T00:00:09.000Z"),
        _row("d", "nowhere", "2025-01-01T00:00:10.000Z"),
        _row("e", "c", "2025-01-01T00:00:01.000Z"),  # older than the first half's newest
        _row("f", "nowhere", "2025-01-01T00:00:02.000Z"),  # the same unknown parent again
        _row("z", "a", "2025-01-01T00:00:30.000Z"),
        _row("y", "e", "1 Jan 2025 00:00:03 +0000"),  # odd timestamp, older
        _row("x", "y", "2025-01-01T00:00:40.000Z"),
    ]
    path = tmp_path / "t.jsonl"
    path.write_bytes(_lines(*rows) + b"\n\x00\x00\n{not json\n" + _lines(_row("w", "x", "")))
    used = _halves_used(split)
    data = path.read_bytes()
    starts = [i + 1 for i, byte in enumerate(data) if byte == 10]
    for middle in sorted({0, *starts, *(max(0, s - 2) for s in starts)}):
        split.setattr(split_module, "_middle", lambda _size, m=middle: m)
        _check(path)
    assert sum(used) > 8


def test_a_uuid_in_both_halves_is_read_sequentially(
    tmp_path: Path, split: pytest.MonkeyPatch
) -> None:
    rows = _chain(20)
    path = tmp_path / "dup.jsonl"
    first = _lines(*rows)
    later = [_row(f"v{i}", "u19", "2025-01-01T00:01:00.000Z") for i in range(3)]
    path.write_bytes(first + _lines(rows[2], *later))
    split.setattr(split_module, "_middle", lambda _size: len(first) - 1)
    used = _halves_used(split)
    _check(path)
    assert used == [False]


def test_a_torn_last_line_and_no_final_newline(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    rows = _chain(20)
    path = tmp_path / "torn.jsonl"
    data = _lines(*rows)
    path.write_bytes(data + data[:40].replace(b'"u0"', b'"t0"'))
    _check(path)


def test_one_huge_line_is_not_split(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(_lines(_row("a", None, "2025-01-01T00:00:00.000Z", pad="x" * 5000)))
    used = _halves_used(split)
    _check(path)
    assert used == []


def test_a_child_that_dies_leaves_the_read_to_the_parent(
    tmp_path: Path, split: pytest.MonkeyPatch
) -> None:
    def dies(*_args: Any) -> bool:
        os._exit(3)

    split.setattr(split_module, "_child_main", dies)
    used = _halves_used(split)
    _check(_generated(tmp_path, 5))
    assert used == []


def test_an_interrupted_read_leaves_no_child(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    def interrupted(self: Any) -> None:
        raise KeyboardInterrupt

    split.setattr(split_module.ForkedWork, "result", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_transcript(_generated(tmp_path, 6), content_hash=False)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_read_for_a_write_never_splits(tmp_path: Path, split: pytest.MonkeyPatch) -> None:
    # Its hash must be of the bytes the columns come from: one pass.
    used = _halves_used(split)
    path = _generated(tmp_path, 7)
    assert _state(read_transcript(path)) == _sequential(path)
    assert used == []


_REAL = real_client_files() + dev_files()


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name[:60]) for p in _REAL])
def test_real_transcripts_read_in_halves_as_in_one_pass(
    path: Path, split: pytest.MonkeyPatch
) -> None:
    _check(path)


def test_ids_holding_a_newline_are_sent_as_they_are(
    tmp_path: Path, split: pytest.MonkeyPatch
) -> None:
    rows = _chain(12)
    rows[9]["uuid"] = "u9\nodd"
    rows[10]["parentUuid"] = "u9\nodd"
    rows[10]["message"] = {"role": "assistant", "id": "m\n1", "content": []}
    rows[11]["message"] = {"role": "assistant", "id": "m\n1", "content": []}
    path = tmp_path / "odd.jsonl"
    path.write_bytes(_lines(*rows))
    split.setattr(split_module, "_middle", lambda size: size // 3)
    used = _halves_used(split)
    _check(path)
    assert used == [True]


_FORK_CHECK = """
import _thread, sys, threading
from pathlib import Path
from riff.transcript.forked import may_fork

alone = may_fork()
hold = threading.Lock()
hold.acquire()
_thread.start_new_thread(hold.acquire, ())  # a thread threading does not list
with_native_thread = may_fork()
hold.release()

from riff.app.stores import open_event_store
from riff.settings import Settings

data = Path(sys.argv[1])
store = open_event_store(Settings(db_url=f"surrealkv://{data}/store", data_dir=data))
store.head("s")
with_open_store = may_fork()
store.close()
print(alone, with_native_thread, with_open_store)
"""


def test_no_fork_beside_threads_python_does_not_list(tmp_path: Path) -> None:
    """A fork copies one thread: a lock another one held (a native thread's, such as
    an open embedded store's engine) would stay held in the child."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _FORK_CHECK, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"},
        check=True,
    )
    assert done.stdout.split() == ["True", "False", "False"], done.stderr[-2000:]


@given(
    st.lists(st.integers(min_value=-(2**31), max_value=2**30), max_size=300),
    st.integers(min_value=0, max_value=2**30 - 1),
    st.sampled_from("iq"),
)
def test_adding_to_the_nonnegative_elements_as_one_big_integer(
    values: list[int], by: int, typecode: str
) -> None:
    shifted = split_module._plus_where_nonnegative(array(typecode, values), by)
    assert shifted.typecode == typecode
    assert shifted.tolist() == [v + by if v >= 0 else v for v in values]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("chunk", "batch"), [(7, 1), (64, 100), (4096, 3), (4096, 1 << 19)])
def test_chunk_and_batch_sizes_do_not_change_what_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, chunk: int, batch: int
) -> None:
    # Lines of several chunks go to the reader together, and a line can span
    # many chunks: what is read must not depend on where either ends.
    path = _generated(tmp_path, seed)
    if seed % 2:
        path.write_bytes(path.read_bytes() + b'{"type":"user","uuid":"torn')
    expected = _sequential(path)
    monkeypatch.setattr(reader_module, "READ_CHUNK_BYTES", chunk)
    monkeypatch.setattr(reader_module, "_BATCH_BYTES", batch)
    assert _sequential(path) == expected


def test_progress_rows_naming_one_call_share_its_string(
    tmp_path: Path, split: pytest.MonkeyPatch
) -> None:
    # A call, its result, then progress rows naming it on both sides of the cut
    # (after the result, as a hook's progress is), and rows naming a call elsewhere.
    call = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "input": {}}]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}
    stamp = "2025-01-01T00:00:00.000Z"
    rows = [
        {**_row("a", None, stamp), "type": "assistant", "message": call},
        _row("r", "a", stamp, message=result),
    ]
    for i in range(40):
        ref = "toolu_1" if i % 2 else "toolu_elsewhere"
        rows.append({**_row(f"p{i}", "r", stamp), "type": "progress", "toolUseID": ref})
    path = tmp_path / "t.jsonl"
    path.write_bytes(_lines(*rows))
    used = _halves_used(split)
    cols = read_transcript(path, content_hash=False).columns
    assert used == [True]
    values = cols.tool_ref.values
    assert len(values) == 40 and set(values) == {"toolu_1", "toolu_elsewhere"}
    assert len({id(value) for value in values}) == 2
    _check(path)
