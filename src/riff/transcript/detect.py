"""Detectors: every kind of finding of cli-json.md, without false alarms on
shapes real Claude Code files have (progress leaves, parallel tool-call
branches, inline sidechain roots, compaction roots and summaries, links into
the session's other files or into a compacted-away row, clock skew, bursts of
equal timestamps). docs/findings.md shows the real shape behind each kind."""

from __future__ import annotations

import dataclasses
from array import array
from collections import Counter, deque
from collections.abc import Collection, Mapping, Sequence
from itertools import compress, repeat
from operator import and_, ge, not_
from pathlib import Path

from riff.transcript.api_rules import api_findings
from riff.transcript.findings import (
    CYCLE,
    DUPLICATE_UUID,
    ERROR,
    LOST_BRANCH,
    ORPHAN,
    TIMESTAMP_ANOMALY,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    UNEXPECTED_ROOT,
    WARNING,
    Finding,
)
from riff.transcript.graph import DANGLING, ROOT, MessageGraph
from riff.transcript.reader import read_line_bytes
from riff.transcript.records import (
    COMPACT_SUMMARY,
    CONVERSATION,
    META,
    SIDECHAIN,
    Columns,
    LineProblem,
    MessageRecord,
    Transcript,
)
from riff.transcript.resume import (
    kept_indices,
    last_compaction_record,
    lost_if_not_kept,
    resume_leaf_index,
    resume_loss_count,
)
from riff.transcript.timestamps import CLOCK_SKEW_S, seconds_between

_STRIP = b" \t\r\n\x00"
_INVERT = bytes.maketrans(b"\x00\x01", b"\x01\x00")
_ONLY_ZERO = bytes.maketrans(b"\x00\x01\x02", b"\x01\x00\x00")
_ONLY_ONE = bytes.maketrans(b"\x00\x01\x02", b"\x00\x01\x00")
_ONLY_TWO = bytes.maketrans(b"\x00\x01\x02", b"\x00\x00\x01")
_IN_BRANCH = b"\x00\x01\x01"


def build_graph(
    transcript: Transcript,
    *,
    known_uuids: Collection[str] = (),
    parent_overrides: Mapping[str, str | None] | None = None,
) -> MessageGraph:
    """The transcript's graph; ``known_uuids`` are uuids of the session's other files."""
    return MessageGraph.from_records(
        transcript.records, parent_overrides, external_uuids=known_uuids
    )


def detect_findings(
    transcript: Transcript,
    *,
    known_uuids: Collection[str] = (),
    known_tool_use_ids: Collection[str] = (),
    known_tool_result_ids: Collection[str] = (),
    parent_overrides: Mapping[str, str | None] | None = None,
    graph: MessageGraph | None = None,
) -> list[Finding]:
    """Every finding of one transcript file, ordered by line.

    ``known_*`` name what the session's other files hold (subagent and
    compaction-agent files), so links across files are not called broken.
    """
    if graph is None:
        graph = build_graph(transcript, known_uuids=known_uuids, parent_overrides=parent_overrides)
    findings: list[Finding] = []
    torn = _repairable_torn_lines(transcript)
    findings += line_findings(transcript, torn)
    findings += duplicate_findings(transcript)
    findings += orphan_findings(graph)
    findings += unexpected_root_findings(graph)
    findings += cycle_findings(graph)
    findings += _results_resume_loads(
        graph,
        transcript,
        tool_findings(
            transcript, known_tool_use_ids, known_tool_result_ids, torn=list(torn.values())
        ),
    )
    findings += timestamp_findings(graph)
    findings += lost_branch_findings(graph, transcript.last_prompt_leaf)
    findings += api_findings(transcript, graph, findings)
    findings.sort(key=lambda f: (f.lines[0] if f.lines else 0, f.kind))
    return findings


