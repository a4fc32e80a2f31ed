"""The sync pipeline on real files and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors import Item, Reader, Removed, ScopeListed
from connectors.records import Activity as ActivityRecord
from connectors.records import ActivityKind, Participant, ParticipantRole
from warmline.accounts import add_file_account
from warmline.models import (
    Account,
    AccountActivity,
    Activity,
    ActivityParticipant,
    QuarantinedItem,
    Touchpoint,
    TouchpointStatus,
)
from warmline.pipeline import sync_account
from warmline.readers import READERS
from warmline.sources import import_sources
from warmline.staff import StaffInput, find_staff, upsert_staff
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

SOURCES = """type,name,practice,title,emails,domains,phones,address
practice,Riverside Family Medicine,,Family Medicine,,riverside-fm.example,,"12 River St, Springfield"
provider,"Maria L. Lopez, MD",Riverside Family Medicine,,maria.lopez@riverside-fm.example,,,
contact,Janet Ortiz,Riverside Family Medicine,Office Manager,janet@riverside-fm.example,,,
practice,Cedar Internal Medicine,,Internal Medicine,,cedar-im.example,,
provider,Thao Nguyen NP,Cedar Internal Medicine,,thao.nguyen@cedar-im.example,,,
"""
SAM = "sam.ortiz@brookside-pt.example"
AMY = "amy.chen@brookside-pt.example"


def message(
    message_id: str,
    sender: str,
    to: str,
    subject: str,
    date: str = "Tue, 3 Mar 2026 09:15:00 -0500",
    extra: str = "",
) -> str:
    return (
        f"From {message_id}@xxx Tue Mar 03 14:15:00 +0000 2026\n"
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
        f"Message-ID: <{message_id}>\n{extra}\nHello.\n\n"
    )


def write_mbox(path: Path, *messages: str) -> Path:
    path.write_text("".join(messages), encoding="utf-8")
    return path


def set_up(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    sources_csv = tmp_path / "sources.csv"
    sources_csv.write_text(SOURCES, encoding="utf-8")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        set_workspace_setting(session, workspace, "own_domains", "brookside-pt.example")
        upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        upsert_staff(session, workspace, StaffInput(AMY, "Amy Chen"))
        import_sources(session, workspace, sources_csv)


def add_account(
    sessions: sessionmaker[Session], provider: str, path: Path, staff: str = SAM
) -> int:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        member = find_staff(session, workspace, staff)
        account, _created = add_file_account(session, workspace, member, provider, path)
        return account.id


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def touchpoints(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(Activity.external_id, Touchpoint.status, Activity.direction)
            .join(Touchpoint, Touchpoint.activity_id == Activity.id)
            .order_by(Activity.external_id)
        )
        return [
            (external_id, status.value, direction)
            for external_id, status, direction in rows
        ]


INBOUND = message(
    "r1@riverside-fm.example",
    "Maria Lopez <maria.lopez@riverside-fm.example>",
    SAM,
    "New referral",
)
OUTBOUND = message(
    "r2@brookside-pt.example",
    f"Sam Ortiz <{SAM}>",
    "thao.nguyen@cedar-im.example",
    "Progress note",
    extra="X-Gmail-Labels: Sent\n",
)
INTERNAL = message("i1@brookside-pt.example", SAM, AMY, "Lunch order")


def test_sync_twice_adds_nothing(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = write_mbox(tmp_path / "mail.mbox", INBOUND, OUTBOUND, INTERNAL)
    account_id = add_account(sessions, "mbox", mbox)

    first = sync_account(sessions, account_id, batch_size=2)
    counts = [
        count(sessions, model) for model in (Activity, ActivityParticipant, Touchpoint)
    ]
    second = sync_account(sessions, account_id, batch_size=2)

    assert first.fetched == 3
    assert first.stored == 3
    assert first.dropped["internal"] == 1
    assert second.stored == 0
    assert counts == [
        count(sessions, m) for m in (Activity, ActivityParticipant, Touchpoint)
    ]
    assert touchpoints(sessions) == [
        ("r1@riverside-fm.example", "confirmed", "inbound"),
        ("r2@brookside-pt.example", "confirmed", "outbound"),
    ]


def test_same_email_in_two_mailboxes_is_one_activity(sessions, tmp_path):
    set_up(sessions, tmp_path)
    sam_box = add_account(sessions, "mbox", write_mbox(tmp_path / "sam.mbox", INBOUND))
    amy_box = add_account(
        sessions, "mbox", write_mbox(tmp_path / "amy.mbox", INBOUND), AMY
    )

    sync_account(sessions, sam_box, batch_size=10)
    sync_account(sessions, amy_box, batch_size=10)

    assert count(sessions, Activity) == 1
    assert count(sessions, AccountActivity) == 2
    assert count(sessions, Touchpoint) == 1


def test_cursor_advances_with_batches(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = write_mbox(tmp_path / "mail.mbox", INBOUND, OUTBOUND)
    account_id = add_account(sessions, "mbox", mbox)
    sync_account(sessions, account_id, batch_size=1)
    with mbox.open("a", encoding="utf-8") as handle:
        handle.write(
            message(
                "r3@cedar-im.example", "thao.nguyen@cedar-im.example", SAM, "Re: note"
            )
        )

    report = sync_account(sessions, account_id, batch_size=1)

    assert report.fetched == 1
    assert count(sessions, Activity) == 3


def test_blocklisted_never_stored(sessions, tmp_path):
    set_up(sessions, tmp_path)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        set_workspace_setting(session, workspace, "blocklist", "cedar-im.example")
    account_id = add_account(
        sessions, "mbox", write_mbox(tmp_path / "m.mbox", INBOUND, OUTBOUND)
    )

    report = sync_account(sessions, account_id, batch_size=10)

    assert report.dropped["blocklisted"] == 1
    assert count(sessions, Activity) == 1


def test_quarantined_item_reported_rest_stored(sessions, tmp_path):
    set_up(sessions, tmp_path)
    garbled = message(
        "bad@x.example", "ana@riverside-fm.example", '"x" <' * 20_000, "garbled"
    )
    account_id = add_account(
        sessions, "mbox", write_mbox(tmp_path / "m.mbox", garbled, INBOUND)
    )

    report = sync_account(sessions, account_id, batch_size=10)

    assert report.quarantined == 1
    assert count(sessions, Activity) == 1
    with sessions() as session:
        item = session.scalars(select(QuarantinedItem)).one()
        assert "To" in item.reason


def test_reply_inherits_thread_links(sessions, tmp_path):
    set_up(sessions, tmp_path)
    reply = message(
        "r1-reply@brookside-pt.example",
        SAM,
        "front-desk@unrelated.example",
        "Re: New referral",
        date="Wed, 4 Mar 2026 09:15:00 -0500",
        extra="In-Reply-To: <r1@riverside-fm.example>\n"
        "References: <r1@riverside-fm.example>\n",
    )
    account_id = add_account(
        sessions, "mbox", write_mbox(tmp_path / "m.mbox", INBOUND, reply)
    )

    sync_account(sessions, account_id, batch_size=1)

    with sessions() as session:
        touchpoint = session.scalars(
            select(Touchpoint)
            .join(Activity, Activity.id == Touchpoint.activity_id)
            .where(Activity.external_id == "r1-reply@brookside-pt.example")
        ).one()
        assert touchpoint.practice.name == "Riverside Family Medicine"
        assert any(reason["signal"] == "thread" for reason in touchpoint.reasons)


def test_person_decision_survives_resync(sessions, tmp_path):
    set_up(sessions, tmp_path)
    account_id = add_account(sessions, "mbox", write_mbox(tmp_path / "m.mbox", INBOUND))
    sync_account(sessions, account_id, batch_size=10)
    with sessions.begin() as session:
        touchpoint = session.scalars(select(Touchpoint)).one()
        touchpoint.status = TouchpointStatus.REJECTED
        touchpoint.decided_by = find_staff(
            session, get_or_create_workspace(session, "test"), SAM
        ).id
        session.get_one(Account, account_id).cursor = None

    sync_account(sessions, account_id, batch_size=10)

    assert touchpoints(sessions) == [("r1@riverside-fm.example", "rejected", "inbound")]


def test_subject_redacted_before_storing(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = write_mbox(
        tmp_path / "m.mbox",
        message(
            "p1@riverside-fm.example",
            "maria.lopez@riverside-fm.example",
            SAM,
            "RE: patient Jane Doe DOB 04/12/1961",
        ),
    )
    account_id = add_account(sessions, "mbox", mbox)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        set_workspace_setting(session, workspace, "subject_mode", "redact")

    sync_account(sessions, account_id, batch_size=10)

    with sessions() as session:
        subject = session.scalars(select(Activity.subject)).one()
    assert "Jane" not in subject
    assert "1961" not in subject


def test_redacted_subject_keeps_source_contact(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = write_mbox(
        tmp_path / "m.mbox",
        message(
            "p1@riverside-fm.example",
            "maria.lopez@riverside-fm.example",
            SAM,
            "Pads for Janet Ortiz at Riverside - patient Jane Doe DOB 04/12/1961",
        ),
    )
    account_id = add_account(sessions, "mbox", mbox)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        set_workspace_setting(session, workspace, "subject_mode", "redact")

    sync_account(sessions, account_id, batch_size=10)

    with sessions() as session:
        subject = session.scalars(select(Activity.subject)).one()
    assert "Janet Ortiz" in subject
    assert "Jane Doe" not in subject
    assert "1961" not in subject


ICS_HEADER = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"


def ics_event(uid: str, start: str, summary: str, location: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n"
        f"DTSTART:{start}\r\nDTEND:{start[:-5]}3000Z\r\nSUMMARY:{summary}\r\n"
        f"LOCATION:{location}\r\nORGANIZER;CN=Sam Ortiz:mailto:{SAM}\r\n"
        "ATTENDEE;CN=Maria Lopez;PARTSTAT=ACCEPTED:mailto:maria.lopez@riverside-fm.example\r\n"
        "END:VEVENT\r\n"
    )


def test_ics_removed_event_removed(sessions, tmp_path):
    set_up(sessions, tmp_path)
    path = tmp_path / "cal.ics"
    lunch = ics_event("lunch-1@x", "20260305T170000Z", "Lunch w/ Dr. Lopez")
    visit = ics_event("visit-1@x", "20260312T170000Z", "Office visit")
    path.write_text(ICS_HEADER + lunch + visit + "END:VCALENDAR\r\n", encoding="utf-8")
    account_id = add_account(sessions, "ics", path)
    sync_account(sessions, account_id, batch_size=10)
    assert count(sessions, Activity) == 2
    path.write_text(ICS_HEADER + lunch + "END:VCALENDAR\r\n", encoding="utf-8")

    report = sync_account(sessions, account_id, batch_size=10)

    assert report.removed == 1
    with sessions() as session:
        remaining = session.scalars(select(Activity.external_id)).all()
    assert remaining == ["lunch-1@x"]
    assert count(sessions, Touchpoint) == 1


def test_ics_unchanged_file_reads_nothing(sessions, tmp_path):
    set_up(sessions, tmp_path)
    path = tmp_path / "cal.ics"
    event = ics_event("lunch-1@x", "20260305T170000Z", "Lunch w/ Dr. Lopez")
    path.write_text(ICS_HEADER + event + "END:VCALENDAR\r\n", encoding="utf-8")
    account_id = add_account(sessions, "ics", path)
    sync_account(sessions, account_id, batch_size=10)

    report = sync_account(sessions, account_id, batch_size=10)

    assert (report.fetched, report.removed) == (0, 0)
    assert count(sessions, Activity) == 1


def test_missing_file_marks_account_error(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = write_mbox(tmp_path / "m.mbox", INBOUND)
    account_id = add_account(sessions, "mbox", mbox)
    mbox.unlink()

    report = sync_account(sessions, account_id, batch_size=10)

    assert report.error is not None
    assert str(mbox) in report.error
    with sessions() as session:
        account = session.get_one(Account, account_id)
        assert account.status.value == "error"
        assert account.last_error == report.error


def test_occurred_at_is_aware_utc(sessions, tmp_path):
    set_up(sessions, tmp_path)
    account_id = add_account(sessions, "mbox", write_mbox(tmp_path / "m.mbox", INBOUND))

    sync_account(sessions, account_id, batch_size=10)

    with sessions() as session:
        occurred_at = session.scalars(select(Activity.occurred_at)).one()
    assert occurred_at == dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC)


class ListReader(Reader):
    """Yields a fixed list of items, as a provider connector would."""

    def __init__(self, items: list[Item]) -> None:
        super().__init__()
        self.items = items

    def read(self, cursor, progress=None):  # type: ignore[no-untyped-def]
        yield from self.items
        self.final_cursor = "done"


def sync_items(sessions, monkeypatch, account_id: int, items: list[Item]):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(READERS, "mbox", lambda account, services: ListReader(items))
    return sync_account(sessions, account_id, batch_size=2)


def meeting(key: str, uid: str) -> ActivityRecord:
    return ActivityRecord(
        kind=ActivityKind.EMAIL,
        provider_key=key,
        external_id=uid,
        occurred_at=dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC),
        participants=(
            Participant("maria.lopez@riverside-fm.example", ParticipantRole.FROM),
            Participant(SAM, ParticipantRole.TO),
        ),
        subject="Referral",
    )


def test_removed_keeps_activity_another_folder_holds(sessions, tmp_path, monkeypatch):
    set_up(sessions, tmp_path)
    account_id = add_account(sessions, "mbox", write_mbox(tmp_path / "m.mbox"))
    sync_items(
        sessions,
        monkeypatch,
        account_id,
        [
            meeting("INBOX:1", "a@x"),
            meeting("Referrals:7", "a@x"),
            meeting("INBOX:2", "b@x"),
        ],
    )

    report = sync_items(
        sessions, monkeypatch, account_id, [Removed("INBOX:1"), Removed("INBOX:2")]
    )

    assert report.removed == 2
    with sessions() as session:
        assert session.scalars(select(Activity.external_id)).all() == ["a@x"]
    assert count(sessions, Touchpoint) == 1


def test_scope_listed_drops_unseen_in_scope_only(sessions, tmp_path, monkeypatch):
    set_up(sessions, tmp_path)
    account_id = add_account(sessions, "mbox", write_mbox(tmp_path / "m.mbox"))
    sync_items(
        sessions,
        monkeypatch,
        account_id,
        [
            meeting("INBOX:1", "a@x"),
            meeting("INBOX:2", "b@x"),
            meeting("Sent:1", "c@x"),
        ],
    )
    listing_began = dt.datetime.now(dt.UTC)

    report = sync_items(
        sessions,
        monkeypatch,
        account_id,
        [meeting("INBOX:2", "b@x"), ScopeListed("INBOX:", since=listing_began)],
    )

    assert report.removed == 1
    with sessions() as session:
        assert sorted(session.scalars(select(Activity.external_id))) == ["b@x", "c@x"]
