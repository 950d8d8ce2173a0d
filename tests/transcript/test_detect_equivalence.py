"""The array-at-a-time detectors against plain per-node versions of the same rules.

The lost-branch, tool-pairing and resume-loss rules run as C loops over
whole columns (a million-message session must not cost a Python step per
node). The plain versions here walk node by node, as the rules read in
docs/findings.md; both must give the same findings on generated sessions
(healthy and broken in every way riff's generator knows) and on the real
transcripts beside the checkout (skipped when absent).
"""

from __future__ import annotations

import random
from bisect import bisect_left
from pathlib import Path

import orjson
import pytest

from riff.transcript import detect
from riff.transcript.detect import build_graph, lost_branch_findings, tool_findings
from riff.transcript.findings import LOST_BRANCH, Finding
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_transcript
from riff.transcript.records import Transcript
from riff.transcript.resume import (
    kept_indices,
    last_compaction_record,
    lost_if_not_kept,
    resume_leaf_index,
    resume_loss_count,
)
from tests.factories import BREAKAGE_KINDS, generate_session, inject, write_generated_session
from tests.realdata.corpus import dev_files, real_client_files


def _plain_lost_if_not_kept(graph: MessageGraph, kept: bytearray) -> bytearray:
    cols = graph.columns
    assert cols is not None
    counted = bytearray(cols.node_lost)
    last = last_compaction_record(cols)
    for i, r in enumerate(cols.node_rec):
        if last >= 0 and r < last:
            counted[i] = 0
    kept_msgs = {cols.msg_keys[cols.node_rec[i]] for i in range(len(kept)) if kept[i]} - {0}
    holders: dict[str, int] = {}
    for r, uses, _ in cols.tool_records():
        if cols.uid[r] >= 0:
            for tool_id in uses:
                holders.setdefault(tool_id, cols.uid[r])
    for i in range(len(counted)):
        if not counted[i] or kept[i]:
            continue
        r = cols.node_rec[i]
        if cols.msg_keys[r] in kept_msgs:
            counted[i] = 0
            continue
        tools = cols.tools_of(r)
        if tools and tools[1] and all(t in holders and kept[holders[t]] for t in tools[1]):
            counted[i] = 0
    return counted


def _plain_lost_branches(graph: MessageGraph, last_prompt_leaf: str | None) -> list[Finding]:
    cols = graph.columns
    assert cols is not None
    kept = kept_indices(graph, resume_leaf_index(graph, last_prompt_leaf))
    counted = _plain_lost_if_not_kept(graph, kept)
    parents = graph.parent_array
    below: dict[int, list[int]] = {}
    for i in range(len(kept)):
        if not kept[i] and parents[i] >= 0 and not kept[parents[i]]:
            below.setdefault(parents[i], []).append(i)
    out = []
    for start in range(len(kept)):
        if kept[start] or parents[start] < 0 or not kept[parents[start]]:
            continue
        subtree, stack = [start], [start]
        while stack:
            for child in below.get(stack.pop(), ()):
                subtree.append(child)
                stack.append(child)
        lost = [j for j in subtree if counted[j]]
        if not lost:
            continue
        leaf = max(
            (j for j in subtree if j not in below),
            key=lambda j: cols.line[cols.node_rec[j]],
            default=start,
        )
        first, last = cols.line[cols.node_rec[start]], cols.line[cols.node_rec[leaf]]
        out.append(
            Finding(
                LOST_BRANCH,
                "warning",
                (graph.uuid_at(start), graph.uuid_at(leaf)),
                (first, last),
                f"A branch from line {first} to line {last} holds {len(lost)} "
                "message(s) that resume will not load, because it continues another branch.",
                repairable=False,
                lost_messages=len(lost),
            )
        )
    return out