def _results_resume_loads(
    graph: MessageGraph, transcript: Transcript, findings: list[Finding]
) -> list[Finding]:
    """Tool findings, a tool_result without its call marked repairable where resume
    loads its row: that is where neutralize_tool_result rewrites it (a row resume does
    not load sends nothing to the API and is left alone)."""
    if not any(f.kind == TOOL_RESULT_WITHOUT_USE for f in findings):
        return findings
    kept = kept_indices(graph, resume_leaf_index(graph, transcript.last_prompt_leaf))
    out = []
    for f in findings:
        if f.kind == TOOL_RESULT_WITHOUT_USE:
            node = graph.get_index(f.message_ids[0])
            if node is not None and kept[node]:
                f = dataclasses.replace(f, repairable=True)
        out.append(f)
    return out


def resume_loss(
    transcript: Transcript,
    *,
    known_uuids: Collection[str] = (),
    parent_overrides: Mapping[str, str | None] | None = None,
    graph: MessageGraph | None = None,
) -> int:
    """How many conversation messages ``claude --resume`` would not load."""
    if graph is None:
        graph = build_graph(transcript, known_uuids=known_uuids, parent_overrides=parent_overrides)
    return resume_loss_count(graph, transcript.last_prompt_leaf)


def _columns(graph: MessageGraph) -> Columns:
    cols = graph.columns
    assert cols is not None, "detectors need MessageGraph.from_records"
    return cols


def _repairable_torn_lines(transcript: Transcript) -> dict[int, bytes]:
    """The bytes of each unreadable line quarantine_line repairs, by line number."""
    out: dict[int, bytes] = {}
    if not transcript.problems:
        return out
    # The repair planner (and the event core it builds on) loads only for a torn line.
    from riff.transcript.line_repairs import repairs_torn_line

    for problem in transcript.problems:
        data = _problem_bytes(transcript.path, problem)
        if repairs_torn_line(data):
            out[problem.line] = data
    return out


def line_findings(transcript: Transcript, torn: Mapping[int, bytes] | None = None) -> list[Finding]:
    """One finding per unreadable line; `torn`: the lines riff repairs (read when None)."""
    if torn is None:
        torn = _repairable_torn_lines(transcript)
    out = []
    for problem in transcript.problems:
        explanation = (
            f"Line {problem.line} (byte {problem.offset}) cannot be read: {problem.reason}; "
            f"{problem.claude_code}."
        )
        repairable = problem.line in torn
        out.append(
            Finding(problem.kind, WARNING, (), (problem.line,), explanation, repairable=repairable)
        )
    return out


def _problem_bytes(path: Path, problem: LineProblem) -> bytes:
    """The bytes of an unreadable line (b"" when the file cannot be read again)."""
    try:
        with open(path, "rb") as f:
            f.seek(problem.offset)
            return f.read(problem.length)
    except OSError:
        return b""


def _same_bytes(path: Path, a: MessageRecord, b: MessageRecord) -> bool:
    if a.length != b.length:
        return False
    try:
        return read_line_bytes(path, a).strip(_STRIP) == read_line_bytes(path, b).strip(_STRIP)
    except OSError:
        # The file is gone: compare what the records hold instead.
        return all(
            getattr(a, f) == getattr(b, f)
            for f in a.__struct_fields__
            if f not in ("line", "offset")
        )


def _same_row(path: Path, a: MessageRecord, b: MessageRecord) -> bool:
    from riff.transcript.line_repairs import same_row_again  # rare: a uuid written twice

    try:
        return same_row_again(read_line_bytes(path, a), read_line_bytes(path, b))
    except OSError:
        return False


def duplicate_findings(transcript: Transcript) -> list[Finding]:
    cols = transcript.columns
    # The reader lists records whose uuid was seen before (rare): group only those.
    by_uuid: dict[str, list[MessageRecord]] = {}
    for i in cols.duplicates:
        node = cols.uid[i]
        uuid = cols.uuids[node]
        if uuid not in by_uuid:
            by_uuid[uuid] = [cols.record(cols.node_rec[node])]
        by_uuid[uuid].append(cols.record(i))
    out = []
    for uuid, records in by_uuid.items():
        first = records[0]
        lines = tuple(r.line for r in records)
        where = ", ".join(str(n) for n in lines)
        if all(_same_bytes(transcript.path, first, r) for r in records[1:]):
            severity, repairable = WARNING, True
            reason = f"Lines {where} are identical copies of one message; only one is used."
        elif all(_same_row(transcript.path, first, r) for r in records[1:]):
            severity, repairable = WARNING, True
            reason = (
                f"Lines {where} hold one message written more than once (the same "
                "content in other bytes); only one is used."
            )
        else:
            severity, repairable = ERROR, False
            reason = (
                f"Lines {where} are different messages sharing uuid {uuid}; "
                "resume keeps only one of them."
            )
        out.append(Finding(DUPLICATE_UUID, severity, (uuid,), lines, reason, repairable=repairable))
    return out


