"""Detection and parent suggestions on real Claude Code transcripts.

Breaks real files on purpose (riff.testing.real_breaks: cut, null, drop,
tear, duplicate; every other byte kept), then measures, per Claude Code
version family and per line type of the broken row:

- detection: the break is named by a finding;
- top-1 / top-3: the true parent is riff's first / among its first three
  candidates, beside the naive rule "the previous user/assistant/system line";
- auto-apply precision: of what ``repair --yes`` would write (best candidate
  at or above the threshold, validated), how much is the true parent;
- collateral: lines ``repair --yes --write`` changes that no break touched;
- on the untouched files: every finding (false alarms must be 0; genuine
  properties such as a half-written last line are listed apart) and the lines
  a repair would change (must be 0);
- a reliability table: top-1 score bucket -> observed precision, and the
  precision of everything at or above each bucket's lower bound (what a
  threshold there would apply).

What counts as right. For a cut or nulled link the true parent is the old one.
A dropped or torn row takes its uuid with it, so its children all point at a
uuid no line holds; the right parent for each of them is the lost row's own
parent, the nearest ancestor that survives. With that repair the file resumes
the rows the untouched file resumed, minus the lost one, in the same order
(any other parent either skips rows or loads rows the untouched file did not
load); the bench checks this for every break with riff's resume model
(``truth check`` below). A tool_result whose call was the lost row keeps its
orphaned result either way: that is the lost row's damage, not the repair's.

Inputs: the real development set (``--corpus``, default ``$RIFF_DEV_CORPUS`` or
the development corpus beside the checkout) and ``tests/fixtures/real_client``. Timing is not the
point here; the figures are counts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from riff.maps import Overlay
from riff.testing.real_breaks import (
    BREAK_KINDS,
    Row,
    breakable_rows,
    inject,
    pick_targets,
    read_rows,
    split_lines,
)
from riff.transcript.detect import detect_findings
from riff.transcript.findings import Finding
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_transcript
from riff.transcript.records import Transcript
from riff.transcript.resume import resume_chain_array, resume_leaf_index
from riff.transcript.suggest import AUTO_APPLY_SCORE, ConversationRepairEngine
from riff.transcript.validation import validate_repair
from riff.transcript.write import apply_parent_changes

REPO = Path(__file__).resolve().parent.parent
GENUINE = {"truncated_line", "malformed_line"}
"""Finding kinds that name bytes really wrong in a file Claude Code wrote."""
BUCKETS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0001)


def default_corpus() -> Path:
    named = os.environ.get("RIFF_DEV_CORPUS")
    return Path(named) if named else REPO.parent / "shared" / "corpus" / "dev"


def family(data: bytes) -> str:
    versions: Counter[str] = Counter()
    for raw in data.split(b"\n")[:2000]:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("version"), str):
            versions[".".join(obj["version"].split(".")[:2])] += 1
    return versions.most_common(1)[0][0] if versions else "?"


def is_genuine(finding: Finding) -> bool:
    if finding.kind in GENUINE:
        return True
    # A session that ended during a tool call: the call really has no result.
    return finding.kind == "tool_use_without_result" and finding.severity == "warning"


def naive_parent(rows: list[Row], broken: Row | None, uuid: str) -> str | None:
    """The previous user/assistant/system row in file order."""
    position = next((k for k, r in enumerate(rows) if r.uuid == uuid), None)
    if position is None:
        return None
    for r in reversed(rows[:position]):
        if r.type in ("user", "assistant", "system"):
            return r.uuid
    return None


@dataclass
class Tally:
    cases: int = 0
    detected: int = 0
    top1: int = 0
    top3: int = 0
    naive: int = 0
    applied: int = 0
    applied_right: int = 0
    false_alarms: int = 0
    """Findings on the untouched files that are not genuine (must be 0)."""
    collateral: int = 0
    """Lines repair --yes changed that no break touched, untouched files included (must be 0)."""

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Results:
    by_family: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    scores: list[tuple[float, bool]] = field(default_factory=list)
    raw: list[tuple[float, bool]] = field(default_factory=list)
    collateral: int = 0
    duplicates: int = 0
    duplicates_detected: int = 0
    duplicate_rewrites: int = 0
    untouched_false: Counter[str] = field(default_factory=Counter)
    untouched_genuine: Counter[str] = field(default_factory=Counter)
    untouched_changed: int = 0
    misses: list[str] = field(default_factory=list)
    by_seed: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    wrong_applied: list[str] = field(default_factory=list)
    truth_checked: int = 0
    truth_mismatch: list[str] = field(default_factory=list)


def auto_plan(
    engine: ConversationRepairEngine, transcript: Transcript, threshold: float
) -> dict[str, str | None]:
    """What ``repair --yes`` writes: each orphan's best candidate at or above the
    threshold, validated in order (later repairs see earlier ones)."""
    changes: dict[str, str | None] = {}
    parents = Overlay(transcript.parent_map(), changes)  # reads the changes as they grow
    times = transcript.timestamp_map()
    for orphan in engine.suggest_all(transcript, k=1):
        if not orphan.candidates or orphan.candidates[0].score < threshold:
            continue
        best = orphan.candidates[0].parent_uuid
        if validate_repair(parents, times, orphan.message_id, best):
            continue
        changes[orphan.message_id] = best
    return changes


def resumed(transcript: Transcript, overrides: dict[str, str | None] | None = None) -> set[str]:
    """The chain riff's resume model loads: from the resume leaf up through parentUuid
    (not through a compaction's logicalParentUuid: what lies before is never sent)."""
    graph = MessageGraph.from_records(transcript.records, overrides)
    leaf = resume_leaf_index(graph, transcript.last_prompt_leaf)
    return set() if leaf is None else {graph.uuid_at(i) for i in resume_chain_array(graph, leaf)}


def check_truth(
    original: Path, broken: Transcript, expected: dict[str, str | None], lost: set[str]
) -> bool:
    """Whether the file with every true parent applied resumes the untouched file's
    rows minus the lost ones (the definition of the truth for a lost row's children)."""
    return resumed(broken, expected) == resumed(read_transcript(original)) - lost


def changed_lines(before: bytes, after: bytes) -> set[int]:
    a, _ = split_lines(before)
    b, _ = split_lines(after)
    if len(a) != len(b):
        return set(range(max(len(a), len(b))))
    return {i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}


def apply_copy(path: Path, changes: dict[str, str | None]) -> bytes:
    transcript = read_transcript(path)
    if changes:
        apply_parent_changes(path, changes, transcript.fingerprint, backup=False)
    return path.read_bytes()


def check_untouched(
    path: Path, data: bytes, fam: str, work: Path, threshold: float, res: Results
) -> None:
    copy = work / path.name
    copy.write_bytes(data)
    transcript = read_transcript(copy)
    for finding in detect_findings(transcript):
        where = f"{path.name}:{finding.lines[0] if finding.lines else '?'}"
        if is_genuine(finding):
            res.untouched_genuine[finding.kind] += 1
        else:
            res.untouched_false[finding.kind] += 1
            res.by_family[fam].false_alarms += 1
            res.misses.append(f"false alarm {finding.kind} at {where}")
    changes = auto_plan(ConversationRepairEngine(), transcript, threshold)
    after = apply_copy(copy, changes)
    changed = len(changed_lines(data, after))
    res.untouched_changed += changed
    res.by_family[fam].collateral += changed


def run_trial(
    path: Path,
    data: bytes,
    fam: str,
    kind: str,
    rows: list[Row],
    targets: list[Row],
    rng: random.Random,
    work: Path,
    threshold: float,
    res: Results,
    seed: int,
) -> None:
    broken = inject(data, kind, targets, rng, rows)
    copy = work / f"{kind}-{path.name}"
    broken_bytes = broken.to_bytes()
    copy.write_bytes(broken_bytes)
    transcript = read_transcript(copy)
    findings = detect_findings(transcript)
    named = {m for f in findings for m in f.message_ids[:1]}
    if kind == "duplicate":
        dup = {m for f in findings if f.kind == "duplicate_uuid" for m in f.message_ids}
        for b in broken.breaks:
            res.duplicates += 1
            res.duplicates_detected += b.row.uuid in dup
    engine = ConversationRepairEngine()
    broken_rows = read_rows(broken.lines)
    by_uuid = {r.uuid: r for r in rows}
    expected: dict[str, str | None] = {}
    for b in broken.breaks:
        for uuid in b.broken_ids:
            expected[uuid] = b.true_parent
            row = by_uuid[uuid]
            tally = Tally(cases=1, detected=int(uuid in named))
            if not tally.detected:
                res.misses.append(f"{kind} {path.name}:{row.index + 1} {row.category}: not found")
            candidates = engine.suggest_parent_candidates(transcript, uuid, 3)
            ids = [c.parent_uuid for c in candidates]
            right = bool(ids) and ids[0] == b.true_parent
            tally.top1 = int(right)
            tally.top3 = int(b.true_parent in ids)
            tally.naive = int(naive_parent(broken_rows, row, uuid) == b.true_parent)
            if candidates and uuid in named:
                res.scores.append((candidates[0].score, right))
                res.raw.append((candidates[0].signals.get("probability", 0.0), right))
            if not right:
                res.misses.append(
                    f"{kind} {path.name}:{row.index + 1} {row.category}: top-1 "
                    f"{ids[0][:8] if ids else None} score "
                    f"{candidates[0].score if candidates else 0:.3f} true {str(b.true_parent)[:8]}"
                )
            for key, table in (
                (f"{seed} {kind}", res.by_seed),
                (fam, res.by_family),
                (row.category + ("/sidechain" if row.is_sidechain else ""), res.by_type),
                (kind, res.by_kind),
            ):
                table[key].add(tally)
    if kind in ("drop", "tear"):
        res.truth_checked += 1
        if not check_truth(path, transcript, expected, {b.row.uuid for b in broken.breaks}):
            res.truth_mismatch.append(f"{kind} seed {seed} {path.name}")
    changes = auto_plan(engine, transcript, threshold)
    after = apply_copy(copy, changes)
    touched_lines = changed_lines(broken_bytes, after)
    broken_line_of = {r.uuid: r.index for r in broken_rows}
    allowed = {broken_line_of[u] for u in expected if u in broken_line_of}
    collateral = touched_lines - allowed
    res.collateral += len(collateral)
    res.by_family[fam].collateral += len(collateral)
    if kind == "duplicate":
        res.duplicate_rewrites += len(touched_lines)
    for uuid, new_parent in changes.items():
        tally = Tally(applied=1, applied_right=int(expected.get(uuid, "-") == new_parent))
        if not tally.applied_right:
            res.wrong_applied.append(f"{kind} {path.name}: {uuid[:8]} -> {str(new_parent)[:8]}")
        row = by_uuid.get(uuid)
        res.by_family[fam].add(tally)
        res.by_kind[kind].add(tally)
        res.by_seed[f"{seed} {kind}"].add(tally)
        if row is not None:
            res.by_type[row.category + ("/sidechain" if row.is_sidechain else "")].add(tally)


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.1f}%" if b else "     -"