def _plain_unmatched_tools(
    transcript: Transcript, known_uses: set[str], known_results: set[str]
) -> tuple[dict[int, str], dict[int, str]]:
    """(first unanswered call, first unasked-for result) of each record, id by id."""
    cols = transcript.columns
    uses = sorted(t for t, k in zip(cols.tool_ids, cols.tool_kind, strict=True) if not k)
    results = sorted(t for t, k in zip(cols.tool_ids, cols.tool_kind, strict=True) if k)

    def holds(values: list[str], value: str) -> bool:
        k = bisect_left(values, value)
        return k < len(values) and values[k] == value

    missing: dict[int, str] = {}
    orphans: dict[int, str] = {}
    for rec, tool_id, kind in zip(cols.tool_rec, cols.tool_ids, cols.tool_kind, strict=True):
        if not kind and not holds(results, tool_id) and tool_id not in known_results:
            missing.setdefault(rec, tool_id)
        if kind and not holds(uses, tool_id) and tool_id not in known_uses:
            orphans.setdefault(rec, tool_id)
    return missing, orphans


def _plain_kept(graph: MessageGraph, leaf: int | None) -> bytearray:
    """Node by node: the chain up from the leaf, across compaction seams."""
    cols = graph.columns
    assert cols is not None
    kept = bytearray(len(graph))
    node = leaf
    while node is not None and not kept[node]:
        top = j = node
        while j >= 0 and not kept[j]:
            kept[j] = 1
            top, j = j, graph.parent_array[j]
        node = None
        if j < 0 and (logical := cols.logical.get(cols.node_rec[top])) is not None:
            node = graph.get_index(logical)
    return kept


def _check(path: Path) -> None:
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    cols = transcript.columns
    leaf = resume_leaf_index(graph, transcript.last_prompt_leaf)
    kept = kept_indices(graph, leaf)
    assert kept == _plain_kept(graph, leaf)
    assert lost_if_not_kept(graph, kept) == _plain_lost_if_not_kept(graph, kept)
    assert lost_branch_findings(graph, transcript.last_prompt_leaf) == _plain_lost_branches(
        graph, transcript.last_prompt_leaf
    )
    # The tool findings name, per record, the first id the plain pairing finds.
    for known_uses, known_results in (
        (set(), set()),
        (set(cols.tool_ids[::3]), set(cols.tool_ids[1::3])),
    ):
        missing, orphans = _plain_unmatched_tools(transcript, known_uses, known_results)
        compacted = last_compaction_record(cols)
        named = {
            (f.kind, f.lines[0], f.explanation.split()[2 if f.kind.startswith("tool_use") else 8])
            for f in tool_findings(transcript, known_uses, known_results)
        }
        plain = {
            ("tool_use_without_result", cols.line[r], t)
            for r, t in missing.items()
            if r > compacted and cols.uid[r] >= 0
        } | {
            ("tool_result_without_use", cols.line[r], t + ",")
            for r, t in orphans.items()
            if r > compacted and cols.uid[r] >= 0
        }
        assert named == plain


@pytest.mark.parametrize("seed", range(12))
def test_generated_sessions_agree(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    session = generate_session(
        rng.randint(200, 900), seed=seed, inline_sidechains=seed % 3 == 0, compactions=seed % 2 == 0
    )
    for kind in rng.sample(BREAKAGE_KINDS, rng.randint(0, 3)):
        inject(session, kind, rng.randint(1, 3), rng)
    _check(write_generated_session(tmp_path / "s.jsonl", session))


@pytest.mark.parametrize("seed", range(8))
def test_sessions_with_many_lost_branches_agree(tmp_path: Path, seed: int) -> None:
    rng = random.Random(100 + seed)
    session = generate_session(rng.randint(300, 900), seed=seed, compactions=False)
    inject(session, "lost_branch", rng.randint(3, 8), rng)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    _check(path)
    transcript = read_transcript(path)
    assert lost_branch_findings(build_graph(transcript), transcript.last_prompt_leaf)


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.name[:60]) for p in real_client_files() + dev_files()]
)
def test_real_transcripts_agree(path: Path) -> None:
    _check(path)