def _compacted_away(cols: Columns) -> dict[str, int]:
    """Rows a compaction names as logical parent (they may be missing), with its record."""
    return {uuid: r for r, uuid in cols.logical.items()}


def orphan_findings(graph: MessageGraph) -> list[Finding]:
    """Rows whose parent is missing, except where Claude Code leaves it missing.

    Not orphans: the file's first row (a session continued from another file:
    nothing before it can be lost) unless the file starts later with a prompt of
    its own (see ``file_start``), and rows written before a compaction whose
    parent is the row the compaction names as its logical parent (Claude Code
    does not always write that row).
    """
    cols = _columns(graph)
    out = []
    compacted = _compacted_away(cols)
    starts_with_continuation = file_start(graph) <= 0
    for i in graph.indices_with_parent(DANGLING):
        if i == 0 and starts_with_continuation:
            continue
        line = cols.line[cols.node_rec[i]]
        parent = graph.parent_of(graph.uuid_at(i))
        boundary = compacted.get(parent) if parent is not None else None
        if boundary is not None and boundary > cols.node_rec[i]:
            continue
        out.append(
            Finding(
                ORPHAN,
                ERROR,
                (graph.uuid_at(i),),
                (line,),
                f"Line {line} points to parent {parent}, which is not in this session, "
                "so resume stops here and drops everything before it.",
                repairable=True,
            )
        )
    return out


def _expected_root(cols: Columns, r: int, first_root: bool, first_sidechain_root: bool) -> bool:
    """Is a null parent on record ``r`` one Claude Code writes on purpose?"""
    line_type, subtype, _, flags = cols.shapes[cols.shape[r]]
    if flags & SIDECHAIN:
        # A sidechain starts at its own root: the first of the file (a subagent
        # file) or, inline (1.x), the subagent's prompt. A sidechain's tool
        # result or assistant row with a null parent was cut mid-sidechain.
        prompt = line_type == "user" and flags & CONVERSATION and cols.tools_of(r) is None
        return first_sidechain_root or bool(prompt)
    return (
        first_root
        or r in cols.logical  # compaction names its logical parent
        or subtype == "compact_boundary"
        or bool(flags & COMPACT_SUMMARY)  # 1.x compaction summary: a root by design
    )


def first_main_node(cols: Columns) -> int:
    """The file's first node outside any sidechain (-1: none)."""
    shape, shapes = cols.shape, cols.shapes
    return next((i for i, r in enumerate(cols.node_rec) if not shapes[shape[r]][3] & SIDECHAIN), -1)


def _is_plain_prompt(cols: Columns, r: int) -> bool:
    """A person's prompt row (not a tool result, meta row or compaction summary)."""
    line_type, _, _, flags = cols.shapes[cols.shape[r]]
    return (
        line_type == "user"
        and flags & (CONVERSATION | META | COMPACT_SUMMARY | SIDECHAIN) == CONVERSATION
        and cols.tools_of(r) is None
    )