def print_table(title: str, table: dict[str, Tally], untouched: bool = False) -> None:
    print(f"\n{title}")
    extra = f" {'alarms':>6} {'collat.':>7}" if untouched else ""
    print(
        f"{'':24} {'breaks':>6} {'found':>7} {'top-1':>7} {'top-3':>7} {'naive':>7} "
        f"{'applied':>7} {'precision':>9}{extra}"
    )
    total = Tally()

    def row(key: str, t: Tally) -> None:
        more = f" {t.false_alarms:6d} {t.collateral:7d}" if untouched else ""
        print(
            f"{key:24} {t.cases:6d} {pct(t.detected, t.cases)} {pct(t.top1, t.cases)} "
            f"{pct(t.top3, t.cases)} {pct(t.naive, t.cases)} {t.applied:7d} "
            f"{pct(t.applied_right, t.applied):>9}{more}"
        )

    for key in sorted(table):
        total.add(table[key])
        row(key, table[key])
    row("all", total)


def reliability(scores: Iterable[tuple[float, bool]]) -> None:
    print("\nreliability of the top-1 score (detected breaks)")
    print(f"{'score':>14} {'n':>6} {'right':>6} {'precision':>9} {'at/above':>9}")
    items = list(scores)
    for lo, hi in itertools.pairwise(BUCKETS):
        sel = [ok for s, ok in items if lo <= s < hi]
        above = [ok for s, ok in items if s >= lo]
        if sel:
            print(
                f"[{lo:.3f},{min(hi, 1):.3f}) {len(sel):6d} {sum(sel):6d} "
                f"{pct(sum(sel), len(sel))} {pct(sum(above), len(above))}"
            )
    # The lowest threshold whose precision at and above it is >= 99.5 %.
    ordered = sorted(items, key=lambda x: -x[0])
    right = 0
    best = None
    for n, (score, ok) in enumerate(ordered, 1):
        right += ok
        if right / n >= 0.995:
            best = (score, n, right)
    if best:
        print(
            f"lowest threshold with precision >= 99.5% at and above it: {best[0]:.4f} "
            f"({best[2]}/{best[1]} right)"
        )