def _line(uuid: str, parent: str | None, n: int, role: str = "user") -> bytes:
    ts = f"2025-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
    content = (
        f'"content":"prompt {n}"'
        if role == "user"
        else f'"id":"msg_{n}","content":[{{"type":"text","text":"answer {n}"}}]'
    )
    parent_json = "null" if parent is None else f'"{parent}"'
    return (
        f'{{"parentUuid":{parent_json},"isSidechain":false,"type":"{role}",'
        f'"message":{{"role":"{role}",{content}}},"uuid":"{uuid}","timestamp":"{ts}"}}\n'
    ).encode()


def _main_and_deep_branch(depth: int) -> list[bytes]:
    """main-0..main-2, then a branch of ``depth`` rows (deep-0 …) from main-1."""
    lines = [_line("main-0", None, 0)]
    lines += [_line(f"main-{n}", f"main-{n - 1}", n, ("user", "assistant")[n % 2]) for n in (1, 2)]
    lines += [
        _line(
            f"deep-{n}",
            "main-1" if n == 0 else f"deep-{n - 1}",
            3 + n,
            ("user", "assistant")[n % 2],
        )
        for n in range(depth)
    ]
    return lines


def test_odd_branch_shapes_agree(tmp_path: Path) -> None:
    """Branches the generator does not make: a deep one (many pointer-doubling
    rounds), one whose rows come before their parents in the file, a
    two-node cycle and a self-parented row hanging off nothing, and a branch
    below a parent the file does not hold."""
    # A deep branch from main-1: lost conversation 3,000 rows long.
    lines = _main_and_deep_branch(3000)
    # A branch written leaf first: its rows' parents come later in the file.
    lines += [_line("late-2", "late-1", 4000), _line("late-1", "late-0", 4001)]
    lines += [_line("late-0", "main-0", 4002, "assistant")]
    # A cycle and a self-parented row, with a row below each; a branch below a missing parent.
    lines += [_line("loop-a", "loop-b", 4003), _line("loop-b", "loop-a", 4004, "assistant")]
    lines += [_line("under-loop", "loop-a", 4005), _line("self", "self", 4006)]
    lines += [_line("under-self", "self", 4007, "assistant")]
    lines += [_line("stray-0", "not-in-file", 4008), _line("stray-1", "stray-0", 4009, "assistant")]
    # The chain resume follows goes on last, so it ends the file.
    lines += [_line("main-3", "main-2", 4010), _line("main-4", "main-3", 4011, "assistant")]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(lines))
    _check(path)
    transcript = read_transcript(path)
    found = lost_branch_findings(build_graph(transcript), transcript.last_prompt_leaf)
    assert [(f.message_ids, f.lost_messages) for f in found] == [
        (("deep-0", "deep-2999"), 3000),
        (("late-0", "late-2"), 3),
    ]


