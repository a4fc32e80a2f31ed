"""Generate Sam's Google Calendar export and Bo's Outlook calendar export.

Google Calendar writes single events in UTC and recurring ones with the
calendar's TZID, plus X-WR-TIMEZONE.  The Google file also contains one
meeting that Northgate Clinic sent from Outlook, which keeps its Windows
TZID "Central Standard Time" and that zone's VTIMEZONE.  The Outlook file
(PRODID Microsoft Exchange Server 2010) uses Windows TZIDs throughout.

Two meetings appear in both files with the same UID, because Sam and Bo
were both invited: the Northgate provider meeting and the Riverside
lunch-and-learn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import string

from clinic import (
    AMY,
    BO,
    FIRST_DAY,
    OTHER_CLINIC_ADDRESSES,
    PERSON_BY_KEY,
    PRACTICE_BY_KEY,
    SAM,
    Person,
    Practice,
)
from ics_format import (
    CHICAGO,
    CHICAGO_VTIMEZONE,
    Attendee,
    Event,
    calendar_text,
    event_lines,
    windows_vtimezone,
)

NORTHGATE_MEETING_UID = (
    "040000008200E00074C5B7101A82E00800000000B0F1D3A4E25BDC01000000000000000"
    "010000000B5C06A0C3B9F4E4C9A8E6F5D2C1B0A99"
)
RIVERSIDE_LUNCH_UID = "riverside-lunch-learn-5k2q8v1m0x@google.example"

# Titles of visits to each practice.  A title may name a provider, a contact
# or only the place.  "Office visits" has only a location.
VISIT_TITLES = {
    "riverside": (
        "Lunch w/ Dr. Patel",
        "Drop off brochures - Riverside FM",
        "Visit Kevin (referral pads)",
        "Lunch w/ Dr. Lopez and team",
        "Office visits",
        "Riverside - new fax cover sheets",
    ),
    "lakeside_fm": (
        "Lunch w/ Dr. O'Brien",
        "Lakeside FM in-service: vestibular rehab",
        "Drop off brochures - Lakeside FM",
        "Coffee with Ana Diaz",
        "Office visits",
    ),
    "lakeside_ortho": (
        "Drop off brochures - Lakeside Ortho",
        "Meet Elizabeth Park, PA-C",
        "Lakeside Ortho lunch",
    ),
    "cedar": (
        "Lunch-n-learn @ Cedar IM",
        "Cedar IM front desk visit",
        "Lunch w/ Dr. Ruiz Soto",
        "Office visits",
        "Cedar - drop off referral pads",
    ),
    "ridgeway": ("Ridgeway Ortho - post-op protocols review", "Lunch w/ Dr. Kim"),
    "summit": (
        "Lunch w/ Dr. Bell",
        "Summit Sports Med - ACL protocol talk",
        "Drop off brochures - Summit",
    ),
    "northgate": (
        "Northgate lunch-and-learn: low back pain",
        "Visit Gwen Foster - Northgate referrals",
        "Office visits",
        "Lunch w/ Dr. Wu",
    ),
    "prairie": ("Intro visit - Prairie View FP", "Lunch w/ Dr. Hollis"),
    "maplegrove": (
        "Maple Grove Peds in-service: toe walking",
        "Drop off brochures - Maple Grove",
    ),
}


def google_calendar(rng: random.Random) -> str:
    """Return Sam's Google Calendar export as iCalendar text."""
    events = _practice_visits(rng)
    events += _ridgeway_huddle()
    events += _staff_huddle()
    events += _internal_meetings(rng)
    events += _all_day_events(rng)
    events += _cancelled_and_declined()
    events.append(_riverside_lunch_and_learn(in_outlook=False))
    events.append(_northgate_meeting(in_outlook=False))
    events.sort(key=_event_sort_key)
    header = (
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{SAM.email}",
        "X-WR-TIMEZONE:America/Chicago",
    )
    blocks = [
        CHICAGO_VTIMEZONE,
        windows_vtimezone("Central Standard Time", -6),
        *(event_lines(event) for event in events),
    ]
    return calendar_text(header, blocks)