def file_start(graph: MessageGraph) -> int:
    """The node that starts the file's main chain (-1: the file has no main row).

    Usually its first main row. The 2.1.x REPL can write a new session's first
    prompt after the assistant rows that answer it: then the first main root
    starts the file when every main row before it descends from it (nothing
    before it is dropped), or when it is a person's prompt. A session continued
    from another file has no prompt root of its own before a compaction; a
    file whose first main root is a prompt began here, so a row written before
    that prompt and not under it lost its link (cut or nulled)."""
    cols = _columns(graph)
    first_main = first_main_node(cols)
    node_rec, shape, shapes = cols.node_rec, cols.shape, cols.shapes
    main_roots = [
        i for i in graph.indices_with_parent(ROOT) if not shapes[shape[node_rec[i]]][3] & SIDECHAIN
    ]
    root = main_roots[0] if main_roots else -1
    prompt = next((i for i in main_roots if _is_plain_prompt(cols, node_rec[i])), -1)
    if prompt > first_main and (prompt == root or _answer_row(cols, node_rec[root])):
        return prompt
    if root <= first_main:
        return first_main
    return _root_written_after_its_descendants(graph, cols, first_main, root)


def _answer_row(cols: Columns, r: int) -> bool:
    """An assistant row or a tool result: a row that never starts a conversation."""
    line_type = cols.shapes[cols.shape[r]][0]
    return line_type == "assistant" or (line_type == "user" and cols.tools_of(r) is not None)


def _root_written_after_its_descendants(
    graph: MessageGraph, cols: Columns, first_main: int, root: int
) -> int:
    """``root`` if every main row before it descends from it, else ``first_main``."""
    node_rec, shape, shapes = cols.node_rec, cols.shape, cols.shapes
    below = {root}
    for j in range(first_main, root):
        if shapes[shape[node_rec[j]]][3] & SIDECHAIN:
            continue
        walked: list[int] = []
        k = j
        while k >= 0 and k not in below and len(walked) <= root:
            walked.append(k)
            k = graph.parent_index(k)
        if k not in below:
            return first_main
        below.update(walked)
    return root


def unexpected_root_findings(graph: MessageGraph) -> list[Finding]:
    """Null parents that are not the start of the file, of a sidechain or of a compaction."""
    cols = _columns(graph)
    out = []
    first_sidechain_root_seen = False
    node_rec, shape, shapes = cols.node_rec, cols.shape, cols.shapes
    # Only the file's start may be a root: a later root cuts the chain even
    # when the file has no root of its own (it continues another file).
    first_main = file_start(graph)
    roots = graph.indices_with_parent(ROOT)
    for i in roots:
        r = node_rec[i]
        is_sidechain = bool(shapes[shape[r]][3] & SIDECHAIN)
        expected = _expected_root(cols, r, i == first_main, not first_sidechain_root_seen)
        if is_sidechain:
            first_sidechain_root_seen = True
        if expected:
            continue
        line = cols.line[r]
        out.append(
            Finding(
                UNEXPECTED_ROOT,
                ERROR,
                (graph.uuid_at(i),),
                (line,),
                f"Line {line} has no parent although it is not the start of the "
                "conversation, so resume drops everything before it.",
                repairable=True,
            )
        )
    return out


def cycle_findings(graph: MessageGraph) -> list[Finding]:
    cols = _columns(graph)
    line, node_rec = cols.line, cols.node_rec
    out = []
    for cycle in graph.cycle_indices():
        ordered = sorted(cycle, key=lambda i: line[node_rec[i]])
        lines = tuple(line[node_rec[i]] for i in ordered)
        out.append(
            Finding(
                CYCLE,
                ERROR,
                tuple(graph.uuid_at(i) for i in ordered),
                lines,
                f"{len(cycle)} message(s) on lines {', '.join(map(str, lines[:5]))} are each "
                "other's ancestors, so their chain never reaches the start of the conversation.",
                repairable=True,
            )
        )
    return out


def _first_unmatched(
    records: array[int],
    tool_ids: list[str],
    side: bytes | bytearray,
    other_side: set[str],
    known: Collection[str],
) -> dict[int, str]:
    """The first tool id of each record, among those ``side`` flags, that neither
    ``other_side`` nor ``known`` holds. Ids and records are read through the
    flags where they lie (copies of them cost 3.5 MB at 20,000 tool ids)."""
    unmatched = map(not_, map(other_side.__contains__, compress(tool_ids, side)))
    if known:
        unmatched = map(
            and_, unmatched, map(not_, map(known.__contains__, compress(tool_ids, side)))
        )
    first: dict[int, str] = {}
    pairs = zip(compress(records, side), compress(tool_ids, side), strict=True)
    for record, tool_id in compress(pairs, unmatched):
        first.setdefault(record, tool_id)
    return first


