"""A self-contained HTML report of the event log: per session, per operator, verified.

No template engine and no assets: one file an auditor can open anywhere. Every
value is escaped; nothing from the log reaches the page as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from html import escape
from importlib import resources

from riff.app.logs import SessionSection
from riff.events import RepairEvent
from riff.events.verify import ValidationResult

# Kept apart from the logic; inlined so the page is one self-contained file.
_STYLE = (resources.files("riff.report") / "report.css").read_text(encoding="utf-8")


def _short(value: str | None, width: int = 8) -> str:
    return "—" if value is None else escape(value[:width])


def _event_row(event: RepairEvent, reverted: bool) -> str:
    tags = []
    if event.kind == "revert":
        tags.append('<span class="tag revert">revert</span>')
    if not event.validation_passed:
        tags.append('<span class="tag forced">forced</span>')
    status = "reverted" if reverted else "active"
    score = "—" if event.similarity_score is None else f"{event.similarity_score:.2f}"
    cls = ' class="reverted"' if reverted else ""
    return (
        f"<tr{cls}><td>{event.seq}</td><td><code>{escape(event.event_id)}</code></td>"
        f"<td>{' '.join(tags) or 'repair'}</td>"
        f"<td><code>{_short(event.message_id)}</code></td>"
        f"<td><code>{_short(event.old_parent_uuid)}</code> → "
        f"<code>{_short(event.new_parent_uuid)}</code></td>"
        f"<td>{escape(event.operator)}</td><td>{score}</td><td>{status}</td>"
        f"<td>{escape(event.timestamp[:19].replace('T', ' '))}</td>"
        f"<td>{escape(event.reason)}</td>"
        f"<td><code title='{escape(event.event_digest)}'>{event.event_digest[:12]}…</code>"
        "</td></tr>"
    )


def render_report(
    sections: Iterable[SessionSection],
    verification: ValidationResult,
    *,
    title: str,
    generated_at: str,
    store_url: str,
    filters: Mapping[str, str] | None = None,
) -> str:
    """The whole page."""
    sections = list(sections)
    all_events = [(e, r) for s in sections for e, r in s.events]
    repairs = [(e, r) for e, r in all_events if e.kind == "repair"]
    operators = Counter(e.operator for e, _ in all_events)
    forced = sum(1 for e, _ in all_events if not e.validation_passed)
    verdict = (
        f'<span class="ok">intact</span>: {verification.events_checked} events in '
        f"{verification.sessions_checked} sessions, every digest and link verified"
        if verification.ok
        else f'<span class="bad">{len(verification.breaks)} break(s)</span>'
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>Generated {escape(generated_at)} from <code>{escape(store_url)}</code>"
        + (
            " · " + ", ".join(f"{escape(k)}={escape(v)}" for k, v in filters.items())
            if filters
            else ""
        )
        + "</p>",
        "<div class='cards'>",
        f"<div class='card'><b>{len(sections)}</b>sessions</div>",
        f"<div class='card'><b>{len(repairs)}</b>repairs</div>",
        f"<div class='card'><b>{sum(1 for _, r in repairs if not r)}</b>active</div>",
        f"<div class='card'><b>{sum(1 for _, r in repairs if r)}</b>reverted</div>",
        f"<div class='card'><b>{forced}</b>forced</div>",
        "</div>",
        f"<p>Verification: {verdict}</p>",
    ]
    if not verification.ok:
        parts.append("<ul>")
        parts += [f"<li class='bad'>{escape(str(b))}</li>" for b in verification.breaks]
        parts.append("</ul>")
    parts.append("<h2>By operator</h2><table><tr><th>operator</th><th>events</th></tr>")
    parts += [
        f"<tr><td>{escape(op)}</td><td>{count}</td></tr>" for op, count in operators.most_common()
    ]
    parts.append("</table>")
    for section in sections:
        parts.append(f"<h2>Session <code>{escape(section.session_id)}</code></h2>")
        meta = []
        if section.path:
            meta.append(f"transcript <code>{escape(section.path)}</code>")
        if section.head_digest:
            meta.append(f"head <code>{escape(section.head_digest)}</code>")
        if section.materialization_digest:
            meta.append(f"view <code>{escape(section.materialization_digest[:16])}…</code>")
        parts.append(f"<p class='muted'>{' · '.join(meta)}</p>")
        parts.append(
            "<table><tr><th>seq</th><th>event</th><th>kind</th><th>message</th>"
            "<th>parent</th><th>operator</th><th>score</th><th>status</th><th>when (UTC)</th>"
            "<th>reason</th><th>digest</th></tr>"
        )
        parts += [_event_row(e, r) for e, r in section.events]
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
