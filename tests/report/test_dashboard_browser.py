"""The dashboard as a person sees it: rendered by headless Chromium.

Skipped only when no `chromium` is installed (`.ci/run` installs it).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.browser import Page, chromium_page, find_chromium
from tests.report.conftest import HOSTILE_OPERATOR, HOSTILE_REASON

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")

DESKTOP = (1280, 900)
NARROW = (390, 844)


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def _expected_charts(doc: dict[str, Any]) -> dict[str, list[tuple[str, list[int]]]]:
    """Each chart's rows as the --json aggregates give them: (label, one value per series)."""
    health, repairs = doc["health"], doc["repairs"]
    return {
        "states": [(s, [health["by_state"][s]]) for s in ("healthy", "repaired", "broken")],
        "findings": [(k, [v]) for k, v in health["findings_by_kind"].items()],
        "projects": [(p["project"], [p["resume_loss"]]) for p in health["projects"][:15]],
        "over-time": [
            (b["period"], [b["repairs"], b["reverts"]]) for b in repairs["over_time"]["buckets"]
        ],
        "operators": [
            (o["operator"], [o["repairs"] - o["reverted"], o["reverted"], o["reverts"]])
            for o in repairs["by_operator"]
        ],
        "kinds": [(k, [v]) for k, v in repairs["by_kind"].items()],
        "methods": [
            (m["method"], [m["repairs"] - m["reverted"], m["reverted"]])
            for m in repairs["by_method"]
        ],
        "calibration": [
            (b["bucket"], [b["repairs"] - b["reverted"], b["reverted"]])
            for b in repairs["score_calibration"]
        ],
        "delay": [(b["label"], [b["repairs"]]) for b in repairs["time_to_repair"]["buckets"]],
    }


READ_CHARTS = """
Array.from(document.querySelectorAll('figure.chart')).map(fig => ({
  id: fig.dataset.chart,
  marks: Array.from(fig.querySelectorAll('svg rect.mark')).map(r => ({
    label: r.dataset.label, series: r.dataset.series, value: Number(r.dataset.value),
    width: r.getBoundingClientRect().width, height: r.getBoundingClientRect().height})),
  series: Array.from(fig.querySelectorAll('table thead th')).slice(1).map(th => th.textContent),
  rows: Array.from(fig.querySelectorAll('table tbody tr')).map(tr => ({
    label: tr.querySelector('th').textContent,
    values: Array.from(tr.querySelectorAll('td[data-value]')).map(td => Number(td.dataset.value)),
  })),
}))
"""


def test_charts_draw_the_json_aggregates_without_errors(
    page: Page, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    path, doc = dashboard
    page.set_viewport(*DESKTOP)
    page.open(path)
    assert page.console_errors() == []
    assert page.requests() == [path.resolve().as_uri()]  # nothing from the network

    charts = {c["id"]: c for c in page.evaluate(READ_CHARTS)}
    expected = _expected_charts(doc)
    assert set(charts) == set(expected)
    for chart_id, rows in expected.items():
        chart = charts[chart_id]
        assert [(r["label"], r["values"]) for r in chart["rows"]] == rows, chart_id
        assert chart["marks"], f"chart {chart_id} drew nothing"
        assert all(m["width"] > 0 and m["height"] > 0 for m in chart["marks"]), chart_id
        # Each mark is one non-zero (label, series) cell of the table, with its value.
        series = chart["series"]
        cells = {
            (label, series[i]): value
            for label, values in rows
            for i, value in enumerate(values)
            if value
        }
        assert {(m["label"], m["series"]): m["value"] for m in chart["marks"]} == cells, chart_id

    # The headline numbers and the verification agree with the data too.
    cards = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('.card')).map("
        "c => [c.querySelector('span').textContent, c.querySelector('b').textContent]))"
    )
    assert cards["sessions"] == f"{doc['health']['sessions']:,}"
    assert cards["repairs"] == f"{doc['repairs']['repairs']:,}"
    assert cards["messages resume would lose"] == f"{doc['health']['resume_loss']:,}"
    assert doc["verification"]["ok"] is True
    verdict = page.evaluate("document.querySelector('.verification .verdict').textContent")
    assert "Log intact" in verdict
    assert page.evaluate("document.querySelector('.checkpoint .verdict').textContent") == (
        "No checkpoint"
    )


