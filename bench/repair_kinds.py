"""Line-repair kinds on generated sessions and on real Claude Code transcripts.

For every breakage kind of riff.testing.repair_kinds (unanswered tool_use,
orphan tool_result, torn last line, `}{` join, NUL run, byte-identical and
same-uuid duplicates), each injected into healthy files, it counts:

- detected: a finding of the expected kind names the broken line;
- repaired: after every line repair riff plans (torn, duplicate, tool_result),
  the file parses line by line, no uuid is on more rows and no tool call is
  unanswered that the healthy file did not have, and the API request rules
  (riff.transcript.api_rules) are clean;
- revert byte-exact: undoing the edits, last first, gives the broken bytes back.

With ``--store`` the same breakages go through riff's whole pipeline instead
(riff.app: one plan, validated, appended as events in a fresh embedded store,
the file written; then every event reverted newest first, each revert written),
counting per kind:

- repaired: as above, on the file riff wrote;
- events: every byte the file changed is accounted for by the events (the
  events' edits and re-links, replayed on the broken bytes, give the written
  file);
- verify: `riff verify --db` (riff.app.integrity.verify_database) finds the log
  intact after the repair and after the reverts;
- revert byte-exact: the file after the reverts is the broken file.

Data: ``--generated N`` generated sessions (riff.testing, seeds 0..N-1) and
the real files (``--corpus``, default ``$RIFF_DEV_CORPUS`` or the development
corpus beside the checkout, plus tests/fixtures/real_client), ``--per-file K``
injections of each kind per file. The figures are counts, not timings.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from riff.testing.repair_kinds import REPAIR_BREAKS, inject_break, repair_all, repair_problems
from riff.testing.synthetic import generate_session
from riff.transcript.detect import detect_findings
from riff.transcript.reader import read_transcript

REPO = Path(__file__).resolve().parents[1]


def _real_files(corpus: Path | None) -> list[Path]:
    files = sorted((REPO / "tests" / "fixtures" / "real_client").glob("*.jsonl"))
    if corpus is not None and corpus.is_dir():
        files += sorted(corpus.glob("*.jsonl"))
    return files


def _measure(
    sources: list[tuple[str, bytes]], per_file: int, folder: Path
) -> dict[str, Counter[str]]:
    figures: dict[str, Counter[str]] = {kind: Counter() for kind in REPAIR_BREAKS}
    path = folder / "broken.jsonl"
    for name, clean in sources:
        for kind in REPAIR_BREAKS:
            for attempt in range(per_file):
                broken = inject_break(kind, clean, random.Random(f"{name}/{kind}/{attempt}"))
                count = figures[kind]
                if broken is None:
                    count["no place"] += attempt == 0  # a file, not an attempt
                    break
                count["injected"] += 1
                path.write_bytes(broken.data)
                found = detect_findings(read_transcript(path))
                if any(f.kind in broken.finding_kinds and broken.line in f.lines for f in found):
                    count["detected"] += 1
                outcome = repair_all(broken.data)
                problems = repair_problems(clean, outcome.repaired)
                if not problems:
                    count["repaired"] += 1
                else:
                    print(f"  not repaired: {name} {kind}: {problems[0]}", file=sys.stderr)
                if outcome.reverted == broken.data:
                    count["revert exact"] += 1
    return figures


def _measure_through_store(
    sources: list[tuple[str, bytes]], per_file: int, folder: Path
) -> dict[str, Counter[str]]:
    from riff.app.integrity import verify_database
    from riff.app.line_repairs import revert_line_edit
    from riff.app.repair_plan import apply_session_plan, plan_session_repairs
    from riff.app.repairs import revert_event
    from riff.app.sessions import load_session
    from riff.app.workspace import Workspace
    from riff.events import reverted_event_ids
    from riff.settings import Settings

    figures: dict[str, Counter[str]] = {kind: Counter() for kind in REPAIR_BREAKS}
    for name, clean in sources:
        for kind in REPAIR_BREAKS:
            for attempt in range(per_file):
                broken = inject_break(kind, clean, random.Random(f"{name}/{kind}/{attempt}"))
                count = figures[kind]
                if broken is None:
                    count["no place"] += attempt == 0
                    break
                count["injected"] += 1
                root = Path(tempfile.mkdtemp(dir=folder))
                path = root / "projects" / "-bench" / "broken.jsonl"
                path.parent.mkdir(parents=True)
                path.write_bytes(broken.data)
                settings = Settings(
                    data_dir=root / "data",
                    projects_dir=root / "projects",
                    db_url="mem://",
                    operator="bench",
                    live_quiet_seconds=0,
                )
                with Workspace(settings) as ws:
                    state = load_session(ws, str(path))
                    plan = plan_session_repairs(ws, state, min_score=settings.min_score)
                    try:
                        result = apply_session_plan(
                            ws, plan, operator="bench", write=True, force_live=True
                        )
                    finally:
                        plan.close()
                    repaired = path.read_bytes()
                    problems = repair_problems(clean, repaired)
                    if not problems:
                        count["repaired"] += 1
                    else:
                        print(f"  not repaired: {name} {kind}: {problems[0]}", file=sys.stderr)
                    if _replayed(broken.data, result.events, ws.store) == repaired:
                        count["events"] += 1
                    else:
                        print(f"  events differ from the file: {name} {kind}", file=sys.stderr)
                    intact = verify_database(ws.store).ok
                    log = list(ws.store.events(state.session_id))
                    reverted = reverted_event_ids(log)
                    for event in reversed(log):
                        if event.is_revert or event.event_id in reverted:
                            continue
                        if event.edit is not None:
                            revert_line_edit(ws, event.event_id, operator="bench", force_live=True)
                        else:
                            revert_event(
                                ws, event.event_id, operator="bench", write=True, force_live=True
                            )
                    if intact and verify_database(ws.store).ok:
                        count["verify"] += 1
                    if path.read_bytes() == broken.data:
                        count["revert exact"] += 1
                    else:
                        print(f"  revert not exact: {name} {kind}", file=sys.stderr)
    return figures


def _replayed(data: bytes, events: list[Any], store: Any) -> bytes:
    """The broken bytes with the events applied in log order (edits, then re-links)."""
    from riff.events.line_edit import apply_edits, blob_ids_of
    from riff.transcript.write import replace_parents_in_bytes

    for event in events:
        if event.edit is not None:
            blobs = store.get_blobs(blob_ids_of(event.edit))
            data = apply_edits(data, [event.edit], blobs)
        else:
            data, _ = replace_parents_in_bytes(data, {event.message_id: event.new_parent_uuid})
    return data


def _print_table(title: str, figures: dict[str, Counter[str]], columns: tuple[str, ...]) -> None:
    """One row per kind: how many were injected, and the share of each column's count."""
    print(f"\n{title}")
    print(f"{'kind':22} {'injected':>8}" + "".join(f" {c.split()[0]:>9}" for c in columns))
    for kind, c in figures.items():
        n = c["injected"]
        print(
            f"{kind:22} {n:8d}"
            + "".join(f" {_pct(c[column], n):>9}" for column in columns)
            + (f"   (no place in {c['no place']} file(s))" if c["no place"] else "")
        )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


