"""``timepulse feeds diagnose SOURCE``: what a person reads, and the exit status."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.feeds.diagnose_cli import diagnose as diagnose_command
from tests.feeds.diagnose_support import CALENDARS
from tests.support.feed_server import FeedServer

MARCH = ["--from", "2024-03-01", "--to", "2024-04-01"]


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(diagnose_command, list(args), input=stdin, env=env)


def fixture(name: str) -> str:
    return str(CALENDARS / name)


def test_availability_only_feed_explains_the_fix_and_exits_1() -> None:
    result = run(fixture("availability_de.ics"), *MARCH)
    assert result.exit_code == 1, result.output
    assert "Detail level: availability only" in result.output
    assert "Events: 9 in the calendar, 12 occurrence(s) from 2024-03-01 to 2024-03-31" in (
        result.output
    )
    assert "[warning] Only availability is published" in result.output
    assert 'Fix: Publish the calendar again with "Limited details"' in result.output
    assert "Help: /help/troubleshooting#availability-only" in result.output


def test_limited_details_feed_has_nothing_to_fix_and_exits_0() -> None:
    result = run(fixture("diag_limited.ics"), *MARCH)
    assert result.exit_code == 0, result.output
    assert "Detail level: limited details" in result.output
    assert "Nothing to fix." in result.output
    assert "[info] Limited details" in result.output


def test_private_events_are_a_note_not_a_problem() -> None:
    result = run(fixture("diag_private.ics"), *MARCH)
    assert result.exit_code == 0, result.output
    assert "[info] Private events" in result.output
    assert "Help: /help/troubleshooting#private-events" in result.output


def test_empty_calendar_needs_a_fix() -> None:
    result = run(fixture("diag_empty.ics"), *MARCH)
    assert result.exit_code == 1
    assert "[warning] The calendar has no events" in result.output


def test_reads_standard_input() -> None:
    data = (CALENDARS / "availability_fr.ics").read_bytes()
    result = run("-", *MARCH, stdin=data)
    assert result.exit_code == 1
    assert "Calendar: standard input" in result.output


def test_a_sign_in_page_is_not_a_calendar_and_exits_2_with_one_line() -> None:
    result = run(fixture("diag_login_page.ics"), *MARCH)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: This is not a calendar:")
    assert "/help/troubleshooting#not-a-calendar" in lines[0]


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.ics"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot read")


def test_http_link_is_refused_as_insecure() -> None:
    result = run("http://outlook.office365.com/owa/calendar/abc/def/calendar.ics")
    assert result.exit_code == 2
    assert "#https-link" in result.stderr


def test_bad_window_is_a_usage_error() -> None:
    result = run(fixture("diag_limited.ics"), "--from", "2024-04-01", "--to", "2024-03-01")
    assert result.exit_code == 2
    assert "--to must be after --from" in result.output + result.stderr


def test_fetches_an_https_link_without_printing_it(feed_server: FeedServer) -> None:
    secret = "/owa/calendar/0123456789abcdef/fedcba9876543210/calendar.ics"
    feed_server.route(secret, body=(CALENDARS / "availability_cs.ics").read_bytes())
    url = feed_server.url(secret)
    result = run(url, *MARCH, env={"TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1"})
    assert result.exit_code == 1, result.output + result.stderr
    assert "Only availability is published" in result.output
    assert "0123456789abcdef" not in result.output + result.stderr


@pytest.mark.parametrize("status", [404, 410])
def test_unpublished_link_says_so(feed_server: FeedServer, status: int) -> None:
    feed_server.route("/gone.ics", status=status, body="Not found")
    result = run(feed_server.url("/gone.ics"), env={"TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1"})
    assert result.exit_code == 2
    assert "Calendar link no longer works" in result.stderr
    assert "#link-not-found" in result.stderr
