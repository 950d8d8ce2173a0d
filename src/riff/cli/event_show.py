"""`riff show --event ID`: one event, and the bytes it removed or wrote, escaped."""

from __future__ import annotations

from riff.app.display import short_id
from riff.app.event_detail import EventDetail, Segment
from riff.cli.output import Output, safe, stdout

_SHOWN_CHARS = 2000
"""Per line: a torn line can be megabytes; --json carries every byte."""


def show_event(out: Output, detail: EventDetail) -> None:
    if out.json:
        out.emit_json(detail.to_json())
        return
    event = detail.event
    status = "reverted" if detail.is_reverted else "in effect"
    stdout.print(
        f"[bold]event {safe(event.event_id)}[/] · {safe(event.kind)} · seq {event.seq} of "
        f"session {safe(event.session_id)} · {status}",
        highlight=False,
    )
    stdout.print(f"  by {safe(event.operator)} at {safe(event.timestamp)}", highlight=False)
    if event.reason:
        stdout.print(f"  reason: {safe(event.reason)}", highlight=False)
    if event.reverts_event_id:
        stdout.print(f"  reverts {safe(event.reverts_event_id)}", highlight=False)
    for other in detail.reverted_by:
        stdout.print(f"  reverted by {safe(other)}", highlight=False)
    if event.edit is None:
        score = "" if event.similarity_score is None else f" (score {event.similarity_score:.2f})"
        stdout.print(
            f"  message {safe(event.message_id)}: parent {safe(short_id(event.old_parent_uuid))} "
            f"→ {safe(short_id(event.new_parent_uuid))}{score}",
            highlight=False,
        )
        return
    stdout.print(
        f"  at line {detail.line}: {len(detail.removed)} line(s) out, "
        f"{len(detail.inserted)} line(s) in (message {safe(event.message_id)})",
        highlight=False,
    )
    _segments("removed", "-", detail.removed)
    _segments("inserted", "+", detail.inserted)


def _segments(title: str, mark: str, segments: list[Segment]) -> None:
    for number, segment in enumerate(segments, start=1):
        head = f"  {title} {number}: {segment.size} bytes, sha256 {segment.sha256[:16]}…"
        text = segment.text()
        if text is None:
            stdout.print(f"{head} [red]not in the blob store[/]", highlight=False)
            continue
        stdout.print(head, highlight=False)
        body = text[:_SHOWN_CHARS]
        more = len(text) - len(body)
        tail = f" [dim]… {more} more characters (--json has them all)[/]" if more > 0 else ""
        stdout.print(f"  {mark} {safe(body)}{tail}", highlight=False, soft_wrap=True)
