"""Server-drawn SVG chart: hours per day, stacked by project.

Drawn here rather than in the browser because the CSP forbids inline
scripts and styles: user colours go into SVG ``fill`` attributes, everything
else is styled by classes in ``static/app.css``. The SVG is built with
ElementTree, so names and descriptions are escaped and the output is always
well-formed XML. Each bar segment is one ``<rect>`` with a ``<title>``
tooltip; gridlines are ``<line>`` elements, so the only rects are segments.
The page shows a table with the same numbers beside the chart.

Legible on a phone: text is sized in the SVG's own units, so the drawing is
kept narrow (a phone shows it near 1:1), the CSS never lets it shrink below
``min-width`` (it scrolls sideways instead), and day labels are spaced so
they never run into each other.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from markupsafe import Markup

from app import timeutil
from app.reports.totals import Report

SVG_NS = "http://www.w3.org/2000/svg"
PLOT_W, PLOT_H = 500.0, 220.0
# RIGHT leaves room for half a date label centred on the last day.
LEFT, TOP, BOTTOM, RIGHT = 44.0, 12.0, 28.0, 24.0
# Text size in SVG units: ``.report-chart text`` in static/app.css says the same.
FONT = 14.0
# "28 Feb" is about 3.3 × FONT wide; the rest is air between two labels.
LABEL_GAP = 4 * FONT
_STEPS_H = (1, 2, 3, 4, 6, 8, 12, 24, 48, 96)
_STEPS_DAYS = (1, 2, 7, 14)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _tick_step(top_hours: float) -> int:
    """A gridline step giving at most ~6 lines."""
    return next((s for s in _STEPS_H if top_hours / s <= 6), _STEPS_H[-1])


def _label_every(slot: float) -> int:
    """Label every nth day: as often as labels fit, and weekly (or n weeks) past two days."""
    need = math.ceil(LABEL_GAP / slot)
    return next((s for s in _STEPS_DAYS if s >= need), 7 * math.ceil(need / 7))


def _day_label(day: date, short: bool) -> str:
    return f"{day:%a} {day.day}" if short else f"{day.day} {day:%b}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    element = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _axis(svg: ET.Element, top_hours: int, step: int) -> None:
    scale = PLOT_H / top_hours
    for h in range(0, top_hours + 1, step):
        y = TOP + PLOT_H - h * scale
        _sub(
            svg,
            "line",
            class_="chart-grid",
            x1=_num(LEFT),
            x2=_num(LEFT + PLOT_W),
            y1=_num(y),
            y2=_num(y),
        )
        _sub(
            svg,
            "text",
            f"{h} h",
            class_="chart-y",
            x=_num(LEFT - 6),
            y=_num(y + FONT * 0.35),
            text_anchor="end",
        )


def _bars(svg: ET.Element, report: Report, top_hours: int) -> None:
    days = report.period.days
    slot = PLOT_W / len(days)
    bar_w = max(slot * 0.7, 1.0)
    scale = PLOT_H / top_hours
    label_every = _label_every(slot)
    order = [p.project_id for p in report.projects]
    names = {p.project_id: (p.name, p.colour) for p in report.projects}
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + PLOT_H
        cells = report.by_day_project.get(day, {})
        for project_id in order:
            part = cells.get(project_id)
            if not part:
                continue
            height = _hours(part) * scale
            y -= height
            name, colour = names[project_id]
            rect = _sub(
                svg,
                "rect",
                x=_num(x),
                y=_num(y),
                width=_num(bar_w),
                height=_num(height),
                fill=colour,
            )
            _sub(
                rect,
                "title",
                f"{day:%a} {day.day} {day:%b %Y} · {name}: {timeutil.format_duration(part)}",
            )
        if i % label_every == 0:
            _sub(
                svg,
                "text",
                _day_label(day, len(days) <= 7),
                class_="chart-x",
                text_anchor="middle",
                x=_num(LEFT + i * slot + slot / 2),
                y=_num(TOP + PLOT_H + 18),
            )


def stacked_day_chart(report: Report, chart_id: str = "report-chart") -> Markup:
    """The report's hours per day as an accessible SVG (``role="img"``, labelled by its title)."""
    top = max(_hours(report.busiest_day), 1.0)
    step = _tick_step(top)
    top_hours = step * math.ceil(top / step)
    width, height = LEFT + PLOT_W + RIGHT, TOP + PLOT_H + BOTTOM
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "class": "chart report-chart",
            "viewBox": f"0 0 {_num(width)} {_num(height)}",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "id": chart_id,
        },
    )
    first, last = report.period.first, report.period.last
    _sub(
        svg,
        "title",
        f"Hours per day by project, {first.isoformat()} to {last.isoformat()}",
        id=f"{chart_id}-title",
    )
    _sub(
        svg,
        "desc",
        f"{timeutil.format_duration(report.total)} in total over {len(report.period.days)} days. "
        "The table beside the chart lists the same values.",
        id=f"{chart_id}-desc",
    )
    _axis(svg, top_hours, step)
    _bars(svg, report, top_hours)
    # ElementTree escapes every text node and attribute value (names and
    # descriptions are user data), so the serialised tree is safe markup.
    return Markup(ET.tostring(svg, encoding="unicode"))  # noqa: S704
