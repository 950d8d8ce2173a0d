"""Bar and column charts drawn as inline SVG, each with its numbers as a table.

No chart library: a stacked bar is a few rectangles. Each mark carries its
series and value (`data-series`, `data-value`) and a `<title>` for the
tooltip; each chart's table holds the same numbers for screen readers and for
anyone who wants to copy them. Colours come from CSS classes, so the page's
light and dark themes restyle the charts too. Every string is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

LABEL_CHARS = 44


@dataclass(frozen=True)
class Chart:
    """One chart: rows of a label and one value per series (stacked in order)."""

    chart_id: str
    title: str
    label_heading: str
    series: Sequence[str]
    rows: Sequence[tuple[str, Sequence[int]]]
    orientation: Literal["bars", "columns"] = "bars"
    # Extra table-only columns: (heading, one formatted value per row).
    extra: Sequence[tuple[str, Sequence[str]]] = ()
    # Per-row colour classes (single-series charts whose rows mean different things).
    row_classes: Sequence[str] | None = None
    note: str = ""
    wide: bool = False
    series_classes: Sequence[str] = field(default_factory=tuple)

    def css_of(self, series_index: int, row_index: int) -> str:
        if self.row_classes is not None:
            return self.row_classes[row_index]
        if self.series_classes:
            return self.series_classes[series_index]
        return f"s{series_index}"


def _fmt(value: int) -> str:
    return f"{value:,}"


def _short_label(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _nice_step(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten that is at least `value`."""
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def _axis_top(value: int, ticks: int) -> int:
    """An axis top whose `ticks` steps are whole, round numbers (counts have no fractions)."""
    return _nice_step(max(1, -(-value // ticks))) * ticks


def _mark(css: str, x: str, y: str, w: str, h: str, series: str, label: str, value: int) -> str:
    tip = escape(f"{label}: {series} {value:,}")
    return (
        f'<rect class="mark {css}" x="{x}" y="{y}" width="{w}" height="{h}" '
        f'data-series="{escape(series)}" data-label="{escape(label)}" data-value="{value}">'
        f"<title>{tip}</title></rect>"
    )


# Horizontal positions are percentages of the chart's width and vertical ones
# pixels, so the charts fill their box at any width while text keeps its size.


def _bars_svg(chart: Chart) -> str:
    # Each row: its label on a line of its own, the bar below it across the width;
    # a long label never has to share the line with the bar, at any width.
    plot_w, row_h, bar_h, label_h = 86.0, 38, 14, 16
    height = max(len(chart.rows), 1) * row_h + 2
    top = max((sum(values) for _, values in chart.rows), default=0) or 1
    parts = [
        f'<svg class="bars" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart.chart_id}-t">'
    ]
    for r, (label, values) in enumerate(chart.rows):
        y = r * row_h
        parts.append(
            f'<text class="label" x="0" y="{y + label_h - 3}">'
            f"<title>{escape(label)}</title>{escape(_short_label(label))}</text>"
        )
        bar_y = y + label_h + 2
        parts.append(
            f'<rect class="track" x="0" y="{bar_y}" width="{plot_w}%" height="{bar_h}" rx="2"/>'
        )
        x = 0.0
        for s, value in enumerate(values):
            if value <= 0:
                continue
            w = max(plot_w * value / top, 0.4)
            parts.append(
                _mark(chart.css_of(s, r), f"{x:.2f}%", str(bar_y), f"{w:.2f}%", str(bar_h),
                      chart.series[s], label, value)
            )  # fmt: skip
            x += w
        parts.append(
            f'<text class="value" x="{plot_w + 1.5:.2f}%" y="{bar_y + bar_h - 2}">'
            f"{_fmt(sum(values))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _columns_svg(chart: Chart) -> str:
    height, bottom, top_pad, left, right = 240, 28, 10, 8.0, 1.0
    plot_w, plot_h = 100.0 - left - right, height - bottom - top_pad
    n = max(len(chart.rows), 1)
    slot = plot_w / n
    bar_w = slot * 0.72
    ticks = 4
    top = _axis_top(max((sum(values) for _, values in chart.rows), default=0), ticks)
    parts = [
        f'<svg class="columns" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart.chart_id}-t">'
    ]
    for i in range(ticks + 1):
        y = top_pad + plot_h - plot_h * i / ticks
        parts.append(f'<line class="grid" x1="{left}%" x2="{100 - right}%" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/>')  # fmt: skip
        parts.append(
            f'<text class="tick" x="{left - 1}%" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(top * i // ticks)}</text>"
        )
    every = max(1, -(-n // 8))  # at most about eight labels along the axis
    for c, (label, values) in enumerate(chart.rows):
        x = left + c * slot + (slot - bar_w) / 2
        y = float(top_pad + plot_h)
        for s, value in enumerate(values):
            if value <= 0:
                continue
            h = max(plot_h * value / top, 1.5)
            y -= h
            parts.append(
                _mark(chart.css_of(s, c), f"{x:.2f}%", f"{y:.1f}", f"{bar_w:.2f}%", f"{h:.1f}",
                      chart.series[s], label, value)
            )  # fmt: skip
        if c % every == 0:
            # Every other label gives way on a narrow screen (CSS); the ends are
            # anchored inside the drawing so they are never cut off.
            minor = " minor" if c % (2 * every) else ""
            anchor, at = "middle", x + bar_w / 2
            if c == 0:
                anchor, at = "start", x
            elif c == n - 1:
                anchor, at = "end", x + bar_w
            parts.append(
                f'<text class="tick{minor}" x="{at:.2f}%" y="{height - bottom + 18}" '
                f'text-anchor="{anchor}">{escape(_short_label(label))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _legend(chart: Chart) -> str:
    if chart.row_classes is not None or len(chart.series) < 2:
        return ""
    items = "".join(
        f'<li><span class="swatch {chart.css_of(s, 0)}"></span>{escape(name)}</li>'
        for s, name in enumerate(chart.series)
    )
    return f'<ul class="legend" aria-hidden="true">{items}</ul>'


def _table(chart: Chart) -> str:
    heads = [chart.label_heading, *chart.series, *(h for h, _ in chart.extra)]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in heads)
    body = []
    for r, (label, values) in enumerate(chart.rows):
        cells = "".join(f'<td class="num" data-value="{v}">{_fmt(v)}</td>' for v in values)
        cells += "".join(f'<td class="num">{escape(col[r])}</td>' for _, col in chart.extra)
        body.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return (
        f'<table class="data sortable numbers" data-chart="{chart.chart_id}">'
        f"<caption>{escape(chart.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_chart(chart: Chart) -> str:
    """A figure: title, legend, SVG (hidden from screen readers' tables) and the numbers."""
    has_data = any(v > 0 for _, values in chart.rows for v in values)
    if has_data:
        drawing = _bars_svg(chart) if chart.orientation == "bars" else _columns_svg(chart)
    else:
        drawing = '<p class="empty">nothing in this period</p>'
    note = f'<p class="note">{escape(chart.note)}</p>' if chart.note else ""
    cls = "chart wide" if chart.wide else "chart"
    return (
        f'<figure class="{cls}" id="chart-{chart.chart_id}" data-chart="{chart.chart_id}">'
        f'<figcaption id="{chart.chart_id}-t">{escape(chart.title)}</figcaption>'
        f"{_legend(chart)}{drawing}{note}"
        f'<button type="button" class="show-numbers" aria-expanded="false">numbers</button>'
        f'<div class="numbers-box visually-hidden">{_table(chart)}</div></figure>'
    )