def tool_findings(
    transcript: Transcript,
    known_tool_use_ids: Collection[str] = (),
    known_tool_result_ids: Collection[str] = (),
    *,
    torn: Sequence[bytes] = (),
) -> list[Finding]:
    """Tool calls without a result and results without a call. `torn`: the unreadable
    lines riff repairs; a result whose call one of them holds comes back with it."""
    cols = transcript.columns
    ids, kind, tool_rec = cols.tool_ids, cols.tool_kind, cols.tool_rec
    is_use = bytes(kind).translate(_INVERT)
    # First unanswered call and first unasked-for result of each record, by
    # record: membership tests are C loops over one side's ids against a set
    # of the other's (made, used and dropped in turn).
    missing = _first_unmatched(
        tool_rec, ids, is_use, set(compress(ids, kind)), known_tool_result_ids
    )
    orphans = _first_unmatched(tool_rec, ids, kind, set(compress(ids, is_use)), known_tool_use_ids)
    if not missing and not orphans:
        return []
    # Resume never sends what lies before the last compaction: an unanswered
    # call there (the session was compacted during it) harms nothing.
    compacted = last_compaction_record(cols)
    missing = {r: t for r, t in missing.items() if r > compacted}
    orphans = {r: t for r, t in orphans.items() if r > compacted}
    last_user_line = 0
    shape, shapes = cols.shape, cols.shapes
    for i in range(len(cols) - 1, -1, -1):
        line_type, _, _, flags = shapes[shape[i]]
        if line_type == "user" and not flags & SIDECHAIN:
            last_user_line = cols.line[i]
            break
    out = []
    for i in sorted(missing.keys() | orphans.keys()):
        uid = cols.uid[i]
        if uid < 0:
            continue
        uuid = cols.uuids[uid]
        line = cols.line[i]
        if i in missing:
            at_end = line > last_user_line
            out.append(
                Finding(
                    TOOL_USE_WITHOUT_RESULT,
                    WARNING if at_end else ERROR,
                    (uuid,),
                    (line,),
                    f"Tool call {missing[i]} on line {line} never got a result"
                    + (
                        " (the session ended during it)."
                        if at_end
                        else ", so the API rejects the conversation or resume drops the line."
                    ),
                    # insert_tool_result answers every call after the last compaction.
                    repairable=True,
                )
            )
        if i in orphans:
            out.append(
                Finding(
                    TOOL_RESULT_WITHOUT_USE,
                    ERROR,
                    (uuid,),
                    (line,),
                    f"Line {line} holds a result for tool call {orphans[i]}, which no "
                    "message made, so the API rejects the conversation.",
                    # Its call comes back with a torn line riff splits; otherwise
                    # neutralize_tool_result rewrites it where resume loads it
                    # (detect_findings sets the flag from the chain).
                    repairable=any(orphans[i].encode() in line for line in torn),
                )
            )
    return out


def _timestamped_row(cols: Columns, r: int) -> bool:
    """Progress rows are stamped out of order on purpose (written while a call
    runs): they are not evidence of a wrong parent."""
    return cols.shapes[cols.shape[r]][0] != "progress"