def fit_calibration(
    raw: list[tuple[float, bool]],
    per_bin: int = 40,
    prior_weight: float = 20.0,
    min_step: float = 0.004,
) -> list[tuple[float, float]]:
    """Isotonic fit of raw probability -> observed precision, as the points of
    suggest.CALIBRATION: bins of ``per_bin`` cases in raw order, each bin's precision
    shrunk towards its mean raw probability with the weight of ``prior_weight`` cases
    (errors are rare: a bin of 40 right cases says "at least ~95%", not "100%"),
    then adjacent violators pooled so the curve never falls."""
    items = sorted(raw)
    bins: list[list[float]] = []  # [sum raw, right, n]
    for k in range(0, len(items), per_bin):
        chunk = items[k : k + per_bin]
        if len(chunk) < per_bin // 2 and bins:
            bins[-1][0] += sum(x for x, _ in chunk)
            bins[-1][1] += sum(ok for _, ok in chunk)
            bins[-1][2] += len(chunk)
            continue
        bins.append([sum(x for x, _ in chunk), sum(ok for _, ok in chunk), len(chunk)])

    def precision(b: list[float]) -> float:
        total, right, n = b
        # Never certainty from a finite count: at most (right + 0.5) / (n + 1).
        return min((right + prior_weight * total / n) / (n + prior_weight), (right + 0.5) / (n + 1))

    merged: list[list[float]] = []
    for b in bins:
        merged.append(list(b))
        while len(merged) > 1 and precision(merged[-2]) >= precision(merged[-1]):
            last = merged.pop()
            for j in range(3):
                merged[-1][j] += last[j]
    points = [(0.0, 0.0)]
    for b in merged:
        x, y = round(b[0] / b[2], 4), round(precision(b), 4)
        if y - points[-1][1] >= min_step or b is merged[-1]:
            points.append((x, y))
    points.append((1.0, points[-1][1]))
    return points


