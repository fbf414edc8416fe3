"""The troubleshooting page: public, complete, and linked from every diagnostic."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from app.feeds.catalogue import CATALOGUE, Entry, anchors

PATH = "/help/troubleshooting"


class _Ids(HTMLParser):
    """Collects element ids, in-page links and each section's text."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.sections: dict[str, str] = {}
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        href = attributes.get("href") or ""
        if href.startswith(("#", f"{PATH}#")):
            self.links.append(href.split("#", 1)[1])
        if tag == "section":
            self._section = attributes.get("id")
            self.sections[str(self._section)] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._section:
            self.sections[self._section] += data


@pytest.fixture
def page(client: FlaskClient) -> str:
    response = client.get(PATH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def parsed(page: str) -> _Ids:
    parser = _Ids()
    parser.feed(page)
    return parser


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_page_is_public(client: FlaskClient) -> None:
    response = client.get(PATH)
    assert response.status_code == 200
    assert "Troubleshooting calendar feeds" in response.get_data(as_text=True)


def test_every_catalogue_anchor_is_a_section(parsed: _Ids) -> None:
    missing = [anchor for anchor in anchors() if anchor not in parsed.sections]
    assert missing == []


def test_every_in_page_link_has_a_target_and_ids_are_unique(parsed: _Ids) -> None:
    assert [i for i, n in Counter(parsed.ids).items() if n > 1] == []
    assert sorted(set(parsed.links) - set(parsed.ids)) == []


def test_contents_lists_every_section(parsed: _Ids) -> None:
    assert set(parsed.sections) <= set(parsed.links)


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=lambda e: e.code)
def test_each_section_names_the_findings_that_link_to_it(parsed: _Ids, entry: Entry) -> None:
    section = " ".join(parsed.sections[entry.anchor].split())
    assert entry.title in section


@pytest.mark.parametrize(
    ("anchor", "steps"),
    [
        (
            "publish-outlook-desktop",
            ["Publish Online", "Publish This Calendar", "Limited details", ".ics"],
        ),
        (
            "publish-outlook-web",
            [
                "Settings",
                "Shared calendars",
                "Publish a calendar",
                "Can view titles and locations",
                "Publish",
                "ICS",
                "Copy link",
            ],
        ),
        (
            "organisation-policy",
            [
                "Set-SharingPolicy",
                "Anonymous:CalendarSharingFreeBusyDetail",
                "CalendarSharingFreeBusySimple",
                "CalendarSharingFreeBusyReviewer",
            ],
        ),
        ("reset-link", ["Reset links", "old links stop working", "paste the new link"]),
        ("stop-publishing", ["Unpublish", "disconnect"]),
        ("ics-vs-html", ["calendar.html", "calendar.ics"]),
        ("https-link", ["http://", "https://", "webcal://"]),
        ("update-delay", ["30 minutes", "several hours", "every 15 minutes", "Refresh now"]),
        ("time-zones", ["time zone in your profile", "Time zones"]),
        ("availability-only", ["Can view when I'm busy", "Limited details"]),
    ],
)
def test_sections_give_the_key_steps(page: str, anchor: str, steps: list[str]) -> None:
    match = re.search(rf'<section id="{anchor}".*?</section>', page, re.S)
    assert match, anchor
    text = _text(match.group(0)).replace("&#39;", "'").replace("&#34;", '"')
    for step in steps:
        assert step in text, (anchor, step)


def test_no_inline_styles_or_scripts(page: str) -> None:
    # The app sends a strict CSP: inline code would be blocked and is not allowed.
    assert " style=" not in page
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)
