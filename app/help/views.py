"""Routes of the help blueprint."""

from __future__ import annotations

from flask import render_template

from app.feeds.catalogue import entries_by_anchor
from app.help import bp


@bp.get("/help/troubleshooting")
def troubleshooting() -> str:
    """Step-by-step fixes, one section per problem the catalogue can report."""
    # Each section lists the findings that link to it, in the words the feed page uses.
    return render_template("help/troubleshooting.html", findings=entries_by_anchor())