def inputs(corpus: Path | None, recordings: bool = False) -> list[Path]:
    """The corpus's files, then the flat real-client recordings; with ``recordings``
    also each recorded project folder's session file (its subagent files need
    their session to be resolved against, so they are left out here)."""
    real_client = REPO / "tests" / "fixtures" / "real_client"
    files = sorted(real_client.glob("*.jsonl"))
    if recordings:
        files += sorted(
            p
            for folder in real_client.glob("real_*")
            if folder.is_dir()
            for p in folder.glob("*.jsonl")
            if not p.name.startswith("agent-") and p.stat().st_size > 0
        )
    if corpus is not None and corpus.is_dir():
        files = sorted(corpus.glob("*.jsonl")) + files
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--trials", type=int, default=3, help="broken copies per file and kind")
    parser.add_argument("--breaks", type=int, default=8, help="breaks per broken copy")
    parser.add_argument("--kinds", default=",".join(BREAK_KINDS))
    parser.add_argument("--threshold", type=float, default=AUTO_APPLY_SCORE)
    parser.add_argument("--seeds", default="1", help="comma-separated seeds; the tables pool them")
    parser.add_argument("--misses", type=int, default=15, help="misses to list")
    parser.add_argument("--fit", action="store_true", help="print a fitted CALIBRATION table")
    parser.add_argument(
        "--recordings",
        action="store_true",
        help="add the session file of every recorded project folder (tests/fixtures/real_client)",
    )
    args = parser.parse_args(argv)
    files = inputs(args.corpus, args.recordings)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}; only tests/fixtures/real_client", file=sys.stderr)
    res = Results()
    kinds = [k for k in args.kinds.split(",") if k]
    seeds = [int(x) for x in args.seeds.split(",") if x]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n, path in enumerate(files):
            data = path.read_bytes()
            fam = family(data)
            check_untouched(path, data, fam, work, args.threshold, res)
            rows = read_rows(split_lines(data)[0])
            pool = breakable_rows(rows)
            for seed, kind, trial in itertools.product(seeds, kinds, range(args.trials)):
                rng = random.Random(f"{seed}:{path.name}:{kind}:{trial}")
                targets = pick_targets(pool, args.breaks, rng)
                if targets:
                    run_trial(
                        path, data, fam, kind, rows, targets, rng, work, args.threshold, res, seed
                    )
            print(f"\r{n + 1}/{len(files)} files", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(
        f"real transcripts: {len(files)} files; seeds {args.seeds}; "
        f"threshold for repair --yes: {args.threshold}"
    )
    print_table(
        "by Claude Code version family (alarms: findings on the untouched files that are "
        "not genuine; collat.: lines repair --yes changed that no break touched)",
        res.by_family,
        untouched=True,
    )
    print_table("by line type of the broken row", res.by_type)
    print_table("by kind of break", res.by_kind)
    if len(seeds) > 1:
        print_table("by seed and kind of break", res.by_seed)
    reliability(res.scores)
    print(
        f"\nduplicates: {res.duplicates_detected}/{res.duplicates} found, "
        f"{res.duplicate_rewrites} lines rewritten by repair --yes"
    )
    print(f"collateral: {res.collateral} line(s) changed by repair --yes that no break touched")
    print(
        f"truth check: {res.truth_checked - len(res.truth_mismatch)} of {res.truth_checked} "
        "dropped/torn copies resume, with the true parents, as the untouched file minus "
        "the lost rows"
    )
    print(
        f"untouched files: false alarms {sum(res.untouched_false.values())} "
        f"{dict(res.untouched_false)}; genuine findings {dict(res.untouched_genuine)}; "
        f"lines repair --yes would change: {res.untouched_changed}"
    )
    if res.truth_mismatch:
        print("truth check failed:", *res.truth_mismatch[: args.misses], sep="\n  ")
    if args.fit:
        print("CALIBRATION =", tuple(fit_calibration(res.raw)))
    if res.wrong_applied:
        print("wrong auto-applied:", *res.wrong_applied[: args.misses], sep="\n  ")
    if res.misses:
        print("misses:", *res.misses[: args.misses], sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