def timestamp_findings(graph: MessageGraph) -> list[Finding]:
    """A row older than its parent by more than clock skew explains (CLOCK_SKEW_S)."""
    cols = _columns(graph)
    node_rec, uid = cols.node_rec, cols.uid
    # Only a line older than an earlier line, or one whose parent comes later
    # (or was changed), can be older than its parent.
    suspects = {uid[i] for i in cols.ts_suspects if uid[i] >= 0 and node_rec[uid[i]] == i}
    suspects.update(graph.forward_indices)
    out = []
    for i in sorted(suspects):
        p = graph.parent_index(i)
        if p < 0:
            continue
        child_ts = cols.timestamp(node_rec[i])
        parent_ts = cols.timestamp(node_rec[p])
        if child_ts is None or parent_ts is None:
            continue
        if not (_timestamped_row(cols, node_rec[i]) and _timestamped_row(cols, node_rec[p])):
            continue
        if child_ts < parent_ts and seconds_between(child_ts, parent_ts) > CLOCK_SKEW_S:
            line, parent_line = cols.line[node_rec[i]], cols.line[node_rec[p]]
            out.append(
                Finding(
                    TIMESTAMP_ANOMALY,
                    WARNING,
                    (graph.uuid_at(i), graph.uuid_at(p)),
                    (line, parent_line),
                    f"Line {line} ({child_ts}) is older than its parent on line "
                    f"{parent_line} ({parent_ts}), which suggests a wrong parent.",
                    repairable=False,
                )
            )
    return out


def lost_branch_findings(graph: MessageGraph, last_prompt_leaf: str | None = None) -> list[Finding]:
    """Branches off the resumed chain that hold conversation resume will not load.

    Branches of only progress, tool-result or meta lines (hook progress) are
    normal and not reported; neither are rows resume loads although they are
    off its chain (parallel tool calls: the rest of a loaded response and the
    results of its calls), rows before the last compaction, or other trees of
    the file (they are orphan/unexpected_root consequences, sidechains or
    compacted history).
    """
    cols = _columns(graph)
    kept = kept_indices(graph, resume_leaf_index(graph, last_prompt_leaf))
    # Every descendant of a node resume does not load is not loaded either, so
    # the branches live among the nodes that are not kept (real files: ~40% of
    # rows, mostly progress). C loops sort them out, with no Python step per
    # row: a node whose parent is kept starts a branch, one whose parent is
    # not kept hangs below it. Node numbers are held in arrays and flags in
    # bytes: a list would hold a pointer and a 28-byte int per node (14 MB at
    # the 108,000 rows of a real-shaped 301 MB session, the peak of its scan).
    not_kept = array("i", compress(range(len(kept)), kept.translate(_INVERT)))
    if not not_kept:  # one chain: nothing to count (a million rows: 0.25 s saved)
        return []
    counted = lost_if_not_kept(graph, kept)
    parents = graph.parent_array
    their_parents = array("i", map(parents.__getitem__, not_kept))
    # 1: the parent is kept (a branch starts here), 0: it is not (the node
    # hangs below it), 2: no parent in the file (the sentinel past the end).
    parent_kept = bytes(map((bytes(kept) + b"\x02\x02\x02").__getitem__, their_parents))
    find_branches = _branches if graph.forward_indices else _branches_in_order
    in_branch, head = find_branches(parents, not_kept, their_parents, parent_kept)
    lost = Counter(compress(head, map(counted.__getitem__, in_branch)))
    if not lost:
        return []
    # A branch's leaf is its last row in the file with nothing of the branch
    # below it. Nodes are numbered in file order, so zipping the leaves in
    # node order leaves each branch's last one in the dict. (Every parent of
    # a branch node is in the file: the branch, or the kept node it starts at.)
    has_below = bytearray(len(kept))
    deque(map(has_below.__setitem__, map(parents.__getitem__, in_branch), repeat(1)), maxlen=0)
    is_leaf = bytes(map(not_, map(has_below.__getitem__, in_branch)))
    last_leaf = dict(zip(compress(head, is_leaf), compress(in_branch, is_leaf), strict=True))
    node_rec, line = cols.node_rec, cols.line
    out = []
    for start in sorted(lost):
        leaf = last_leaf.get(start, start)
        first, last = line[node_rec[start]], line[node_rec[leaf]]
        out.append(
            Finding(
                LOST_BRANCH,
                WARNING,
                (graph.uuid_at(start), graph.uuid_at(leaf)),
                (first, last),
                f"A branch from line {first} to line {last} holds {lost[start]} "
                "message(s) that resume will not load, because it continues another branch.",
                repairable=False,
                lost_messages=lost[start],
            )
        )
    return out