_STORE_COLUMNS = ("repaired", "events", "verify", "revert exact")
_FILE_COLUMNS = ("detected", "repaired", "revert exact")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=30, help="generated sessions")
    parser.add_argument("--per-file", type=int, default=2, help="injections per kind and file")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument(
        "--store", action="store_true", help="through riff's pipeline: events, verify, reverts"
    )
    args = parser.parse_args()
    corpus = args.corpus
    if corpus is None:
        named = os.environ.get("RIFF_DEV_CORPUS")
        corpus = Path(named) if named else REPO.parent / "shared" / "corpus" / "dev"
    generated = [
        (f"generated-{seed}", generate_session(20 + seed * 7 % 150, seed=seed).to_bytes())
        for seed in range(args.generated)
    ]
    real = [(p.name, p.read_bytes()) for p in _real_files(corpus)]
    with tempfile.TemporaryDirectory(prefix="riff-bench-") as folder:
        if args.store:
            _print_table(
                f"Through the store, on generated sessions ({len(generated)} sessions, "
                f"{args.per_file} per kind each)",
                _measure_through_store(generated, args.per_file, Path(folder)),
                _STORE_COLUMNS,
            )
            _print_table(
                f"Through the store, on real transcripts ({len(real)} files; "
                f"{args.per_file} per kind each)",
                _measure_through_store(real, args.per_file, Path(folder)),
                _STORE_COLUMNS,
            )
            return 0
        _print_table(
            f"On generated sessions ({len(generated)} sessions, {args.per_file} per kind each)",
            _measure(generated, args.per_file, Path(folder)),
            _FILE_COLUMNS,
        )
        _print_table(
            f"On real transcripts ({len(real)} files: tests/fixtures/real_client and "
            f"{corpus if corpus.is_dir() else 'no dev corpus'}; {args.per_file} per kind each)",
            _measure(real, args.per_file, Path(folder)),
            _FILE_COLUMNS,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
