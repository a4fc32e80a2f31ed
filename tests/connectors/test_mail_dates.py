"""Date headers and mbox "From " line dates (connectors.mail.dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.errors import MalformedData
from connectors.mail import parse_from_line_date, parse_header_date, parse_message

SERVER_TIME = dt.datetime(2026, 3, 6, 10, 0, tzinfo=dt.UTC)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def message_with_date(date: bytes | None, *extra: bytes) -> bytes:
    lines = [b"From: ana@lakeside-fm.example", b"To: sam.ortiz@brookside-pt.example"]
    lines += [b"Date: " + date] if date is not None else []
    lines += [*extra, b"Message-ID: <c07@lakeside-fm.example>", b"", b"body"]
    return b"\r\n".join(lines)


# Malformed and implausible dates with their right reading, given the
# server timestamp.
@pytest.mark.parametrize(
    ("date", "expected", "defect"),
    [
        (
            b"2002/09/14 Sat 13:06:03 GMT",
            SERVER_TIME,
            "Date '2002/09/14 Sat 13:06:03 GMT' is invalid; used the server timestamp",
        ),
        (b"Sat, 8 May 2010 16.03.09 +0200", utc("2010-05-08T14:03:09Z"), None),
        (b"Wed, 14 Jun 100 05:41:34 -0700 (PDT)", utc("2000-06-14T12:41:34Z"), None),
        (
            b"Tue, 3 Mar 2026 09:15:00",
            SERVER_TIME,
            "Date 'Tue, 3 Mar 2026 09:15:00' has no known time zone; "
            "used the server timestamp",
        ),
        (
            b"Tue, 3 Mar 2026 25:15:00 +0000",
            SERVER_TIME,
            "Date 'Tue, 3 Mar 2026 25:15:00 +0000' is invalid; used the server timestamp",
        ),
        (
            b"Mon, 20 Nov 9999999999 12:00:00 +0000",
            SERVER_TIME,
            "Date 'Mon, 20 Nov 9999999999 12:00:00 +0000' is invalid; "
            "used the server timestamp",
        ),
        (b"Tue, 03 Mar 2026 09:15:00 EST", utc("2026-03-03T14:15:00Z"), None),
        (
            b"17 June , 2022",
            SERVER_TIME,
            "Date '17 June , 2022' is invalid; used the server timestamp",
        ),
        (
            b"Fri, 1 Jan 2099 00:00:00 +0000",
            SERVER_TIME,
            "Date 'Fri, 1 Jan 2099 00:00:00 +0000' is more than a day after the "
            "server timestamp; used the server timestamp",
        ),
    ],
)
def test_malformed_date_table(
    date: bytes, expected: dt.datetime, defect: str | None
) -> None:
    activity = parse_message(
        message_with_date(date), provider_key="k", server_time=SERVER_TIME
    )

    assert activity.occurred_at == expected
    assert activity.defects == ((defect,) if defect else ())


def test_no_zone_without_server_time_reads_utc() -> None:
    activity = parse_message(
        message_with_date(b"Tue, 3 Mar 2026 09:15:00"), provider_key="k"
    )

    assert activity.occurred_at == utc("2026-03-03T09:15:00Z")
    assert activity.defects == (
        "Date 'Tue, 3 Mar 2026 09:15:00' has no known time zone; read as UTC",
    )


def test_received_date_replaces_missing_server_time() -> None:
    received = (
        b"Received: from mx.lakeside-fm.example by mx.brookside-pt.example;\r\n"
        b" Thu, 5 Mar 2026 08:40:00 -0800 (PST)"
    )

    activity = parse_message(message_with_date(b"garbage", received), provider_key="k")

    assert activity.occurred_at == utc("2026-03-05T16:40:00Z")
    assert activity.defects == ("Date 'garbage' is invalid; used the Received date",)


def test_date_within_a_day_ahead_kept() -> None:
    activity = parse_message(
        message_with_date(b"Sat, 7 Mar 2026 09:00:00 +0000"),
        provider_key="k",
        server_time=SERVER_TIME,
    )

    assert activity.occurred_at == utc("2026-03-07T09:00:00Z")
    assert activity.defects == ()


def test_old_date_is_kept() -> None:
    activity = parse_message(
        message_with_date(b"Sat, 12 Jul 1997 22:11:13 +0200"),
        provider_key="k",
        server_time=SERVER_TIME,
    )

    assert activity.occurred_at == utc("1997-07-12T20:11:13Z")


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        (None, "Date header is missing, and there is no server timestamp to use"),
        (b"17 June , 2022", "Date '17 June , 2022' is invalid, and there is no server"),
        (
            b"Fri, 1 Jan 2099 00:00:00 +0000",
            "is more than a day after the current time",
        ),
    ],
)
def test_no_usable_date_is_rejected(date: bytes | None, reason: str) -> None:
    with pytest.raises(MalformedData, match=reason):
        parse_message(message_with_date(date), provider_key="k")


def test_naive_server_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="must be an aware datetime"):
        parse_message(
            message_with_date(b"bad"),
            provider_key="k",
            server_time=dt.datetime(2026, 3, 6),  # noqa: DTZ001 - the error under test
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
            "               -0330 (Newfoundland Time)",
            "1969-02-14T03:02:00Z",
        ),
        ("5 Sept 2026 10:00 +0000 GMT", "2026-09-05T10:00:00Z"),
        ("Mon, 1 Mar 49 10:00:00 +0000", "2049-03-01T10:00:00Z"),
        ("Mon, 1 Mar 50 10:00:00 +0000", "1950-03-01T10:00:00Z"),
        ("Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z"),
        ("Tue, 3 Mar 2026 09:15:00 -0000", "2026-03-03T09:15:00Z"),
        ("Tue, 3 Mar 2026 09:15:00 PDT", "2026-03-03T16:15:00Z"),
    ],
)
def test_header_date_forms(text: str, expected: str) -> None:
    reading = parse_header_date(text)

    assert reading is not None
    assert reading.value == utc(expected)
    assert reading.zone_known


@pytest.mark.parametrize("zone", ["A", "CEST", "MET", "JST"])
def test_zone_names_without_known_offset(zone: str) -> None:
    reading = parse_header_date(f"Tue, 3 Mar 2026 09:15:00 {zone}")

    assert reading is not None
    assert reading.value == utc("2026-03-03T09:15:00Z")
    assert not reading.zone_known


@pytest.mark.parametrize(
    "text",
    [
        "Fri, 31 Dec 9999 23:00:00 -0500",
        "Mon, 1 Jan 0001 00:30:00 +0100",
        "Tue, 30 Feb 2026 09:15:00 +0000",
        "Tue, 3 Foo 2026 09:15:00 +0000",
        "Tue, 3 Mar 2026 09:15:00 +2400",
        "Tue, 3 Mar 2026",
        "2026-03-03T09:15:00Z",
        "Tue, 3 Mar 2026 09:15:00 +0000 " + "x" * 300,
    ],
)
def test_invalid_header_dates(text: str) -> None:
    assert parse_header_date(text) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            b"From 1790000000000000007@xxx Thu Mar 05 16:40:00 +0000 2026\n",
            "2026-03-05T16:40:00Z",
        ),
        (
            b"From andy at example.com  Sat Nov 14 21:29:28 2015\n",
            "2015-11-14T21:29:28Z",
        ),
        (b"From - Thu Mar  5 16:40:00 2026\r\n", "2026-03-05T16:40:00Z"),
        (
            b"From MAILER-DAEMON Thu Mar  5 16:40:00 2026 -0500\n",
            "2026-03-05T21:40:00Z",
        ),
    ],
)
def test_from_line_dates(line: bytes, expected: str) -> None:
    assert parse_from_line_date(line) == utc(expected)


def test_from_line_without_date() -> None:
    assert parse_from_line_date(b"From the front desk: two copies\n") is None
