"""Google API payloads from tests/data/google read into records, no server."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

from connectors import Flag, ParticipantRole
from connectors.google.events import event_activity, event_key, series_prefix
from connectors.google.gmail import history_actions
from connectors.google.messages import header_block, message_activity

DATA = Path(__file__).parent.parent / "data" / "google"
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def events() -> dict[str, dict[str, Any]]:
    return {
        item["id"]: item for item in load("calendar_incremental_page2.json")["items"]
    }


def test_gmail_metadata_message() -> None:
    resource = load("gmail_message_metadata.json")

    activity = message_activity(resource)

    assert activity.provider_key == "18e0c1"
    assert activity.external_id == "c22a@lakeside-fm.example"
    assert activity.occurred_at == dt.datetime(2026, 3, 3, 14, 16, 2, tzinfo=dt.UTC)
    assert activity.subject == "Re: New referral for PT evaluation"
    assert activity.participants[0].address == "ana@lakeside-fm.example"
    assert activity.participants[0].name == "Ana Díaz"
    cc = [p for p in activity.participants if p.role is ParticipantRole.CC]
    assert [(p.address, p.name) for p in cc] == [
        ("maria.lopez@riverside-fm.example", "Lopez, Maria")
    ]
    assert len(activity.addresses(ParticipantRole.TO)) == 2
    assert activity.in_reply_to == "r1@brookside-pt.example"
    assert activity.references == ("r0@brookside-pt.example", "r1@brookside-pt.example")
    assert activity.thread_id == str(int("18e0c1", 16))
    assert activity.labels == ("INBOX", "CATEGORY_PERSONAL", "IMPORTANT")
    assert Flag.SENT not in activity.flags


def test_header_block_keeps_one_field_per_header() -> None:
    headers = [
        {"name": "Subject", "value": "line one\nInjected: yes"},
        {"name": "Bad:Name", "value": "x"},
    ]

    block = header_block(headers, "18e0c1")

    assert block.splitlines() == [
        b"Subject: line one Injected: yes",
        b"X-GM-THRID: " + str(int("18e0c1", 16)).encode(),
        b"",
    ]


def test_history_page_actions() -> None:
    page = load("gmail_history_page.json")

    actions = history_actions(page["history"])

    assert actions == {"18e0a1": "remove", "18e0a2": "fetch"}


def test_event_keys_of_cancelled_entries() -> None:
    found = events()

    single = event_key("primary", found["evtdel01"], CHICAGO)
    instance = event_key("primary", found["huddle7f3a_20260323T130000Z"], CHICAGO)

    assert single == "primary/evtdel01"
    assert series_prefix("primary", found["evtdel01"]) == "primary/evtdel01 "
    assert instance == "primary/huddle7f3a 2026-03-23T13:00:00Z"
    assert series_prefix("primary", found["huddle7f3a_20260323T130000Z"]) is None


def test_moved_instance_keeps_occurrence() -> None:
    activity = event_activity(
        "primary", events()["huddle7f3a_20260316T130000Z"], CHICAGO
    )

    assert activity.provider_key == "primary/huddle7f3a 2026-03-16T13:00:00Z"
    assert activity.external_id == "huddle7f3a@google.com"
    assert activity.occurrence == dt.datetime(2026, 3, 16, 13, 0, tzinfo=dt.UTC)
    assert activity.occurred_at == dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC)
    assert activity.ends_at == dt.datetime(2026, 3, 17, 14, 30, tzinfo=dt.UTC)
    assert activity.addresses(ParticipantRole.ORGANIZER) == [
        "sam.ortiz@brookside-pt.example"
    ]
    assert activity.addresses(ParticipantRole.ATTENDEE) == [
        "ridgeway-frontdesk@ridgeway-ortho.example"
    ]


def test_all_day_event_in_calendar_zone() -> None:
    activity = event_activity("primary", events()["openhouse1"], CHICAGO)

    assert activity.occurred_at == dt.datetime(2026, 4, 15, 5, 0, tzinfo=dt.UTC)
    assert activity.ends_at == dt.datetime(2026, 4, 16, 5, 0, tzinfo=dt.UTC)
    assert Flag.ALL_DAY in activity.flags
    assert activity.participants == ()
    assert activity.occurrence is None


def test_placeholder_organizer_gives_no_participant() -> None:
    activity = event_activity("primary", events()["fwd77"], CHICAGO)

    assert activity.participants == ()
    assert activity.subject == "Visit at Cedar IM"
