"""IcsReader: cursor, progress, window, unreadable files and malformed events."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from connectors.base import Reader
from connectors.errors import SourceUnavailable
from connectors.files.ics import IcsReader
from connectors.records import Activity, ActivityKind, Item, Quarantined

DATA = Path(__file__).parent.parent / "data" / "ics"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


WINDOW_START = utc(2025, 1, 1)
WINDOW_END = utc(2027, 1, 1)


def make_reader(
    path: Path,
    default_timezone: str = "America/Chicago",
    window_start: dt.datetime = WINDOW_START,
    window_end: dt.datetime = WINDOW_END,
) -> IcsReader:
    return IcsReader(
        path,
        default_timezone=default_timezone,
        window_start=window_start,
        window_end=window_end,
    )


def write_calendar(tmp_path: Path, *lines: str, name: str = "calendar.ics") -> Path:
    path = tmp_path / name
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Warmline tests//EN", *lines]
    path.write_text("\r\n".join([*body, "END:VCALENDAR", ""]), encoding="utf-8")
    return path


def single_event(uid: str, start: str, *extra: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{start}", *extra, "END:VEVENT"]


def activities_of(items: list[Item]) -> list[Activity]:
    return [item for item in items if isinstance(item, Activity)]


def quarantined_of(items: list[Item]) -> list[Quarantined]:
    return [item for item in items if isinstance(item, Quarantined)]


# The Reader contract.


def test_reader_lists_whole_calendar() -> None:
    reader = make_reader(DATA / "google_recurrence_overrides.ics")

    assert isinstance(reader, Reader)
    assert reader.full_listing is True
    assert reader.final_cursor is None


def test_items_are_meetings_without_position() -> None:
    items = list(make_reader(DATA / "google_recurrence_overrides.ics").read(None))

    assert {item.kind for item in activities_of(items)} == {ActivityKind.MEETING}
    assert [item.position for item in items] == [None, None]


def test_final_cursor_set_after_read() -> None:
    reader = make_reader(DATA / "google_recurrence_overrides.ics")

    list(reader.read(None))

    assert reader.final_cursor is not None
    assert reader.final_cursor.startswith("ics-1:")


def test_unchanged_file_yields_nothing() -> None:
    first = make_reader(DATA / "google_recurrence_overrides.ics")
    list(first.read(None))
    second = make_reader(DATA / "google_recurrence_overrides.ics")

    items = list(second.read(first.final_cursor))

    assert items == []
    assert second.final_cursor == first.final_cursor


def test_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, *single_event("a@x.example", "20260105T160000Z"))
    first = make_reader(path)
    list(first.read(None))
    path.write_text(
        path.read_text().replace("20260105T160000Z", "20260106T160000Z"),
        encoding="utf-8",
    )
    second = make_reader(path)

    items = list(second.read(first.final_cursor))

    assert [a.occurred_at for a in activities_of(items)] == [utc(2026, 1, 6, 16)]
    assert second.final_cursor != first.final_cursor


def test_cursor_depends_on_zone_and_window() -> None:
    path = DATA / "google_recurrence_overrides.ics"
    readers = [
        make_reader(path),
        make_reader(path, default_timezone="Europe/Paris"),
        make_reader(path, window_end=utc(2026, 12, 31)),
    ]

    for reader in readers:
        list(reader.read(None))

    assert len({reader.final_cursor for reader in readers}) == 3


def test_final_cursor_unset_until_read_ends() -> None:
    reader = make_reader(DATA / "google_recurrence_overrides.ics")
    items = reader.read(None)

    next(items)

    assert reader.final_cursor is None


# Progress and streaming.


def test_progress_counts_events(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("a@x.example", "20260105T160000Z"),
        *single_event("b@x.example", "20260106T160000Z"),
        *single_event(
            "b@x.example", "20260107T160000Z", "RECURRENCE-ID:20260106T160000Z"
        ),
    )
    calls: list[tuple[int, int | None]] = []

    list(make_reader(path).read(None, lambda done, total: calls.append((done, total))))

    assert calls == [(0, 3), (1, 3), (3, 3)]


def test_series_are_yielded_as_they_are_read(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("a@x.example", "20260105T160000Z"),
        *single_event("b@x.example", "20260106T160000Z"),
    )
    log: list[str] = []
    reader = make_reader(path)

    for item in reader.read(None, lambda done, total: log.append(f"progress {done}")):
        log.append(item.provider_key)

    assert log == [
        "progress 0",
        "a@x.example",
        "progress 1",
        "b@x.example",
        "progress 2",
    ]


def test_endless_rule_bounded_by_window(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("daily@x.example", "20000103T150000Z", "RRULE:FREQ=DAILY"),
    )
    reader = make_reader(path, window_start=utc(2026, 1, 1), window_end=utc(2026, 2, 1))
    started = time.perf_counter()

    activities = activities_of(list(reader.read(None)))

    assert len(activities) == 31
    assert activities[0].occurred_at == utc(2026, 1, 1, 15)
    assert activities[-1].occurred_at == utc(2026, 1, 31, 15)
    assert time.perf_counter() - started < 5


def test_window_start_included_end_excluded(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event(
            "edge@x.example", "20260101T000000Z", "RRULE:FREQ=DAILY;COUNT=40"
        ),
    )
    reader = make_reader(path, window_start=utc(2026, 1, 1), window_end=utc(2026, 1, 3))

    activities = activities_of(list(reader.read(None)))

    assert [a.occurred_at for a in activities] == [utc(2026, 1, 1), utc(2026, 1, 2)]


def test_default_window_spans_three_years_back_one_ahead(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    starts = {
        "inside-past": now - dt.timedelta(days=2 * 365),
        "outside-past": now - dt.timedelta(days=3 * 365 + 30),
        "inside-future": now + dt.timedelta(days=300),
        "outside-future": now + dt.timedelta(days=365 + 30),
    }
    lines: list[str] = []
    for uid, start in starts.items():
        lines += single_event(uid, f"{start:%Y%m%dT%H%M%SZ}")
    path = write_calendar(tmp_path, *lines)
    reader = IcsReader(path)

    activities = activities_of(list(reader.read(None)))

    assert sorted(a.external_id for a in activities) == ["inside-future", "inside-past"]


def test_naive_window_bound_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        IcsReader(
            DATA / "google_recurrence_overrides.ics",
            window_start=dt.datetime(2026, 1, 1),  # noqa: DTZ001
        )


# Malformed events are quarantined; the rest is read.


def test_malformed_events_quarantined_rest_read(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("bad-start@x.example", "2026031T0800"),
        *single_event("bad-date@x.example", "20260231T080000"),
        *single_event("bad-rule@x.example", "20260105T160000Z", "RRULE:FREQ=SOMETIMES"),
        *single_event(
            "bad-day@x.example", "20260105T160000Z", "RRULE:FREQ=WEEKLY;BYDAY=XX"
        ),
        "BEGIN:VEVENT",
        "UID:no-start@x.example",
        "SUMMARY:No start",
        "END:VEVENT",
        *single_event("good@x.example", "20260105T160000Z"),
    )

    items = list(make_reader(path).read(None))

    assert [a.external_id for a in activities_of(items)] == ["good@x.example"]
    reasons = {q.provider_key: q.reason for q in quarantined_of(items)}
    assert sorted(reasons) == [
        "bad-date@x.example",
        "bad-day@x.example",
        "bad-rule@x.example",
        "bad-start@x.example",
        "no-start@x.example",
    ]
    assert reasons["bad-start@x.example"].startswith("invalid DTSTART")
    assert reasons["bad-date@x.example"].startswith("invalid DTSTART")
    assert reasons["bad-rule@x.example"].startswith("invalid RRULE")
    assert reasons["no-start@x.example"] == "missing DTSTART"
    assert all(q.position is None for q in quarantined_of(items))


def test_malformed_override_quarantined_series_read(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event(
            "series@x.example", "20260105T160000Z", "RRULE:FREQ=DAILY;COUNT=2"
        ),
        *single_event(
            "series@x.example",
            "2026-01-06 16:00",
            "RECURRENCE-ID:20260106T160000Z",
        ),
    )

    items = list(make_reader(path).read(None))

    (quarantined,) = quarantined_of(items)
    assert quarantined.provider_key == "series@x.example 2026-01-06T16:00:00Z"
    assert quarantined.reason.startswith("invalid DTSTART")
    assert [a.occurred_at for a in activities_of(items)] == [
        utc(2026, 1, 5, 16),
        utc(2026, 1, 6, 16),
    ]


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=MINUTELY", "more than 24 times a day"),
        ("FREQ=DAILY;BYHOUR=8,9,10,11,12,13,14;BYMINUTE=0,15,30,45", "24 times a day"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20260110T000000Z", "both COUNT and UNTIL"),
    ],
)
def test_unusable_rule_quarantined(tmp_path: Path, rule: str, reason: str) -> None:
    path = write_calendar(
        tmp_path, *single_event("rule@x.example", "20260105T160000Z", f"RRULE:{rule}")
    )

    items = list(make_reader(path).read(None))

    (quarantined,) = items
    assert isinstance(quarantined, Quarantined)
    assert reason in quarantined.reason


def test_hourly_rule_is_read(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event(
            "hourly@x.example", "20260105T160000Z", "RRULE:FREQ=HOURLY;COUNT=3"
        ),
    )

    activities = activities_of(list(make_reader(path).read(None)))

    assert len(activities) == 3


def test_broken_other_property_recorded_as_defect(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("geo@x.example", "20260105T160000Z", "GEO:not-a-position"),
    )

    (activity,) = activities_of(list(make_reader(path).read(None)))

    assert len(activity.defects) == 1
    assert activity.defects[0].startswith("invalid GEO ignored")


def test_event_without_uid_gets_derived_one(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "DTSTART:20260105T160000Z",
        "SUMMARY:Visit",
        "END:VEVENT",
    )

    (first,) = activities_of(list(make_reader(path).read(None)))
    (second,) = activities_of(list(make_reader(path).read(None)))

    assert first.external_id.startswith("no-uid-")
    assert first.external_id == second.external_id
    assert first.defects[0].startswith("missing UID")


def test_input_defect_property_is_not_trusted(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        *single_event("a@x.example", "20260105T160000Z", "X-WARMLINE-DEFECT:forged"),
    )

    (activity,) = activities_of(list(make_reader(path).read(None)))

    assert activity.defects == ()


# Shapes of input besides one well-formed VCALENDAR.


def test_bare_vevent_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bare.ics"
    path.write_text(
        "BEGIN:VEVENT\r\nUID:bare@x.example\r\nDTSTART:20260105T160000Z\r\nEND:VEVENT\r\n",
        encoding="utf-8",
    )

    (activity,) = activities_of(list(make_reader(path).read(None)))

    assert activity.external_id == "bare@x.example"


def test_several_calendars_in_one_file_are_merged(tmp_path: Path) -> None:
    first = write_calendar(tmp_path, *single_event("a@x.example", "20260105T160000Z"))
    second = write_calendar(
        tmp_path,
        "METHOD:CANCEL",
        *single_event("b@x.example", "20260106T160000Z"),
        name="second.ics",
    )
    third = write_calendar(
        tmp_path, *single_event("c@x.example", "20260107T160000Z"), name="third.ics"
    )
    path = tmp_path / "joined.ics"
    path.write_bytes(first.read_bytes() + second.read_bytes() + third.read_bytes())

    activities = activities_of(list(make_reader(path).read(None)))

    assert [a.external_id for a in activities] == ["a@x.example", "c@x.example"]


def test_windows_1252_file_is_read_with_defect(tmp_path: Path) -> None:
    path = tmp_path / "outlook.ics"
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:cp@x.example\r\n"
        "SUMMARY:Réunion\r\nDTSTART:20260105T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    path.write_bytes(text.encode("cp1252"))

    (activity,) = activities_of(list(make_reader(path).read(None)))

    assert activity.subject == "Réunion"
    assert activity.defects == ("file is not UTF-8; text read as Windows-1252",)


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, *single_event("bom@x.example", "20260105T160000Z"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    (activity,) = activities_of(list(make_reader(path).read(None)))

    assert activity.defects == ()


def test_empty_calendar_yields_nothing(tmp_path: Path) -> None:
    path = write_calendar(tmp_path)
    reader = make_reader(path)

    assert list(reader.read(None)) == []
    assert reader.final_cursor is not None


# Files that cannot be read at all.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an iCalendar file"),
        (b"name,email\r\nDana,dana@x.example\r\n", "not an iCalendar file"),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            "not an iCalendar file",
        ),
        (
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana\r\nEND:VCARD\r\n",
            "not an iCalendar file",
        ),
        (
            b"BEGIN:VCALENDAR\r\nSubject hi\r\nEND:VCALENDAR\r\n",
            "not an iCalendar file",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260105T160000Z\r\n",
            "cut short",
        ),
    ],
)
def test_non_calendar_file_unavailable(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "export.ics"
    path.write_bytes(content)
    reader = make_reader(path)

    with pytest.raises(SourceUnavailable, match=message) as raised:
        list(reader.read(None))

    assert str(path) in str(raised.value)
    assert reader.final_cursor is None


def test_missing_file_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing.ics"

    with pytest.raises(SourceUnavailable, match="not found") as raised:
        list(make_reader(path).read(None))

    assert str(path) in str(raised.value)


def test_directory_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="is a directory"):
        list(make_reader(tmp_path).read(None))


def test_unreadable_file_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_calendar(tmp_path, *single_event("a@x.example", "20260105T160000Z"))

    def deny(self: Path) -> bytes:
        # chmod does not stop root, which runs the tests in CI.
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)

    with pytest.raises(SourceUnavailable, match="permission denied"):
        list(make_reader(path).read(None))


def test_unknown_default_zone_unavailable() -> None:
    reader = make_reader(
        DATA / "google_recurrence_overrides.ics", default_timezone="Mars/Olympus"
    )

    with pytest.raises(SourceUnavailable, match="'Mars/Olympus'.*unknown"):
        list(reader.read(None))
