"""Security headers on every answer, and templates a strict CSP cannot break.

The CSP forbids inline script and style, so the page templates must not
contain any: no <script> with a body, no on*= handlers, no style= attributes,
no <style> blocks, no javascript: links. Checked on the template sources and
on every page the app actually renders (routes taken from the URL map).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.security.support import object_for, populate

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _csp(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {d[0]: d[1:] for d in directives}


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would block, from the parsed markup (so text
    that merely looks like an attribute inside an escaped value is not one)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"event handler attribute {name}= on <{tag}>")
            elif name == "style":
                self.found.append(f"style attribute on <{tag}>")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name}= on <{tag}>")
        if tag == "style":
            self.found.append("<style> block")
        if tag == "script":
            self._script = "" if dict(attrs).get("src") else "(no src)"

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            if self._script:
                self.found.append(f"inline <script>: {self._script[:60]!r}")
            self._script = None


def inline_code(html: str) -> list[str]:
    """Everything in ``html`` a strict CSP would block, as short descriptions."""
    finder = _InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def test_csp_allows_no_inline_script_or_style_and_no_framing(client):
    csp = _csp(client.get("/login"))

    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    for sources in csp.values():
        assert "'unsafe-inline'" not in sources
        assert "'unsafe-eval'" not in sources
        assert "*" not in sources


@pytest.mark.parametrize("path", ["/login", "/static/app.js", "/no-such-page", "/healthz"])
def test_every_answer_carries_the_hardening_headers(client, path):
    response = client.get(path)
    response.close()

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_hsts_only_over_https(client):
    over_http = client.get("/login")
    over_https = client.get("/login", base_url="https://localhost")

    assert "Strict-Transport-Security" not in over_http.headers
    hsts = over_https.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_logged_in_pages_are_not_cached(client, user_id):
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_the_scanner_finds_what_a_strict_csp_blocks():
    # The scanner itself must catch each form of inline code it claims to.
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<a href="#" onclick="go()">x</a>')
    assert inline_code('<p style="color:red">x</p>')
    assert inline_code("<style>p{}</style>")
    assert inline_code('<a href="javascript:go()">x</a>')
    assert not inline_code('<script src="/static/app.js" defer></script><p class="x">ok</p>')
    assert not inline_code('<input value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;">')


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_script_or_style(template):
    assert inline_code((TEMPLATES / template).read_text()) == []


def _get_pages(app: Any, ids: dict[str, int]) -> list[str]:
    """A URL for every GET route: its int arguments filled with the user's own ids."""
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            args = {name: ids[object_for(name)] for name in rule.arguments}
            pages.append(app.url_for(rule.endpoint, **args))
    return pages


def test_no_rendered_page_has_inline_script_or_style(app, client, user_id):
    ids = populate(app, user_id)
    for path in _get_pages(app, ids):
        response = client.get(path)
        assert response.status_code < 500, path
        if response.mimetype == "text/html":
            assert inline_code(response.get_data(as_text=True)) == [], path
        response.close()
