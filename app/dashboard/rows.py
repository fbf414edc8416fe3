"""Template helpers for what repeats on every dashboard view: the links of
rows (impulses, time entries, calendar changes; also on the timesheet and in
re-rendered rows), the panel's day links, the swatches.

Written the plain way (``url_for`` per link, a macro per swatch), they cost
more than the rest of a row: ``url_for`` takes about 3 µs, more with query
arguments, and a Jinja macro call about 2.5 µs. Here a list's links are built
once with a placeholder and filled in per row (or day), links without
arguments once per mount point, and a swatch is one Python call.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import current_app, g, request, url_for
from markupsafe import Markup, escape

# An id no row has, so it can be found in a URL built once and replaced.
_PLACEHOLDER = "987654321"
GREY = "#9aa3b2"  # the swatch of a missing or malformed colour


class _Filled:
    """A URL built once with ``_PLACEHOLDER`` for one value, to fill in many times."""

    __slots__ = ("_head", "_tail")

    def __init__(self, url: str) -> None:
        # The path comes before the query, so the first match is the placeholder.
        head, found, tail = url.partition(_PLACEHOLDER)
        if not found:
            raise ValueError(f"no placeholder in {url!r}")
        self._head, self._tail = head, tail


class RowUrl(_Filled):
    """``url_for(endpoint, <id_name>=row_id, **values)`` for any ``row_id``: ``link(42)``."""

    __slots__ = ()

    def __call__(self, row_id: int) -> str:
        return f"{self._head}{int(row_id)}{self._tail}"


class DayUrl(_Filled):
    """``url_for(endpoint, day=day.isoformat(), **values)`` for any ``day`` (a date).
    An ISO date is digits and dashes, which a URL writes as they are."""

    __slots__ = ()

    def __call__(self, day: date) -> str:
        return f"{self._head}{day.isoformat()}{self._tail}"


Link = TypeVar("Link", RowUrl, DayUrl)


def _made(kind: type[Link], endpoint: str, name: str, values: dict[str, Any]) -> Link:
    # With no other values the URL only depends on where the app is mounted, so
    # it is built once per script root and kept (as the menu's links are); with
    # values (a ``next`` to return to, the panel's filters) once per request.
    if values:
        cache = g.setdefault("timepulse_links", {})
        key: tuple[Any, ...] = (kind, endpoint, name, *values.items())
    else:
        cache = current_app.extensions.setdefault("timepulse_links", {})
        key = (kind, request.script_root, endpoint, name)
    made: Link | None = cache.get(key)
    if made is None:
        made = cache[key] = kind(url_for(endpoint, **{name: _PLACEHOLDER}, **values))
    return made


def row_url(endpoint: str, id_name: str, **values: Any) -> RowUrl:
    """The links of a list of rows to ``endpoint``, whose ``id_name`` is each row's id."""
    return _made(RowUrl, endpoint, id_name, values)


def day_url(endpoint: str, **values: Any) -> DayUrl:
    """Links to ``endpoint`` for any ``day``, with ``values`` (day first, as url_for
    writes ``url_for(endpoint, day=…, **values)``)."""
    return _made(DayUrl, endpoint, "day", values)


def page_url(endpoint: str) -> str:
    """``url_for(endpoint)`` for an endpoint without arguments, built once per script root."""
    cache: dict[tuple[str, str], str] = current_app.extensions.setdefault("timepulse_pages", {})
    key = (request.script_root, endpoint)
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint)
    return url


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