def _event_sort_key(event: Event) -> tuple[str, str]:
    start = event.start
    if isinstance(start, dt.datetime):
        return (start.astimezone(dt.UTC).isoformat(), event.uid)
    return (start.isoformat(), event.uid)


class _GoogleUids:
    """Google-style event UIDs: 26 random lower-case letters and digits."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        token = "".join(self._rng.choice(alphabet) for _ in range(26))
        return f"{token}@google.example"


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO)


def _weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _sam_organizer() -> tuple[str, str]:
    return (SAM.name, SAM.email)


def _sam_attendee(partstat: str = "ACCEPTED") -> Attendee:
    return Attendee(SAM.email, SAM.name, partstat, role="REQ-PARTICIPANT")


def _person_attendee(person: Person, partstat: str) -> Attendee:
    return Attendee(person.email, person.display_name, partstat)


# Visits to practices.


def _practice_visits(rng: random.Random) -> list[Event]:
    uids = _GoogleUids(rng)
    events = []
    for key, titles in VISIT_TITLES.items():
        practice = PRACTICE_BY_KEY[key]
        assert practice.last_touch is not None
        span = (practice.last_touch - FIRST_DAY).days
        days = sorted(rng.sample(range(span), len(titles)))
        for title, offset in zip(titles, days, strict=True):
            day = _weekday_on_or_before(FIRST_DAY + dt.timedelta(days=offset + 1))
            events.append(_visit(rng, uids.new(), practice, title, day))
    return events


def _visit(
    rng: random.Random, uid: str, practice: Practice, title: str, day: dt.date
) -> Event:
    lunch = title.lower().startswith(("lunch", "coffee")) or "learn" in title
    start = _local(day, 11, 45) if lunch else _local(day, rng.randrange(9, 16), 0)
    end = start + dt.timedelta(minutes=rng.choice((30, 45, 60, 90)))
    event = Event(uid=uid, summary=title, start=start, end=end)
    if title == "Office visits" or rng.random() < 0.8:
        event.location = rng.choice(practice.locations)
    if rng.random() < 0.3:
        phone = practice.phones[0]
        event.description = f"Check in at the front desk, {phone}."
    if rng.random() < 0.35:
        people = [p for p in PERSON_BY_KEY.values() if p.practice == practice.key]
        guests = rng.sample(people, min(2, len(people)))
        event.organizer = _sam_organizer()
        event.attendees = [
            _sam_attendee(),
            *(
                _person_attendee(guest, rng.choice(("ACCEPTED", "NEEDS-ACTION")))
                for guest in guests
            ),
        ]
    return event


def _ridgeway_huddle() -> list[Event]:
    """Weekly Ridgeway huddle across the end of daylight time (1 November),
    with one date excluded, one occurrence moved and one cancelled."""
    weiss = PERSON_BY_KEY["weiss"]
    master = Event(
        uid="ridgeway-huddle-7f3a9c@google.example",
        summary="Weekly huddle with Ridgeway Ortho",
        start=_local(dt.date(2026, 9, 29), 7, 30),
        end=_local(dt.date(2026, 9, 29), 8, 0),
        tzid="America/Chicago",
        location=PRACTICE_BY_KEY["ridgeway"].locations[1],
        organizer=_sam_organizer(),
        attendees=[
            _sam_attendee(),
            # The front desk's CN repeats its address, so it gives no name.
            Attendee(weiss.email, weiss.email, "ACCEPTED"),
            _person_attendee(PERSON_BY_KEY["bergstrom"], "ACCEPTED"),
            Attendee(AMY.email, AMY.name, "TENTATIVE", role="OPT-PARTICIPANT"),
        ],
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=9",
        exdates=[_local(dt.date(2026, 10, 13), 7, 30)],
        sequence=1,
    )
    moved = dataclasses.replace(
        master,
        summary="Weekly huddle with Ridgeway Ortho (moved)",
        start=_local(dt.date(2026, 10, 28), 10, 0),
        end=_local(dt.date(2026, 10, 28), 10, 30),
        rrule=None,
        exdates=(),
        recurrence_id=_local(dt.date(2026, 10, 27), 7, 30),
        sequence=2,
    )
    cancelled = dataclasses.replace(
        master,
        start=_local(dt.date(2026, 11, 17), 7, 30),
        end=_local(dt.date(2026, 11, 17), 8, 0),
        rrule=None,
        exdates=(),
        recurrence_id=_local(dt.date(2026, 11, 17), 7, 30),
        status="CANCELLED",
        sequence=2,
    )
    return [master, moved, cancelled]


def _staff_huddle() -> list[Event]:
    """Brookside's Monday staff huddle, with holidays excluded, one
    occurrence moved to Tuesday and one cancelled."""
    master = Event(
        uid="staff-huddle-2b8d41@google.example",
        summary="Brookside staff huddle",
        start=_local(dt.date(2026, 2, 2), 8, 30),
        end=_local(dt.date(2026, 2, 2), 9, 0),
        tzid="America/Chicago",
        location="Brookside PT - front office",
        organizer=(BO.name, BO.email),
        attendees=[
            Attendee(BO.email, BO.name, "ACCEPTED"),
            _sam_attendee(),
            Attendee(AMY.email, AMY.name, "ACCEPTED"),
        ],
        rrule="FREQ=WEEKLY;WKST=SU;UNTIL=20261228T143000Z;BYDAY=MO",
        exdates=[
            _local(dt.date(2026, 5, 25), 8, 30),
            _local(dt.date(2026, 9, 7), 8, 30),
        ],
    )
    moved = dataclasses.replace(
        master,
        start=_local(dt.date(2026, 7, 7), 9, 0),
        end=_local(dt.date(2026, 7, 7), 9, 30),
        rrule=None,
        exdates=(),
        recurrence_id=_local(dt.date(2026, 7, 6), 8, 30),
        sequence=1,
    )
    cancelled = dataclasses.replace(
        master,
        start=_local(dt.date(2026, 11, 23), 8, 30),
        end=_local(dt.date(2026, 11, 23), 9, 0),
        rrule=None,
        exdates=(),
        recurrence_id=_local(dt.date(2026, 11, 23), 8, 30),
        status="CANCELLED",
        sequence=1,
    )
    return [master, moved, cancelled]


# Internal meetings and days off.


def _internal_meetings(rng: random.Random) -> list[Event]:
    uids = _GoogleUids(rng)
    marta_name, marta_email = OTHER_CLINIC_ADDRESSES["marta"]
    plan = [
        ("Sam / Bo 1:1", dt.date(2026, 2, 12) + dt.timedelta(weeks=5 * i), 14)
        for i in range(8)
    ]
    plan += [
        ("Marketing plan review", dt.date(2026, 3, 19), 10),
        ("Marketing plan review", dt.date(2026, 6, 18), 10),
        ("Marketing plan review", dt.date(2026, 9, 17), 10),
        ("Quarterly referral review", dt.date(2026, 4, 8), 15),
        ("Quarterly referral review", dt.date(2026, 7, 8), 15),
        ("Quarterly referral review", dt.date(2026, 10, 7), 15),
        ("Call re: pt J. Doe eval", dt.date(2026, 5, 13), 16),
        ("Lunch-and-learn slide review", dt.date(2026, 8, 26), 13),
    ]
    events = []
    for title, day, hour in plan:
        start = _local(day, hour)
        guests = [Attendee(BO.email, BO.name, "ACCEPTED")]
        if title.startswith("Quarterly"):
            guests.append(Attendee(marta_email, marta_name, "ACCEPTED"))
        if "pt J. Doe" in title or "slide" in title:
            guests = [Attendee(AMY.email, AMY.name, "ACCEPTED")]
        events.append(
            Event(
                uid=uids.new(),
                summary=title,
                start=start,
                end=start + dt.timedelta(minutes=30),
                organizer=_sam_organizer(),
                attendees=[_sam_attendee(), *guests],
                location="Brookside PT - conference room",
            )
        )
    for title, day in (
        ("Dentist", dt.date(2026, 6, 3)),
        ("Car service", dt.date(2026, 9, 24)),
    ):
        start = _local(day, 7, 30)
        events.append(
            Event(
                uid=uids.new(),
                summary=title,
                start=start,
                end=start + dt.timedelta(hours=1),
            )
        )
    return events


def _all_day_events(rng: random.Random) -> list[Event]:
    uids = _GoogleUids(rng)
    days = (
        ("Brochure reprint deadline", dt.date(2026, 3, 31), 1, "TRANSPARENT"),
        ("Memorial Day - clinic closed", dt.date(2026, 5, 25), 1, "TRANSPARENT"),
        ("Sam - working from home", dt.date(2026, 6, 19), 1, "TRANSPARENT"),
        ("PTO - Sam", dt.date(2026, 8, 10), 5, "OPAQUE"),
        ("Labor Day - clinic closed", dt.date(2026, 9, 7), 1, "TRANSPARENT"),
        ("IL PT Association Fall Conference", dt.date(2026, 10, 15), 2, "OPAQUE"),
    )
    return [
        Event(
            uid=uids.new(),
            summary=title,
            start=day,
            end=day + dt.timedelta(days=length),
            transp=transp,
        )
        for title, day, length, transp in days
    ]


def _cancelled_and_declined() -> list[Event]:
    """Meetings that must not count: cancelled ones and declined invitations.

    The Summit lunch and the Maple Grove open house fall after those
    practices' last touch, so counting them would hide that they went cold.
    """
    summit = PRACTICE_BY_KEY["summit"]
    lakeside = PRACTICE_BY_KEY["lakeside_fm"]
    maplegrove = PRACTICE_BY_KEY["maplegrove"]
    rosa = PERSON_BY_KEY["jimenez"]
    return [
        Event(
            uid="summit-lunch-cancelled-4h7k2p@google.example",
            summary="Lunch w/ Dr. Bell",
            start=_local(dt.date(2026, 10, 8), 11, 45),
            end=_local(dt.date(2026, 10, 8), 13, 0),
            location=summit.locations[0],
            status="CANCELLED",
            sequence=2,
        ),
        Event(
            uid="lakeside-lunch-cancelled-9m3x5t@google.example",
            summary="Lakeside FM lunch",
            start=_local(dt.date(2026, 11, 12), 11, 45),
            end=_local(dt.date(2026, 11, 12), 13, 0),
            location=lakeside.locations[1],
            status="CANCELLED",
            sequence=1,
        ),
        Event(
            uid="maplegrove-open-house-declined-2v8r6n@google.example",
            summary="Maple Grove Pediatrics open house",
            start=_local(dt.date(2026, 10, 15), 16, 0),
            end=_local(dt.date(2026, 10, 15), 18, 0),
            location=maplegrove.locations[0],
            organizer=(rosa.display_name, rosa.email),
            attendees=[
                Attendee(rosa.email, rosa.display_name, "ACCEPTED"),
                _sam_attendee("DECLINED"),
            ],
            transp="TRANSPARENT",
        ),
        Event(
            uid="budget-planning-declined-7c1q4w@google.example",
            summary="Budget planning",
            start=_local(dt.date(2026, 11, 11), 9, 0),
            end=_local(dt.date(2026, 11, 11), 10, 0),
            organizer=(BO.name, BO.email),
            attendees=[
                Attendee(BO.email, BO.name, "ACCEPTED"),
                _sam_attendee("DECLINED"),
            ],
            transp="TRANSPARENT",
        ),
    ]


# Meetings that appear in both calendars.


def _riverside_lunch_and_learn(in_outlook: bool) -> Event:
    """Riverside lunch-and-learn organised by Sam with Bo invited.

    Google writes it in UTC, and Bo's Outlook copy uses the Windows TZID.
    """
    extra = ["CLASS:PUBLIC", *_outlook_flags(all_day=False)] if in_outlook else []
    riverside = PRACTICE_BY_KEY["riverside"]
    lopez = PERSON_BY_KEY["lopez"]
    doyle = PERSON_BY_KEY["doyle"]
    start = _local(dt.date(2026, 11, 18), 12, 0)
    return Event(
        uid=RIVERSIDE_LUNCH_UID,
        summary="Lunch & learn - Riverside Family Medicine",
        start=start,
        end=start + dt.timedelta(hours=1),
        tzid="Central Standard Time" if in_outlook else None,
        location=riverside.locations[0],
        description="Topic: low back pain pathways. Parking behind building.",
        organizer=_sam_organizer(),
        attendees=[
            _sam_attendee(),
            Attendee(BO.email, BO.name, "ACCEPTED"),
            _person_attendee(lopez, "ACCEPTED"),
            _person_attendee(doyle, "ACCEPTED"),
        ],
        sequence=1,
        extra=extra,
    )


def _northgate_meeting(in_outlook: bool) -> Event:
    """Northgate's provider meeting, sent from Outlook to Sam and Bo.

    Both copies keep Outlook's UID and Windows TZID.  The Google copy keeps
    fewer of Outlook's X- properties.
    """
    wu = PERSON_BY_KEY["wu"]
    start = _local(dt.date(2026, 11, 5), 12, 0)
    if in_outlook:
        extra = ["CLASS:PUBLIC", "PRIORITY:5", *_outlook_flags(all_day=False)]
    else:
        extra = ["CLASS:PUBLIC", "PRIORITY:5", "X-MICROSOFT-CDO-BUSYSTATUS:BUSY"]
    return Event(
        uid=NORTHGATE_MEETING_UID,
        summary="Northgate Clinic provider meeting",
        summary_language="en-US" if in_outlook else None,
        start=start,
        end=start + dt.timedelta(hours=1),
        tzid="Central Standard Time",
        location="Northgate Clinic - conference room 2",
        organizer=(wu.display_name, wu.email),
        attendees=[
            Attendee(SAM.email, SAM.name, "ACCEPTED"),
            Attendee(BO.email, BO.name, "TENTATIVE"),
            _person_attendee(PERSON_BY_KEY["feldman"], "ACCEPTED"),
        ],
        extra=extra,
    )


# Bo's Outlook calendar.

OUTLOOK_UID_PREFIX = "040000008200E00074C5B7101A82E008000000"
"""Start of an Outlook Global Object ID, which Exchange uses as the UID."""


def outlook_calendar() -> str:
    """Return Bo Lindgren's Outlook calendar export as iCalendar text."""
    okafor = PERSON_BY_KEY["okafor"]
    banks = PERSON_BY_KEY["banks"]
    central = "Central Standard Time"
    events = [
        _outlook_event(
            1,
            "Lakeside Ortho quarterly meeting",
            _local(dt.date(2026, 7, 15), 10),
            60,
            central,
            location="Lakeside Ortho - Bldg C conference room",
            organizer=(banks.display_name, banks.email),
            attendees=[
                Attendee(BO.email, BO.name, "ACCEPTED"),
                _person_attendee(okafor, "ACCEPTED"),
            ],
        ),
        _outlook_event(
            2,
            "Check-in: Bo / Sam",
            _local(dt.date(2026, 9, 3), 14),
            30,
            central,
            rrule="FREQ=WEEKLY;COUNT=12;BYDAY=TH",
            exdates=[_local(dt.date(2026, 10, 15), 14)],
        ),
        _outlook_event(
            3,
            "Prairie View FP - intro visit",
            _local(dt.date(2026, 5, 12), 10),
            60,
            "(UTC-06:00) Central Time (US & Canada)",
            location="1201 Prairie View Rd., Cedar Bend",
        ),
        _outlook_event(
            4,
            "Webinar: direct access rules",
            _local(dt.date(2026, 9, 17), 11),
            60,
            "Pacific Standard Time",
        ),
        _outlook_event(
            5,
            "Budget review",
            _local(dt.date(2026, 10, 1), 13),
            60,
            "Customized Time Zone",
        ),
        _outlook_all_day(6, "Out of office", dt.date(2026, 8, 17), 3),
        _outlook_event(
            7,
            "Canceled: Lunch with Dr. Okafor",
            _local(dt.date(2026, 9, 10), 12),
            60,
            central,
            location="Lakeside Health campus - Bldg C lobby",
            organizer=(BO.name, BO.email),
            attendees=[_person_attendee(okafor, "NEEDS-ACTION")],
            status="CANCELLED",
        ),
        _outlook_event(
            10,
            "Referral software demo",
            _local(dt.date(2026, 6, 24), 10),
            45,
            "Eastern Standard Time",
            organizer=("Demo Team", "demo@referralsoft.example"),
            attendees=[Attendee(BO.email, BO.name, "ACCEPTED")],
        ),
        _northgate_meeting(in_outlook=True),
        _riverside_lunch_and_learn(in_outlook=True),
    ]
    header = (
        "METHOD:PUBLISH",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "X-WR-CALNAME:Calendar",
    )
    blocks = [
        windows_vtimezone(central, -6),
        windows_vtimezone("Customized Time Zone", -6),
        windows_vtimezone("Eastern Standard Time", -5),
        *(event_lines(event) for event in events),
    ]
    return calendar_text(header, blocks)


