"""`riff show SESSION`: what resume would load (or the tree), findings marked, paged.

Kept apart from the Typer command (riff.cli.scan_cmd.show) so that a plain
`riff show` runs without Typer (riff.cli.scan_direct), as `riff scan` does.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from rich.tree import Tree

from riff.app.display import short_id
from riff.app.sessions import SessionState, load_session
from riff.app.workspace import Workspace
from riff.cli.output import Output, plain, safe, stdout


def show_session(
    ws: Workspace, out: Output, session: str, *, tree: bool, limit: int, no_pager: bool
) -> None:
    """Print the session (JSON with ``out.json``), through the pager on a terminal."""
    state = load_session(ws, session, content_hash=False)  # shown, never written
    if out.json:
        out.emit_json(_show_json(state))
        return
    if stdout.is_terminal and not no_pager:
        # less shows colours only with -R; -F quits at once when it fits.
        os.environ.setdefault("LESS", "-FRX")
        with stdout.pager(styles=True):
            _render_show(state, tree=tree, limit=limit)
    else:
        _render_show(state, tree=tree, limit=limit)


def _show_json(state: SessionState) -> dict[str, Any]:
    return {
        "session_id": state.session_id,
        "path": str(state.file.path),
        "resume_chain": state.resume_chain(),
        "findings": [f.to_json() for f in state.effective_findings],
        "pending_changes": state.pending_changes,
        "events": len(state.events),
    }


def _render_show(state: SessionState, *, tree: bool, limit: int) -> None:
    marks: dict[str, str] = {}
    for finding in state.effective_findings:
        for mid in finding.message_ids:
            marks.setdefault(mid, finding.kind)
    records = state.records_by_uuid
    stdout.print(
        f"[bold]{safe(state.session_id)}[/] {safe(state.file.path)} — {len(records)} messages, "
        f"{len(state.events)} repair events, {len(state.pending_changes)} not yet written"
    )
    if tree:
        _render_tree(state, marks, limit)
        return
    chain = state.resume_chain_nodes()  # newest first; only the newest `limit` are printed
    uuids = state.graph.uuids
    stdout.print(f"resume loads {len(chain)} messages (oldest first):")
    if len(chain) > limit:
        stdout.print(f"[dim]… {len(chain) - limit} older messages not shown (--limit)[/]")
    # One print for all lines: Rich's cost is per call, and a chain can be long.
    # Styled Text, not markup: parsing markup was two thirds of printing 2,000 lines.
    lines = [_chain_line(records.get(uuids[node]), uuids[node], marks) for node in chain[:limit]]
    if lines:
        lines.reverse()
        stdout.print(Text("\n").join(lines), highlight=False, soft_wrap=True)


def _chain_line(record: Any, uuid: str, marks: dict[str, str]) -> Text:
    line = Text("  ")
    if record is None:
        line.append(plain(short_id(uuid)))
        line.append(" ")
        line.append("(in another file)", "dim")
    else:
        line.append(f"{record.line:>6}", "dim")
        line.append(f" {plain(short_id(uuid))} ")
        line.append(f"{plain(record.role or record.type or '?'):<9}", "cyan")
        line.append(f" {plain(record.preview[:70])}")
    if uuid in marks:
        line.append(" ")
        line.append(f"✗ {plain(marks[uuid])}", "red")
    return line


def _render_tree(state: SessionState, marks: dict[str, str], limit: int) -> None:
    graph = state.graph
    records = state.records_by_uuid
    shown = 0
    # Orphans head their own subtrees: their parent is nowhere in the session.
    heads = [(root, "") for root in graph.roots()] + [
        (orphan, "[red](parent missing)[/] ") for orphan in graph.dangling()
    ]
    for root, note in heads:
        rich_root = Tree(note + _label(records.get(root), root, marks))
        stack = [(root, rich_root)]
        while stack and shown < limit:
            uuid, node = stack.pop()
            shown += 1
            for child in reversed(graph.children(uuid)):
                stack.append((child, node.add(_label(records.get(child), child, marks))))
        stdout.print(rich_root)
        if shown >= limit:
            stdout.print(f"[dim]… tree cut at {limit} messages (--limit)[/]")
            break


def _label(record: Any, uuid: str, marks: dict[str, str]) -> str:
    mark = f" [red]✗ {safe(marks[uuid])}[/]" if uuid in marks else ""
    if record is None:
        return f"{safe(short_id(uuid))}{mark}"
    side = " [magenta](sidechain)[/]" if record.is_sidechain else ""
    role = safe(record.role or record.type)
    return f"{safe(short_id(uuid))} [cyan]{role}[/]{side} {safe(record.preview[:60])}{mark}"
