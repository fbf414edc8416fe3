"""The week chart's numbers come from ``week_bars``; the chart must stay what the
template used to work out itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import render_template, render_template_string

from app import timeutil
from app.dashboard.chart import week_bars

# The chart as it was, every number worked out in the template.
IN_THE_TEMPLATE = """
{%- set ns = namespace(top=8 * 3600) -%}
{%- for day in week_days -%}
  {%- set s = week_totals[day].total_seconds() if week_totals.get(day) else 0 -%}
  {%- if s > ns.top %}{% set ns.top = s %}{% endif -%}
{%- endfor %}
<svg class="chart week-chart" viewBox="0 0 280 100" aria-hidden="true" focusable="false">
  <line class="chart-grid" x1="0" x2="280" y1="80" y2="80"/>
  {%- for day in week_days %}
  {%- set s = week_totals[day].total_seconds() if week_totals.get(day) else 0 %}
  {%- set h = s / ns.top * 60 %}
  {%- set x = loop.index0 * 40 + 8 %}
  {%- if s > 0 %}
  <rect class="week-bar{% if day == today %} today{% endif %}" x="{{ x }}" y="{{ '%.2f'|format(80 - h) }}" width="24" height="{{ '%.2f'|format(h) }}" rx="3"/>
  <text class="chart-value" x="{{ x + 12 }}" y="{{ '%.2f'|format(76 - h) }}" text-anchor="middle">{{ week_totals[day]|duration }}</text>
  {%- endif %}
  <text class="chart-x" x="{{ x + 12 }}" y="96" text-anchor="middle">{{ day|localdate('%a') }}</text>
  {%- endfor %}
</svg>
<table class="visually-hidden">
  <caption>Hours per day this week</caption>
  <tbody>
  {%- for day in week_days %}
    <tr><th scope="row">{{ day|localdate('%A %-d %b') }}</th><td>{{ week_totals[day]|duration if week_totals.get(day) else '0:00' }}</td></tr>
  {%- endfor %}
  </tbody>
</table>"""  # noqa: E501

MONDAY = date(2025, 11, 3)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    "totals",
    [
        {},
        {MONDAY: 7.5 * H, MONDAY + timedelta(days=2): 20 * timedelta(minutes=1)},
        # Over the 8-hour scale, a zero day, and last Sunday's evening (not this week).
        {MONDAY: 11 * H, MONDAY + timedelta(days=1): timedelta(), MONDAY - timedelta(days=1): H},
        {MONDAY + timedelta(days=k): k * 1.7 * H + timedelta(seconds=29) for k in range(7)},
    ],
)
def test_week_chart_is_what_the_template_worked_out(app: Any, totals: Any) -> None:
    days = timeutil.week_days(MONDAY)
    today = MONDAY + timedelta(days=2)
    with app.test_request_context("/"):
        want = render_template_string(
            IN_THE_TEMPLATE, week_days=days, week_totals=totals, today=today
        )
        got = render_template(
            "dashboard/_week_chart.html", week_bars=week_bars(days, totals), today=today
        )
    assert got.split("<svg", 1)[1] == want.split("<svg", 1)[1]
    assert ("week-bar today" in got) is bool(totals.get(today))