def _outlook_uid(number: int) -> str:
    return f"{OUTLOOK_UID_PREFIX}{number:02d}A1B2C3D4E5F60718293A4B5C6D7E8F90"


def _outlook_flags(all_day: bool) -> list[str]:
    return [
        "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
        "X-MICROSOFT-CDO-BUSYSTATUS:" + ("FREE" if all_day else "BUSY"),
        "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY",
        "X-MICROSOFT-CDO-ALLDAYEVENT:" + ("TRUE" if all_day else "FALSE"),
        "X-MICROSOFT-CDO-IMPORTANCE:1",
        "X-MICROSOFT-CDO-INSTTYPE:0",
        "X-MICROSOFT-DISALLOW-COUNTER:FALSE",
    ]


def _outlook_event(
    number: int,
    summary: str,
    start: dt.datetime,
    minutes: int,
    tzid: str,
    *,
    location: str | None = None,
    organizer: tuple[str | None, str] | None = None,
    attendees: list[Attendee] | None = None,
    rrule: str | None = None,
    exdates: list[dt.datetime] | None = None,
    status: str = "CONFIRMED",
) -> Event:
    return Event(
        uid=_outlook_uid(number),
        summary=summary,
        summary_language="en-US",
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        tzid=tzid,
        location=location,
        description="\n",
        organizer=organizer,
        attendees=attendees or [],
        rrule=rrule,
        exdates=exdates or [],
        status=status,
        extra=["CLASS:PUBLIC", "PRIORITY:5", *_outlook_flags(all_day=False)],
    )


def _outlook_all_day(number: int, summary: str, day: dt.date, days: int) -> Event:
    return Event(
        uid=_outlook_uid(number),
        summary=summary,
        summary_language="en-US",
        start=day,
        end=day + dt.timedelta(days=days),
        description="\n",
        transp="TRANSPARENT",
        extra=["CLASS:PUBLIC", "PRIORITY:5", *_outlook_flags(all_day=True)],
    )