def test_hostile_strings_are_text(page: Page, dashboard: tuple[Path, dict[str, Any]]) -> None:
    path, doc = dashboard
    page.open(path)
    assert page.console_errors() == []
    assert not [e for e in page.events if e["method"] == "Page.javascriptDialogOpening"]
    assert page.evaluate("document.scripts.length") == 1
    assert page.evaluate("document.querySelectorAll('img, body svg[onload]').length") == 0
    text = page.evaluate("document.body.innerText")
    assert HOSTILE_OPERATOR in text and "<img src=x onerror=alert(2)>" in text
    assert "<svg onload=alert(3)>" in text  # the project's name, in the worst sessions
    assert HOSTILE_REASON in {e["reason"] for e in doc["repairs"]["recent"]}


def test_tables_sort_and_numbers_show(page: Page, dashboard: tuple[Path, dict[str, Any]]) -> None:
    path, _ = dashboard
    page.open(path)
    column = (
        "Array.from(document.querySelectorAll('#projects-table tbody tr'))"
        ".map(tr => Number(tr.cells[1].dataset.value))"
    )
    click = "document.querySelectorAll('#projects-table thead th button')[1].click()"
    page.evaluate(click)
    first = page.evaluate(column)
    assert first == sorted(first, reverse=True)
    page.evaluate(click)
    second = page.evaluate(column)
    assert second == sorted(second) and len(second) > 1
    assert (
        page.evaluate(
            "document.querySelectorAll('#projects-table thead th')[1].getAttribute('aria-sort')"
        )
        == "ascending"
    )
    toggle = "document.querySelector('#chart-states .show-numbers')"
    box = "document.querySelector('#chart-states .numbers-box')"
    assert page.evaluate(f"{box}.getBoundingClientRect().height") <= 1
    page.evaluate(f"{toggle}.click()")
    assert page.evaluate(f"{box}.getBoundingClientRect().height") > 20
    # A worst session's link opens its details.
    link = "document.querySelector('#worst-table tbody a')"
    target = page.evaluate(f"{link}.getAttribute('href')")
    details = f"document.getElementById('{target[1:]}').closest('details')"
    assert page.evaluate(f"{details}.open") is False
    page.evaluate(f"{link}.click()")
    page.evaluate("new Promise(done => setTimeout(done, 100))")  # hashchange is async
    assert page.evaluate(f"{details}.open") is True
    assert page.console_errors() == []


LAYOUT = """
(() => {
  const doc = document.documentElement;
  const outside = [];
  document.querySelectorAll('figure.chart svg').forEach(svg => {
    const box = svg.getBoundingClientRect();
    svg.querySelectorAll('text, rect').forEach(el => {
      if (getComputedStyle(el).display === 'none') return;
      const r = el.getBoundingClientRect();
      if (r.width === 0) return;
      if (r.left < box.left - 1 || r.right > box.right + 1)
        outside.push(svg.closest('figure').dataset.chart + ': ' + (el.textContent || 'rect'));
    });
  });
  const wide = Array.from(document.querySelectorAll('body *')).filter(el => {
    if (el.closest('.scroll, .visually-hidden')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 1;
  }).map(el => el.tagName + '.' + el.className);
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, outside, wide,
          background: getComputedStyle(doc).backgroundColor};
})()
"""


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _luminance(css_rgb: str) -> float:
    r, g, b = (int(v) for v in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.parametrize("width,height", [DESKTOP, NARROW], ids=["desktop", "narrow"])
def test_layout_fits_the_window(
    page: Page, dashboard: tuple[Path, dict[str, Any]], tmp_path: Path, width: int, height: int
) -> None:
    path, _ = dashboard
    page.prefer_dark(False)
    page.set_viewport(width, height)
    page.open(path)
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["innerWidth"], layout["wide"]
    assert layout["wide"] == []
    assert layout["outside"] == []  # no label or bar drawn outside its chart
    assert _luminance(layout["background"]) > 0.8
    shot = page.screenshot(tmp_path / f"dashboard-{width}.png")
    assert _png_size(shot)[0] == width
    page.prefer_dark(True)
    dark = page.evaluate(LAYOUT)
    assert _luminance(dark["background"]) < 0.2
    assert dark["outside"] == [] and dark["scrollWidth"] <= dark["innerWidth"]
    page.prefer_dark(False)
    assert page.console_errors() == []
