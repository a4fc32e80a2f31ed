"""CalDAV connector parts that need no server: config, hrefs, multistatus, cursor."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from connectors.caldav import CaldavConfig, CaldavTimeouts, RetryPolicy
from connectors.caldav.client import _sync_page
from connectors.caldav.cursor import (
    CURSOR_VERSION,
    CalendarState,
    ListingState,
    SyncState,
)
from connectors.caldav.hrefs import normalize_href, object_prefix
from connectors.caldav.multistatus import (
    GETETAG,
    InvalidMultistatus,
    multiget_body,
    parse_multistatus,
    sync_collection_body,
)

URL = "https://dav.brookside-pt.example/dav/"

# A truncated page of a sync-collection report (RFC 6578 section 3.6): a
# changed member, the collection itself with an ETag (as iCloud lists it),
# and a 507 on the collection.
TRUNCATED_PAGE = b"""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:">
  <d:response><d:href>/cal/sam/huddle.ics</d:href>
    <d:propstat><d:prop><d:getetag>"e1"</d:getetag></d:prop>
    <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
  <d:response><d:href>/cal/sam/</d:href>
    <d:propstat><d:prop><d:getetag>"c9"</d:getetag></d:prop>
    <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
  <d:response><d:href>/cal/sam/</d:href>
    <d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>
  <d:sync-token>https://dav.example/sync/41</d:sync-token>
