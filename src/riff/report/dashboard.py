"""The dashboard: one self-contained HTML page drawn from the aggregates document.

The page shows exactly what `riff report --json` prints (`riff.app.analytics`):
the log's verification and checkpoint first, then the health of the projects
dir, then the repairs. CSS, the small sorting script and every chart are
inline; the page loads nothing, so it works offline and from a USB stick.
Every string from the data is escaped: session ids, projects, operators and
reasons are data, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import quote

from riff.report.svg import Chart, render_chart

_ASSETS = resources.files("riff.report")
_STYLE = (_ASSETS / "dashboard.css").read_text(encoding="utf-8")
_SCRIPT = (_ASSETS / "dashboard.js").read_text(encoding="utf-8")

STATE_CLASSES = {"healthy": "good", "repaired": "info", "broken": "bad"}


def _n(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _when(timestamp: str | None) -> str:
    return "—" if not timestamp else escape(timestamp[:19].replace("T", " "))


def _script_safe(text: str) -> str:
    # The inline script is riff's own; still, never let it end the element early.
    return text.replace("</", "<\\/")


# -- the top: verification and checkpoint --------------------------------------


def _verification_panel(doc: Mapping[str, Any]) -> str:
    if doc.get("ok"):
        head = '<p class="verdict good"><span aria-hidden="true">✓</span> Log intact</p>'
        body = (
            f"<p>{_n(doc.get('events_checked', 0))} events in "
            f"{_n(doc.get('sessions_checked', 0))} sessions: every digest, link and head "
            "verified"
            + (f", {_n(doc['views_checked'])} views replayed" if "views_checked" in doc else "")
            + ".</p>"
        )
        return f'<section class="panel verification ok" aria-live="polite">{head}{body}</section>'
    count = int(doc.get("break_count", len(doc.get("breaks") or [])))
    items = "".join(
        f"<li><code>{escape(str(b.get('session_id', ''))[:8])}</code> seq {_n(b.get('seq'))}: "
        f"<b>{escape(str(b.get('problem', '')))}</b> {escape(str(b.get('detail', '')))}</li>"
        for b in doc.get("breaks") or []
    )
    more = count - len(doc.get("breaks") or [])
    if more > 0:
        items += f"<li>… and {_n(more)} more (riff verify --db lists them all)</li>"
    return (
        '<section class="panel verification broken" role="alert">'
        f'<p class="verdict bad"><span aria-hidden="true">✗</span> Log broken: {_n(count)} '
        f"break{'s' if count != 1 else ''}</p>"
        f"<p>{_n(doc.get('events_checked', 0))} events checked in "
        f"{_n(doc.get('sessions_checked', 0))} sessions.</p><ul class='breaks'>{items}</ul>"
        "</section>"
    )


def _checkpoint_panel(checkpoint: Mapping[str, Any] | None) -> str:
    if not checkpoint:
        return (
            '<section class="panel checkpoint none"><p class="verdict muted">No checkpoint</p>'
            "<p>This log has no signed checkpoint, so the page can only say that the chains "
            "in the database are intact, not that none was cut off. "
            "<code>riff checkpoint</code> makes one.</p></section>"
        )
    size, log_size = int(checkpoint.get("size", 0)), int(checkpoint.get("log_size", 0))
    signature = {True: "signature verified", False: "signature INVALID", None: "signature not "
                 "checked (no local key)"}[checkpoint.get("signature_ok")]  # fmt: skip
    facts = [
        ("size", f"{size:,} events of the log's {log_size:,}"),
        ("root", str(checkpoint.get("root", ""))),
        ("origin", str(checkpoint.get("origin", ""))),
        ("signed", (checkpoint.get("created_at") or "—")[:19].replace("T", " ") + " UTC"),
        ("check", signature + (", on disk" if checkpoint.get("on_disk") else "")
                  + (", in the database" if checkpoint.get("in_database") else "")),
    ]  # fmt: skip
    rows = "".join(
        f"<tr><th scope='row'>{escape(k)}</th><td>"
        + (f"<code>{escape(v)}</code>" if k == "root" else escape(v))
        + "</td></tr>"
        for k, v in facts
    )
    problems = checkpoint.get("problems") or []
    ok = checkpoint.get("ok", not problems)
    items = "".join(f"<li>{escape(str(p))}</li>" for p in problems)
    note = checkpoint.get("note")
    note_html = (
        f"<details><summary>the signed note</summary><pre class='note-text'>{escape(str(note))}"
        "</pre></details>"
        if note
        else ""
    )
    cls, verdict = ("ok", "good") if ok else ("broken", "bad")
    title = "Newest signed checkpoint" if ok else "Checkpoint does not hold"
    return (
        f'<section class="panel checkpoint {cls}"><p class="verdict {verdict}">{title}</p>'
        f"<table class='kv'>{rows}</table>"
        + (f"<ul class='breaks'>{items}</ul>" if items else "")
        + f"{note_html}</section>"
    )


def _cards(doc: Mapping[str, Any]) -> str:
    health, repairs = doc["health"], doc["repairs"]
    states = health["by_state"]
    cards = [
        ("sessions", _n(health["sessions"]), ""),
        ("broken", _n(states.get("broken", 0)), "bad" if states.get("broken") else ""),
        ("repaired", _n(states.get("repaired", 0)), "info"),
        ("messages resume would lose", _n(health["resume_loss"]),
         "bad" if health["resume_loss"] else ""),
        ("repairs", _n(repairs["repairs"]), ""),
        ("reverted", _pct(repairs["reverted_share"]), ""),
        ("forced", _n(repairs["forced"]), "bad" if repairs["forced"] else ""),
    ]  # fmt: skip
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><b>{value}</b><span>{escape(label)}</span></div>'
            for label, value, cls in cards
        )
        + "</div>"
    )


# -- health ------------------------------------------------------------------------


def _health_charts(health: Mapping[str, Any]) -> list[Chart]:
    states = [(s, [int(health["by_state"].get(s, 0))]) for s in ("healthy", "repaired", "broken")]
    kinds = [(k, [int(v)]) for k, v in health["findings_by_kind"].items()]
    projects = health["projects"][:15]
    return [
        Chart(
            "states",
            "Sessions by state",
            "state",
            ["sessions"],
            states,
            row_classes=[STATE_CLASSES[s] for s, _ in states],
        ),
        Chart("findings", "Findings by kind", "kind", ["findings"], kinds),
        Chart(
            "projects",
            "Messages resume would lose, per project",
            "project",
            ["messages lost"],
            [(p["project"] or "(none)", [int(p["resume_loss"])]) for p in projects],
            series_classes=["bad"],
            note="The 15 projects that lose most; every project is in the table below."
            if len(health["projects"]) > 15
            else "",
        ),
    ]


def _projects_table(projects: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td class='nowrap'>{escape(p['project'] or '(none)')}</td>"
        + "".join(
            f"<td class='num' data-value='{p[k]}'>{_n(p[k])}</td>"
            for k in ("sessions", "healthy", "repaired", "broken", "findings", "resume_loss")
        )
        + "</tr>"
        for p in projects
    )
    return (
        "<div class='scroll'><table class='sortable' id='projects-table'>"
        "<caption>Projects</caption><thead><tr>"
        "<th scope='col'>project</th><th scope='col'>sessions</th><th scope='col'>healthy</th>"
        "<th scope='col'>repaired</th><th scope='col'>broken</th><th scope='col'>findings</th>"
        f"<th scope='col'>resume loses</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _file_url(path: str | None) -> str | None:
    return "file://" + quote(path) if path and path.startswith("/") else None


def _worst_sessions(health: Mapping[str, Any]) -> str:
    worst = health["worst_sessions"]
    if not worst:
        return "<p class='empty'>No broken sessions.</p>"
    rows = []
    details = []
    for s in worst:
        sid = escape(s["session_id"])
        findings = ", ".join(f"{escape(k)} {_n(v)}" for k, v in s["findings"].items())
        rows.append(
            f"<tr><td><a href='#session-{sid}'><code>{sid[:8]}</code></a></td>"
            f"<td class='nowrap'>{escape(s['project'] or '')}</td>"
            f"<td class='num' data-value='{s['messages']}'>{_n(s['messages'])}</td>"
            f"<td class='num' data-value='{s['resume_loss']}'>{_n(s['resume_loss'])}</td>"
            f"<td>{findings}</td></tr>"
        )
        url = _file_url(s.get("path"))
        link = (
            f"<a href='{escape(url)}'><code>{escape(s['path'])}</code></a>"
            if url
            else f"<code>{escape(s.get('path') or '')}</code>"
        )
        explanations = "".join(f"<li>{escape(text)}</li>" for text in s["explanations"] if text)
        details.append(
            f"<article class='session' id='session-{sid}'><h4><code>{sid}</code></h4>"
            f"<p>{link}</p><ul>{explanations}</ul>"
            f"<p class='muted'>Review it with <code>riff tui {sid[:8]}</code> or "
            f"<code>riff suggest {sid[:8]}</code>.</p></article>"
        )
    more = health["broken_sessions"] - len(worst)
    tail = f"<p class='muted'>… and {_n(more)} more broken sessions.</p>" if more > 0 else ""
    return (
        "<div class='scroll'><table class='sortable' id='worst-table'>"
        "<caption>Worst sessions (most messages lost first)</caption>"
        "<thead><tr><th scope='col'>session</th><th scope='col'>project</th>"
        "<th scope='col'>messages</th><th scope='col'>resume loses</th>"
        f"<th scope='col'>findings</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f"{tail}"
        f"<details class='session-details'><summary>Details of these sessions</summary>"
        f"{''.join(details)}</details>"
    )


# -- repairs -----------------------------------------------------------------------


def _repair_charts(repairs: Mapping[str, Any]) -> list[Chart]:
    over_time = repairs["over_time"]
    calibration = repairs["score_calibration"]
    delays = repairs["time_to_repair"]
    methods = repairs["by_method"]
    operators = repairs["by_operator"][:20]
    median = delays["median_hours"]
    return [
        Chart(
            "over-time",
            f"Events per {over_time['unit']}",
            over_time["unit"] + " from",
            ["repairs", "reverts"],
            [(b["period"], [int(b["repairs"]), int(b["reverts"])]) for b in over_time["buckets"]],
            orientation="columns",
            wide=True,
        ),
        Chart(
            "operators",
            "Events by operator",
            "operator",
            ["kept repairs", "reverted repairs", "reverts"],
            [
                (o["operator"], [o["repairs"] - o["reverted"], o["reverted"], o["reverts"]])
                for o in operators
            ],
            series_classes=["s0", "muted", "s1"],
        ),
        Chart(
            "kinds",
            "Events by kind",
            "kind",
            ["events"],
            [(k, [int(v)]) for k, v in repairs["by_kind"].items()],
        ),
        Chart(
            "methods",
            "Suggested by riff or chosen by hand",
            "how",
            ["kept", "reverted"],
            [(m["method"], [m["repairs"] - m["reverted"], m["reverted"]]) for m in methods],
            extra=[("reverted share", [_pct(m["reverted_share"]) for m in methods])],
            series_classes=["s0", "muted"],
        ),
        Chart(
            "calibration",
            "How often each score bucket was reverted",
            "score",
            ["kept", "reverted"],
            [(b["bucket"], [b["repairs"] - b["reverted"], b["reverted"]]) for b in calibration],
            orientation="columns",
            extra=[("reverted share", [_pct(b["reverted_share"]) for b in calibration])],
            series_classes=["s0", "bad"],
            note="A calibrated score is reverted less often the higher it is.",
        ),
        Chart(
            "delay",
            "Time from break to repair",
            "delay",
            ["repairs"],
            [(b["label"], [int(b["repairs"])]) for b in delays["buckets"]],
            orientation="columns",
            note=(
                f"Median {median:,.1f} h over {delays['known']:,} repairs whose message time is "
                f"known; unknown for {delays['unknown']:,}."
                if median is not None
                else f"The message time is unknown for all {delays['unknown']:,} repairs."
            ),
        ),
    ]


def _events_table(recent: Sequence[Mapping[str, Any]], total: int) -> str:
    if not recent:
        return "<p class='empty'>No events in this period.</p>"
    rows = []
    for e in recent:
        status = "reverted" if e["is_reverted"] else "active"
        tags = "".join(
            f" <span class='tag {cls}'>{label}</span>"
            for cls, label, on in (("forced", "forced", e["forced"]),)
            if on
        )
        score = "—" if e["score"] is None else f"{e['score']:.2f}"
        cls = " class='reverted'" if e["is_reverted"] else ""
        rows.append(
            f"<tr{cls}><td data-value='{escape(e['timestamp'])}'>{_when(e['timestamp'])}</td>"
            f"<td><code title='{escape(e['event_id'])}'>{escape(e['event_id'][:13])}</code></td>"
            f"<td><code>{escape(e['session_id'][:8])}</code></td>"
            f"<td class='num' data-value='{e['seq']}'>{e['seq']}</td>"
            f"<td>{escape(e['kind'])}{tags}</td><td>{escape(e['operator'])}</td>"
            f"<td class='num'>{score}</td><td>{status}</td>"
            f"<td class='reason'>{escape(e['reason'])}</td></tr>"
        )
    shown = f"the newest {len(recent):,} of {total:,}" if total > len(recent) else "all"
    return (
        f"<div class='scroll'><table class='sortable' id='events-table'><caption>Events ({shown}; "
        "<code>riff log</code> and the compliance package have every one)</caption><thead><tr>"
        "<th scope='col'>when (UTC)</th><th scope='col'>event</th><th scope='col'>session</th>"
        "<th scope='col'>seq</th><th scope='col'>kind</th><th scope='col'>operator</th>"
        "<th scope='col'>score</th><th scope='col'>status</th><th scope='col'>reason</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _filters_line(doc: Mapping[str, Any]) -> str:
    active = {k: v for k, v in doc["filters"].items() if v and not (k == "period" and v == "auto")}
    parts = [f"Generated {_when(doc['generated_at'])} UTC from <code>{escape(doc['store'])}</code>"]
    if active:
        parts.append(", ".join(f"{escape(k)} <b>{escape(str(v))}</b>" for k, v in active.items()))
    first, last = doc["repairs"]["first_timestamp"], doc["repairs"]["last_timestamp"]
    if first:
        parts.append(f"events from {_when(first)} to {_when(last)}")
    return "<p class='muted meta'>" + " · ".join(parts) + "</p>"


def render_dashboard(doc: Mapping[str, Any], *, title: str = "riff dashboard") -> str:
    """The whole page for one aggregates document."""
    health, repairs = doc["health"], doc["repairs"]
    health_charts = "".join(render_chart(c) for c in _health_charts(health))
    repair_charts = "".join(render_chart(c) for c in _repair_charts(repairs))
    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<meta name='color-scheme' content='light dark'>",
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<header><h1>{escape(title)}</h1>{_filters_line(doc)}</header><main>",
            "<div class='top'>",
            _verification_panel(doc["verification"]),
            _checkpoint_panel(doc.get("checkpoint")),
            "</div>",
            _cards(doc),
            "<section aria-labelledby='health-h'><h2 id='health-h'>Health of the projects "
            "directory</h2>",
            f"<div class='grid'>{health_charts}</div>",
            "</section>",
            "<section aria-labelledby='repairs-h'><h2 id='repairs-h'>Repairs</h2>",
            f"<div class='grid'>{repair_charts}</div>",
            "</section>",
            "<section aria-labelledby='details-h'><h2 id='details-h'>Details</h2>",
            "<h3>Sessions that need attention</h3>",
            _worst_sessions(health),
            "<h3>Projects</h3>",
            _projects_table(health["projects"]),
            "<h3>Events</h3>",
            _events_table(repairs["recent"], repairs["events"]),
            "</section></main>",
            "<footer class='muted'>Made by riff. Check the log itself with "
            "<code>riff verify --db</code>; an export with <code>riff verify FILE</code>.</footer>",
            f"<script>{_script_safe(_SCRIPT)}</script></body></html>\n",
        ]
    )
