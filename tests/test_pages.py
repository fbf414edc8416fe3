"""Pages work without JavaScript, label every field, and load nothing third-party."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, utc


class _Form(HTMLParser):
    """Collects fields, labels and external references of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.external: list[str] = []
        self.forms: list[dict[str, str | None]] = []
        self.html_lang: str | None = None
        self._in_label = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._in_label:
            self._in_label -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.labels.add(a["for"] or "")
        if tag == "form":
            self.forms.append(a)
        if tag in {"select", "textarea"} or (
            tag == "input" and a.get("type") not in {"hidden", "submit", "button"}
        ):
            self.fields.append(a | {"_wrapped": "yes" if self._in_label else None})
        for attr in ("src", "href"):
            value = a.get(attr) or ""
            if tag in {"script", "link", "img", "iframe"} and re.match(r"(https?:)?//", value):
                self.external.append(value)


# The blueprints of the foundation; other packages check their own pages.
FOUNDATION = {"auth", "projects", "entries", "dashboard", "settings"}


def _pages(app: Any, entry_id: int, project_id: int) -> list[str]:
    urls = [f"/entries/{entry_id}/edit", f"/projects/{project_id}/edit"]
    for rule in app.url_map.iter_rules():
        in_foundation = rule.endpoint.split(".")[0] in FOUNDATION
        if in_foundation and "GET" in rule.methods and not rule.arguments:
            urls.append(rule.rule)
    return urls


@pytest.fixture
def pages(app, client, user_id, make_entry, make_project) -> dict[str, _Form]:
    project = make_project(user_id)
    entry = make_entry(user_id, utc(2026, 3, 24, 8), utc(2026, 3, 24, 9), project_id=project)
    parsed = {}
    for url in _pages(app, entry, project):
        response = client.get(url)
        if response.status_code == 302:  # login/signup send a logged-in user away
            continue
        assert response.status_code == 200, url
        parser = _Form()
        parser.feed(response.get_data(as_text=True))
        parsed[url] = parser
    client.post("/logout")
    for url in ("/login", "/signup"):
        parser = _Form()
        parser.feed(client.get(url).get_data(as_text=True))
        parsed[url] = parser
    return parsed


def test_every_field_has_a_label(pages):
    assert {"/", "/entries/", "/projects/", "/settings/profile", "/login", "/signup"} <= set(pages)
    unlabelled = {
        url: [f.get("name") for f in form.fields if f.get("id") not in form.labels]
        for url, form in pages.items()
    }
    unlabelled = {
        url: names
        for url, names in unlabelled.items()
        if [n for n in names if n and not _aria_labelled(pages[url], n)]
    }
    assert unlabelled == {}


def _aria_labelled(form: _Form, name: str) -> bool:
    """Labelled by a wrapping <label> or by an ARIA attribute."""
    return any(
        f.get("name") == name
        and (f.get("_wrapped") or f.get("aria-label") or f.get("aria-labelledby"))
        for f in form.fields
    )


def test_forms_post_without_javascript(pages):
    for url, form in pages.items():
        assert form.html_lang == "en", url
        for attrs in form.forms:
            assert (attrs.get("method") or "get").lower() in {"get", "post"}, url


def test_nothing_is_loaded_from_another_origin(pages):
    assert {url: form.external for url, form in pages.items() if form.external} == {}


def test_templates_and_static_files_reference_no_cdn():
    pattern = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//""")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("templates", "static")
        for path in Path(ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".html", ".css", ".js"}
        and (pattern.search(path.read_text()) or "@import url(http" in path.read_text())
    ]
    assert offenders == []


def test_focus_is_visible_and_the_layout_responds():
    css = (ROOT / "static" / "app.css").read_text()
    assert ":focus-visible" in css and "outline" in css
    assert "@media (max-width" in css
    base = (ROOT / "templates" / "base.html").read_text()
    assert 'name="viewport"' in base and "skip-link" in base