</d:multistatus>
"""


def config(**changes: object) -> CaldavConfig:
    fields: dict[str, object] = {"url": URL, "username": "sam", "password": "pw"}
    fields.update(changes)
    return CaldavConfig(**fields)  # type: ignore[arg-type]


# Config.


def test_config_hides_password_from_repr() -> None:
    settings = config(password="hunter2-secret")

    assert "hunter2-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("dav.example.com", "invalid"),
        ("ftp://dav.example.com/", "invalid"),
        ("https://sam:pw@dav.example.com/", "contains credentials"),
        ("http://dav.example.com/", "plain http"),
    ],
)
def test_config_rejects_url(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(url=url)


def test_config_allows_plain_http_on_loopback() -> None:
    settings = config(url="http://127.0.0.1:5232/")

    assert settings.url == "http://127.0.0.1:5232/"


def test_config_allows_plain_http_when_asked() -> None:
    settings = config(url="http://dav.example.com/", allow_plain_http=True)

    assert settings.allow_plain_http


def test_config_normalizes_calendar_paths() -> None:
    settings = config(
        calendars=(
            "/dav/sam/work",
            "https://dav.brookside-pt.example/dav/sam/visits%20and%20lunches/",
        )
    )

    assert settings.calendars == ("/dav/sam/work/", "/dav/sam/visits%20and%20lunches/")


def test_config_rejects_empty_calendar_list() -> None:
    with pytest.raises(ValueError, match="lists no calendars"):
        config(calendars=())


def test_config_rejects_calendar_on_other_server() -> None:
    with pytest.raises(ValueError, match="not on the CalDAV server"):
        config(calendars=("https://evil.example/dav/sam/work/",))


def test_config_rejects_relative_calendar_path() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        config(calendars=("sam/work/",))


@pytest.mark.parametrize(
    "timeouts",
    [
        {"connect": 0},
        {"read": float("inf")},
        {"read": -1.0},
    ],
)
def test_timeouts_finite_and_positive(timeouts: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="timeout"):
        CaldavTimeouts(**timeouts)


def test_retry_policy_is_bounded() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)

    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=1000)


def test_config_rejects_unknown_zone() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        config(default_timezone="Mars/Olympus")


def test_config_rejects_naive_window() -> None:
    with pytest.raises(ValueError, match="naive"):
        config(window_start=dt.datetime(2026, 1, 1))  # noqa: DTZ001


# Hrefs.


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/cal/a@b.ics", "/cal/a@b.ics"),
        ("/cal/a%40b.ics", "/cal/a@b.ics"),
        ("https://dav.example/cal/a%40b.ics", "/cal/a@b.ics"),
        ("/cal/visit one.ics", "/cal/visit%20one.ics"),
        ("/cal/visit%20one.ics", "/cal/visit%20one.ics"),
        ("/cal/a|b.ics", "/cal/a%7Cb.ics"),
        ("/cal/caf%C3%A9.ics", "/cal/caf%C3%A9.ics"),
        ("/cal/latin%E9.ics", "/cal/latin%E9.ics"),
    ],
)
def test_href_has_one_spelling(href: str, expected: str) -> None:
    assert normalize_href(href) == expected


def test_object_prefix_unique_per_object() -> None:
    first = object_prefix("/cal/", normalize_href("/cal/a"))
    second = object_prefix("/cal/", normalize_href("/cal/a|b"))

    assert not second.startswith(first)


# Multistatus.


def test_truncated_page_ignores_collection_href() -> None:
    result = parse_multistatus(etree.fromstring(TRUNCATED_PAGE))

    page = _sync_page("/cal/sam/", result)

    assert page.changed == {"/cal/sam/huddle.ics": '"e1"'}
    assert page.removed == []
    assert page.truncated
    assert page.sync_token == "https://dav.example/sync/41"


def test_sync_page_only_404_removes() -> None:
    body = b"""<d:multistatus xmlns:d="DAV:">
      <d:response><d:href>/cal/sam/old-visit.ics</d:href>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:response>
      <d:response><d:href>/cal/sam/odd.ics</d:href>
        <d:status>HTTP/1.1 403 Forbidden</d:status></d:response>
      <d:response><d:href>/cal/sam/sub/</d:href>
        <d:propstat><d:prop><d:getetag>"s"</d:getetag></d:prop>
        <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:sync-token>https://dav.example/sync/42</d:sync-token>
    </d:multistatus>"""

    page = _sync_page("/cal/sam/", parse_multistatus(etree.fromstring(body)))

    assert page.removed == ["/cal/sam/old-visit.ics"]
    assert page.changed == {"/cal/sam/odd.ics": None}
    assert not page.truncated


def test_changed_wins_over_removed() -> None:
    body = b"""<d:multistatus xmlns:d="DAV:">
      <d:response><d:href>/cal/sam/a.ics</d:href>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:response>
      <d:response><d:href>/cal/sam/a.ics</d:href>
        <d:propstat><d:prop><d:getetag>"a2"</d:getetag></d:prop>
        <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:sync-token>t</d:sync-token>
    </d:multistatus>"""

    page = _sync_page("/cal/sam/", parse_multistatus(etree.fromstring(body)))

    assert page.changed == {"/cal/sam/a.ics": '"a2"'}
    assert page.removed == []


def test_response_with_several_hrefs_is_split() -> None:
    body = b"""<d:multistatus xmlns:d="DAV:">
      <d:response><d:href>/cal/a.ics</d:href><d:href>/cal/b.ics</d:href>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:response>
    </d:multistatus>"""

    result = parse_multistatus(etree.fromstring(body))

    assert [(r.href, r.status) for r in result.responses] == [
        ("/cal/a.ics", 404),
        ("/cal/b.ics", 404),
    ]


def test_property_with_error_status_is_missing() -> None:
    body = b"""<d:multistatus xmlns:d="DAV:">
      <d:response><d:href>/cal/a.ics</d:href>
        <d:propstat><d:prop><d:getetag/></d:prop>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
    </d:multistatus>"""

    (response,) = parse_multistatus(etree.fromstring(body)).responses

    assert response.text(GETETAG) is None


def test_html_error_page_is_not_multistatus() -> None:
    page = etree.fromstring(b"<html><body>Service down</body></html>")

    with pytest.raises(InvalidMultistatus, match="html"):
        parse_multistatus(page)


def test_sync_body_escapes_token() -> None:
    body = sync_collection_body("https://dav.example/sync/<1>&2")

    root = etree.fromstring(body)
    assert root.findtext("{DAV:}sync-token") == "https://dav.example/sync/<1>&2"
    assert root.findtext("{DAV:}sync-level") == "1"


def test_multiget_body_lists_hrefs() -> None:
    root = etree.fromstring(multiget_body(["/cal/a.ics", "/cal/b%20c.ics"]))

    hrefs = [element.text for element in root.iterfind("{DAV:}href")]
    assert hrefs == ["/cal/a.ics", "/cal/b%20c.ics"]


# Cursor.


def test_cursor_round_trip() -> None:
    since = dt.datetime(2026, 5, 2, 8, 0, tzinfo=dt.UTC)
    state = SyncState(
        {
            "/cal/sam/": CalendarState(
                sync_token="https://dav.example/sync/42",
                etags={"/cal/sam/a.ics": '"e1"', "/cal/sam/b.ics": ""},
                window_dependent={"/cal/sam/a.ics"},
                window=("2023-05-01T00:00:00+00:00", "2027-05-01T00:00:00+00:00"),
                listed_since=since,
                listing=ListingState(since, from_scratch=False),
            )
        }
    )

    loaded = SyncState.load(state.dump())

    assert loaded == state


def test_cursor_is_json_with_version() -> None:
    document = json.loads(SyncState().dump())

    assert document == {"version": CURSOR_VERSION, "calendars": {}}


@pytest.mark.parametrize(
    "cursor",
    [
        "not json",
        "[]",
        '{"version": "caldav-0", "calendars": {}}',
        '{"version": "caldav-1"}',
        '{"version": "caldav-1", "calendars": {"/c/": {"listed_since": "x"}}}',
        '{"version": "caldav-1", "calendars": {"/c/": '
        '{"listed_since": "2026-01-01T00:00:00"}}}',
    ],
)
def test_cursor_rejects_invalid(cursor: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        SyncState.load(cursor)