def _branches_in_order(
    parents: array[int], not_kept: array[int], their_parents: array[int], parent_kept: bytes
) -> tuple[array[int], array[int]]:
    """`_branches` for a graph where every parent comes before its children.

    One pass in node order then settles every node, and it moves flags, not
    int objects: on real files a few hundred of a hundred thousand nodes not
    kept are in a branch (the rest hang below rows the file does not hold:
    other trees, sidechains). Only those get their head looked up.
    """
    nodes = len(parents)
    below = parent_kept.translate(_ONLY_ZERO)
    # 2: starts a branch, 1: below a node of a branch, 0: in none.
    branch = bytearray(nodes)
    deque(
        map(branch.__setitem__, compress(not_kept, parent_kept.translate(_ONLY_ONE)), repeat(2)),
        maxlen=0,
    )
    # Lazy maps: each node reads its parent's flag after the parent's was written.
    deque(
        map(
            branch.__setitem__,
            compress(not_kept, below),
            map(_IN_BRANCH.__getitem__, map(branch.__getitem__, compress(their_parents, below))),
        ),
        maxlen=0,
    )
    in_branch = array("i", compress(range(nodes), branch))
    head = array("i", [-1]) * nodes
    starts = array("i", compress(range(nodes), branch.translate(_ONLY_TWO)))
    deque(map(head.__setitem__, starts, starts), maxlen=0)
    under = array("i", compress(range(nodes), branch.translate(_ONLY_ONE)))
    deque(
        map(head.__setitem__, under, map(head.__getitem__, map(parents.__getitem__, under))),
        maxlen=0,
    )
    return in_branch, array("i", map(head.__getitem__, in_branch))


def _branches(
    parents: array[int], not_kept: array[int], their_parents: array[int], parent_kept: bytes
) -> tuple[array[int], array[int]]:
    """The nodes of ``not_kept`` that are in a branch, and the node starting each one's.

    A branch starts at a node whose parent is kept; the others follow their
    parent up, wherever in the file it is. Pointer doubling (every node's
    pointer replaced by its pointer's pointer) gets there in log2(depth)
    rounds of C loops whatever the node order; a first pass in node order
    leaves it almost nothing to do. What hangs from a missing parent ends at
    -1; a cycle ends on one of its own nodes, which starts nothing, so it
    ends at -1 too.
    """
    nodes = len(parents)
    # A list, not an array: the passes below read and write every entry, and
    # an array makes an int object at each read (a list shares its own).
    head = [-1] * (nodes + 1)  # the last entry is -1's own (read as head[-1])
    starts = parent_kept.translate(_ONLY_ONE)
    below = parent_kept.translate(_ONLY_ZERO)
    deque(map(head.__setitem__, compress(not_kept, starts), compress(not_kept, starts)), maxlen=0)
    deque(
        map(head.__setitem__, compress(not_kept, below), compress(their_parents, below)),
        maxlen=0,
    )
    # One pass in node order first: maps are lazy, so each node reads its
    # parent's head after the parent's was written, which settles every node
    # written after its parent (all but a few) in a single C loop.
    parent_heads = map(head.__getitem__, map(head.__getitem__, not_kept))
    deque(map(head.__setitem__, not_kept, parent_heads), maxlen=0)
    current = list(map(head.__getitem__, not_kept))
    for _ in range(nodes.bit_length() + 1):
        following = list(map(head.__getitem__, current))
        if following == current:
            break
        current = following
        deque(map(head.__setitem__, not_kept, current), maxlen=0)
    # What ended on a node that starts nothing is in no branch: map each head
    # through a table that holds only the starts.
    start_or_none = [-1] * (nodes + 1)
    deque(
        map(start_or_none.__setitem__, compress(not_kept, starts), compress(not_kept, starts)),
        maxlen=0,
    )
    heads = array("i", map(start_or_none.__getitem__, current))
    in_branch = bytes(map(ge, heads, repeat(0)))
    return array("i", compress(not_kept, in_branch)), array("i", compress(heads, in_branch))
