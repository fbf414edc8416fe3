"""Reading pages the way a user does: text with HTML entities decoded."""

from __future__ import annotations

import html
import re
from typing import Any


def page(response: Any) -> str:
    """The response body with entities decoded ("Don't", “quotes”, …)."""
    return html.unescape(response.get_data(as_text=True))


def section(text: str, element_id: str) -> str:
    """The HTML of the <section> whose heading has ``element_id``."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{re.escape(element_id)}".*?</section>', text, re.S
    )
    assert match, f"no section labelled {element_id}"
    return match.group(0)
