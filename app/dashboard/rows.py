"""Template helpers for rows that repeat on every dashboard view: impulses,
time entries, calendar changes (also on the timesheet and in re-rendered rows).

A row's links and colour swatch, written the plain way (``url_for`` per link,
a macro per swatch), cost more than the rest of the row: ``url_for`` takes
about 3 µs, more with query arguments, and a Jinja macro call about 2.5 µs.
Here a list's links are built once with a placeholder id and filled in per
row, and the swatch is one Python call.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for
from markupsafe import Markup, escape

# An id no row has, so it can be found in a URL built once and replaced.
_PLACEHOLDER = "987654321"
GREY = "#9aa3b2"  # the swatch of a missing or malformed colour


class RowUrl:
    """``url_for(endpoint, <id_name>=row_id, **values)`` for any ``row_id``:
    ``RowUrl(...)(42)``. Built from one URL in which the id is ``_PLACEHOLDER``."""

    __slots__ = ("_head", "_tail")

    def __init__(self, url: str) -> None:
        # The path comes before the query, so the first match is the id's.
        head, found, tail = url.partition(_PLACEHOLDER)
        if not found:
            raise ValueError(f"no id placeholder in {url!r}")
        self._head, self._tail = head, tail

    def __call__(self, row_id: int) -> str:
        return f"{self._head}{int(row_id)}{self._tail}"


def row_url(endpoint: str, id_name: str, **values: Any) -> RowUrl:
    """The links of a list of rows to ``endpoint``, whose ``id_name`` is each row's id.

    With no other ``values`` the URLs only depend on where the app is mounted,
    so they are built once per script root and kept (as the menu's links are);
    with ``values`` (a ``next`` to return to) once per request.
    """
    if values:
        cache = g.setdefault("timepulse_row_urls", {})
        key: tuple[Any, ...] = (endpoint, id_name, *values.items())
    else:
        cache = current_app.extensions.setdefault("timepulse_row_urls", {})
        key = (request.script_root, endpoint, id_name)
    made: RowUrl | None = cache.get(key)
    if made is None:
        made = cache[key] = RowUrl(url_for(endpoint, **values, **{id_name: _PLACEHOLDER}))
    return made


def swatch_fill(colour: str | None) -> str:
    """A user's colour if it looks like ``#rrggbb``, else grey."""
    return colour if colour and len(colour) == 7 and colour[0] == "#" else GREY


def swatch_svg(colour: str | None) -> Markup:
    """A colour dot. An SVG fill needs no inline style, so the strict CSP holds.
    The ``swatch`` macro of ``_forms.html`` writes this, for pages that import it."""
    # The one user value is escaped here; Markup.format would escape it too, at
    # three times the cost of this whole function.
    return Markup(  # noqa: S704
        '<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" focusable="false">'
        f'<circle cx="5" cy="5" r="5" fill="{escape(swatch_fill(colour))}"/></svg>'
    )