def _with_pointer_doubling(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[Finding]:
    """The findings when the general branch search runs even where parents come first."""
    with monkeypatch.context() as patched:
        patched.setattr(detect, "_branches_in_order", detect._branches)
        transcript = read_transcript(path)
        return lost_branch_findings(build_graph(transcript), transcript.last_prompt_leaf)


def test_branches_in_file_order_take_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where every parent comes before its children, one pass of flags finds the
    branches (`_branches_in_order`); pointer doubling must find the same."""
    lines = _main_and_deep_branch(500)
    # Two branches from main-0, one forking below its second row; rows below a missing parent.
    lines += [_line("fork-0", "main-0", 600), _line("fork-1", "fork-0", 601, "assistant")]
    lines += [_line("fork-2a", "fork-1", 602), _line("fork-2b", "fork-1", 603)]
    lines += [_line("stray-0", "not-in-file", 604), _line("stray-1", "stray-0", 605, "assistant")]
    lines += [_line("main-3", "main-2", 606), _line("main-4", "main-3", 607, "assistant")]
    path = tmp_path / "ordered.jsonl"
    path.write_bytes(b"".join(lines))
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    assert not graph.forward_indices  # the one-pass search is the one that runs
    found = lost_branch_findings(graph, transcript.last_prompt_leaf)
    assert [(f.message_ids, f.lost_messages) for f in found] == [
        (("deep-0", "deep-499"), 500),
        (("fork-0", "fork-2b"), 4),
    ]
    assert found == _plain_lost_branches(graph, transcript.last_prompt_leaf)
    assert _with_pointer_doubling(monkeypatch, path) == found


@pytest.mark.parametrize("seed", range(8))
def test_both_branch_searches_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(200 + seed)
    session = generate_session(rng.randint(300, 900), seed=seed, compactions=False)
    inject(session, "lost_branch", rng.randint(1, 6), rng)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    transcript = read_transcript(path)
    found = lost_branch_findings(build_graph(transcript), transcript.last_prompt_leaf)
    assert found
    assert _with_pointer_doubling(monkeypatch, path) == found


def _row(uuid: str, parent: str | None, n: int, role: str, content: list[dict[str, str]]) -> bytes:
    message: dict[str, object] = {"role": role, "content": content}
    if role == "assistant":
        message["id"] = f"msg_{n}"
    return (
        orjson.dumps(
            {
                "parentUuid": parent,
                "isSidechain": False,
                "type": role,
                "message": message,
                "uuid": uuid,
                "timestamp": f"2025-01-01T00:00:{n:02d}.000Z",
            }
        )
        + b"\n"
    )


def test_results_of_a_loaded_call_off_the_chain_are_not_lost(tmp_path: Path) -> None:
    """A user row with a tool result and text is conversation; off the resumed
    chain, it is still loaded (so not lost) when the call it answers is loaded,
    and lost when that call is on a branch resume does not load."""
    text = {"type": "text", "text": "and look at this"}
    lines = [
        _row("p0", None, 0, "user", [{"type": "text", "text": "go"}]),
        _row("a1", "p0", 1, "assistant", [{"type": "tool_use", "id": "t1", "name": "Bash"}]),
        # Off the chain: answers a1's call, which resume loads.
        _row("r1", "a1", 2, "user", [{"type": "tool_result", "tool_use_id": "t1"}, text]),
        # A branch resume does not load: its call, and a result of it.
        _row("b1", "p0", 3, "assistant", [{"type": "tool_use", "id": "t9", "name": "Bash"}]),
        _row("b2", "b1", 4, "user", [{"type": "tool_result", "tool_use_id": "t9"}, text]),
        _row("a2", "a1", 5, "assistant", [{"type": "text", "text": "done"}]),
        _row("p3", "a2", 6, "user", [{"type": "text", "text": "thanks"}]),
    ]
    path = tmp_path / "results.jsonl"
    path.write_bytes(b"".join(lines))
    _check(path)
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    assert resume_loss_count(graph, transcript.last_prompt_leaf) == 2  # b1 and b2, not r1
    found = lost_branch_findings(graph, transcript.last_prompt_leaf)
    assert [(f.message_ids, f.lost_messages) for f in found] == [(("b1", "b2"), 2)]


def test_one_chain_through_every_row(tmp_path: Path) -> None:
    """A linear session: resume keeps every row, nothing is lost."""
    lines = [_line("c-0", None, 0)]
    lines += [_line(f"c-{n}", f"c-{n - 1}", n, ("user", "assistant")[n % 2]) for n in range(1, 50)]
    path = tmp_path / "linear.jsonl"
    path.write_bytes(b"".join(lines))
    _check(path)
    transcript = read_transcript(path)
    graph = build_graph(transcript)
    kept = kept_indices(graph, resume_leaf_index(graph, transcript.last_prompt_leaf))
    assert kept == bytearray(b"\x01") * 50
    assert resume_loss_count(graph, transcript.last_prompt_leaf) == 0
