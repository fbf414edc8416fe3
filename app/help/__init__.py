"""Help pages: how to publish a calendar and fix what feed diagnostics find.

Public (no sign-in needed): people land here from a diagnostic on the feed
page, from the CLI's output, or before they have an account at all.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("help", __name__)

# Views register their routes on ``bp``; imported last so ``bp`` exists.
from app.help import views  # noqa: E402, F401
