from __future__ import annotations

import random
from pathlib import Path

import orjson

from riff.transcript.reader import read_transcript
from riff.transcript.suggest import RULES, ConversationRepairEngine
from riff.transcript.validation import validate_repair
from tests.factories import generate_session, inject, write_generated_session


def _broken(tmp_path: Path, seed: int, cuts: int = 12, inline: bool = False):  # type: ignore[no-untyped-def]
    session = generate_session(800, seed=seed, inline_sidechains=inline)
    rng = random.Random(seed)
    truths = [
        t
        for _ in range(cuts)
        for t in inject(session, rng.choice(["orphan", "unexpected_root"]), 1, rng)
    ]
    return read_transcript(write_generated_session(tmp_path / f"s{seed}.jsonl", session)), truths


def test_best_candidate_is_the_true_parent(tmp_path: Path) -> None:
    hits = total = 0
    for seed in range(4):
        transcript, truths = _broken(tmp_path, seed, inline=seed % 2 == 1)
        engine = ConversationRepairEngine()
        orphans = {r.uuid for r in engine.find_orphaned_messages(transcript)}
        for truth in truths:
            assert truth.message_id in orphans
            candidates = engine.suggest_parent_candidates(transcript, truth.message_id or "", 3)
            assert candidates and all(0.0 <= c.score <= 1.0 for c in candidates)
            assert [c.score for c in candidates] == sorted(
                (c.score for c in candidates), reverse=True
            )
            assert "probability" in candidates[0].signals
            assert set(candidates[0].signals) - {"probability"} <= {
                *RULES,
                "nearby",
                "later_than_child",
                "unreadable_line_between",
            }
            total += 1
            hits += candidates[0].parent_uuid == truth.true_parent
    assert hits / total >= 0.9


def test_candidates_never_make_cycles_or_break_time(tmp_path: Path) -> None:
    transcript, _ = _broken(tmp_path, 9, cuts=3)
    engine = ConversationRepairEngine(window=400)
    graph = engine.index(transcript).graph
    parents = graph.parent_map()
    times = {r.uuid or "": r.timestamp for r in transcript.messages}
    for record in transcript.messages[::7]:
        assert record.uuid is not None
        for candidate in engine.suggest_parent_candidates(transcript, record.uuid, 50):
            assert validate_repair(parents, times, record.uuid, candidate.parent_uuid) == []


def test_tool_result_goes_to_its_tool_use_across_parallel_calls(tmp_path: Path) -> None:
    def line(
        uuid: str, parent: str | None, kind: str, content: object, ts: int
    ) -> dict[str, object]:
        return {
            "type": kind,
            "uuid": uuid,
            "parentUuid": parent,
            "timestamp": f"2025-01-01T00:00:{ts:02d}.000Z",
            "message": {"role": kind, "content": content},
        }

    use = lambda tid: [{"type": "tool_use", "id": tid, "name": "Read", "input": {}}]  # noqa: E731
    res = lambda tid: [{"type": "tool_result", "tool_use_id": tid, "content": "x"}]  # noqa: E731
    lines = [
        line("u", None, "user", "read both files", 0),
        line("a1", "u", "assistant", use("t1"), 1),
        line("a2", "a1", "assistant", use("t2"), 1),
        line("a3", "a2", "assistant", use("t3"), 1),
        line("r1", "gone", "user", res("t1"), 2),
        line("r2", "a2", "user", res("t2"), 2),
        line("r3", "a3", "user", res("t3"), 2),
    ]
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    transcript = read_transcript(path)
    engine = ConversationRepairEngine()
    assert [r.uuid for r in engine.find_orphaned_messages(transcript)] == ["r1"]
    best = engine.suggest_parent_candidates(transcript, "r1", 3)[0]
    assert best.parent_uuid == "a1" and best.signals["tool_use_holder"] == 1.0
    suggestions = engine.suggest_all(transcript)
    assert suggestions[0].to_json()["candidates"][0]["parent_uuid"] == "a1"


def test_parent_overrides_are_respected(tmp_path: Path) -> None:
    transcript, truths = _broken(tmp_path, 2, cuts=2)
    engine = ConversationRepairEngine()
    fixed = {t.message_id or "": t.true_parent for t in truths}
    assert engine.find_orphaned_messages(transcript, fixed) == []
    assert len(engine.find_orphaned_messages(transcript)) == 2


def test_unknown_message_has_no_candidates(tmp_path: Path) -> None:
    transcript, _ = _broken(tmp_path, 3, cuts=1)
    assert ConversationRepairEngine().suggest_parent_candidates(transcript, "nope") == []


def test_descendant_check_walks_as_the_graph_does(tmp_path: Path) -> None:
    """is_descendant keeps each node's answer between calls: asked in any order, on a
    session with cycles and orphans, it answers what walking up the parents does."""
    from riff.transcript.suggest import SessionIndex

    session = generate_session(160, seed=5)
    rng = random.Random(5)
    for kind in ("cycle", "orphan", "cycle", "unexpected_root"):
        inject(session, kind, 2, rng)
    path = write_generated_session(tmp_path / "s.jsonl", session)
    index = SessionIndex(read_transcript(path))
    graph = index.graph
    nodes = list(range(len(graph)))
    cycled = [i for i in nodes if i in graph.ancestor_indices(graph.parent_array[i])]
    assert cycled  # the check walks into cycles too
    for ancestor in rng.sample(nodes, 25) + cycled[:5]:
        for node in rng.sample(nodes, len(nodes)):
            expected = node == ancestor or ancestor in graph.ancestor_indices(node)
            assert index.is_descendant(node, ancestor) is expected, (node, ancestor)


def test_a_progress_row_is_offered_the_row_of_its_tool_call(tmp_path: Path) -> None:
    # Two calls run in parallel; a progress row of the first, cut from its parent,
    # comes after the second call: the call it reports on holds it.
    def row(uuid: str, parent: str | None, kind: str, ts: int, **extra: object) -> bytes:
        line = {
            "type": kind,
            "uuid": uuid,
            "parentUuid": parent,
            "timestamp": f"2025-01-01T00:00:{ts:02d}.000Z",
            **extra,
        }
        return orjson.dumps(line) + b"\n"

    def call(tool_id: str) -> dict[str, object]:
        return {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}],
        }

    path = tmp_path / "s.jsonl"
    path.write_bytes(
        row("u", None, "user", 0, message={"role": "user", "content": "run both"})
        + row("a1", "u", "assistant", 1, message=call("t1"))
        + row("a2", "a1", "assistant", 1, message=call("t2"))
        + row("p2", "a2", "progress", 2, toolUseID="t2", parentToolUseID="t2", data={})
        + row("p1", "gone", "progress", 2, toolUseID="t1", parentToolUseID="t1", data={})
    )
    transcript = read_transcript(path)
    engine = ConversationRepairEngine()
    assert [r.uuid for r in engine.find_orphaned_messages(transcript)] == ["p1"]
    candidates = engine.suggest_parent_candidates(transcript, "p1", 5)
    by_parent = {c.parent_uuid: c.signals for c in candidates}
    assert by_parent["a1"].get("tool_use_holder") == 1.0
