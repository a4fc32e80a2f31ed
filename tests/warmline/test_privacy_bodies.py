"""No message body, and under the default subject mode no subject, is stored.

Each test seeds one connector's source (mbox, .eml folder, .ics, a real
Dovecot over IMAP, a real Radicale over CalDAV, the Graph emulator for
Outlook, the Google emulator for Gmail and Google Calendar) with items
whose bodies carry a marker string and whose subjects carry another.  It syncs the source
through the pipeline, then reads every row of every table and looks for
the markers.
A positive control (the Message-ID or UID, which is stored) proves the
scan reads what the pipeline wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.caldav import CaldavReader
from connectors.google import GMAIL_METADATA_SCOPE, requested_scopes
from connectors.imap import ImapReader
from tests.emulators.google import GoogleEmulator, message_headers
from tests.emulators.google.harness import LoopbackOnly, settings_for
from tests.emulators.microsoft import GraphEmulator, Mailbox, SystemClock, address
from tests.emulators.microsoft.harness import CLIENT_ID, LoopbackGuard, follow_sign_in
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from tests.servers.radicale import RadicaleServer
from tests.servers.radicale import radicale as radicale  # noqa: F401
from warmline import readers
from warmline.accounts import add_file_account
from warmline.cli import AppContext
from warmline.models import Account
from warmline.pipeline import sync_account
from warmline.providers import google, microsoft
from warmline.readers import READERS
from warmline.schema import Base
from warmline.secrets import SecretBox
from warmline.settings import load_settings
from warmline.sources import import_sources
from warmline.staff import StaffInput, find_staff, upsert_staff
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"
SOURCES = """type,name,practice,emails,domains
practice,Riverside Family Medicine,,,riverside-fm.example
provider,"Maria L. Lopez, MD",Riverside Family Medicine,maria.lopez@riverside-fm.example,
"""
BODY = "BODYMARK" + secrets.token_hex(6)
SUBJECT = "SUBJMARK" + secrets.token_hex(6)


def stored_text(sessions: sessionmaker[Session]) -> str:
    """Return every value of every row of every table, as one text."""
    pieces = []
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                pieces.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(pieces)


def assert_no_content(sessions: sessionmaker[Session], stored_id: str) -> None:
    text = stored_text(sessions)

    assert stored_id in text, "the scan did not see the synced item"
    assert BODY not in text
    assert SUBJECT not in text


def set_up(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    sources_csv = tmp_path / "sources.csv"
    sources_csv.write_text(SOURCES, encoding="utf-8")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        import_sources(session, workspace, sources_csv)


def add_account(sessions: sessionmaker[Session], provider: str, location: str) -> int:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        member = find_staff(session, workspace, SAM)
        if provider in ("mbox", "eml", "ics"):
            account, _created = add_file_account(
                session, workspace, member, provider, Path(location)
            )
        else:
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider=provider,
                location=location,
            )
            session.add(account)
            session.flush()
        return account.id


def sync(sessions: sessionmaker[Session], account_id: int) -> None:
    report = sync_account(sessions, account_id, batch_size=10)
    assert report.error is None
    assert report.stored >= 1


def rfc822(message_id: str) -> str:
    """A multipart message with the body marker in every part and the subject."""
    return (
        "From: Maria Lopez <maria.lopez@riverside-fm.example>\r\n"
        f"To: Sam Ortiz <{SAM}>\r\n"
        "Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
        f"Subject: Referral for Jane Doe {SUBJECT}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Patient Jane Doe, DOB 04/12/1961. {BODY} plain part.\r\n"
        "--b1\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        f"<p>{BODY} html part</p>\r\n"
        "--b1\r\n"
        f'Content-Type: text/plain; name="{BODY}.txt"\r\n'
        f'Content-Disposition: attachment; filename="{BODY}.txt"\r\n'
        "\r\n"
        f"{BODY} attachment\r\n"
        "--b1--\r\n"
    )


def test_mbox_stores_no_body(sessions, tmp_path):
    set_up(sessions, tmp_path)
    mbox = tmp_path / "mail.mbox"
    text = rfc822("mbox-1@riverside-fm.example").replace("\r\n", "\n")
    mbox.write_text(
        f"From x@x Tue Mar 03 14:15:00 +0000 2026\n{text}\n", encoding="utf-8"
    )
    account_id = add_account(sessions, "mbox", str(mbox))

    sync(sessions, account_id)

    assert_no_content(sessions, "mbox-1@riverside-fm.example")


def test_full_subject_mode_found_by_scan(sessions, tmp_path):
    set_up(sessions, tmp_path)
    with sessions.begin() as session:
        set_workspace_setting(
            session, get_or_create_workspace(session, "test"), "subject_mode", "full"
        )
    mbox = tmp_path / "mail.mbox"
    text = rfc822("mbox-2@riverside-fm.example").replace("\r\n", "\n")
    mbox.write_text(
        f"From x@x Tue Mar 03 14:15:00 +0000 2026\n{text}\n", encoding="utf-8"
    )
    account_id = add_account(sessions, "mbox", str(mbox))

    sync(sessions, account_id)

    stored = stored_text(sessions)
    assert SUBJECT in stored
    assert BODY not in stored


def test_eml_stores_no_body(sessions, tmp_path):
    set_up(sessions, tmp_path)
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "one.eml").write_text(
        rfc822("eml-1@riverside-fm.example"), encoding="utf-8", newline=""
    )
    account_id = add_account(sessions, "eml", str(folder))

    sync(sessions, account_id)

    assert_no_content(sessions, "eml-1@riverside-fm.example")


def test_ics_stores_no_description(sessions, tmp_path):
    set_up(sessions, tmp_path)
    calendar = tmp_path / "calendar.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:ics-1@riverside-fm.example\r\nDTSTAMP:20260301T000000Z\r\n"
        "DTSTART:20260302T150000Z\r\nDTEND:20260302T153000Z\r\n"
        f"SUMMARY:Visit re Jane Doe {SUBJECT}\r\n"
        f"DESCRIPTION:Agenda: {BODY} description\r\n"
        f"X-ALT-DESC;FMTTYPE=text/html:<p>{BODY} html description</p>\r\n"
        f"COMMENT:{BODY} comment\r\n"
        f"ORGANIZER;CN=Sam Ortiz:mailto:{SAM}\r\n"
        "ATTENDEE;CN=Maria Lopez;PARTSTAT=ACCEPTED:mailto:maria.lopez@riverside-fm.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
        newline="",
    )
    account_id = add_account(sessions, "ics", str(calendar))

    sync(sessions, account_id)

    assert_no_content(sessions, "ics-1@riverside-fm.example")


def test_imap_stores_no_body(dovecot: DovecotServer, sessions, tmp_path, monkeypatch):
    set_up(sessions, tmp_path)
    user, password = dovecot.add_user()
    with dovecot.client(user, password) as client:
        client.append("INBOX", rfc822("imap-1@riverside-fm.example").encode())
    config = dovecot.config(user, password, folders=("INBOX",))
    monkeypatch.setitem(READERS, "imap", lambda account, services: ImapReader(config))
    account_id = add_account(sessions, "imap", config.account_label)

    sync(sessions, account_id)

    assert_no_content(sessions, "imap-1@riverside-fm.example")


# --- Outlook through the Graph emulator ----------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-bodies"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture
def outlook_app(sessions, emulator, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    environment = {
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": emulator.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": emulator.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(emulator.ca_file),
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        microsoft,
        "open_browser",
        lambda url: follow_sign_in(url, str(emulator.ca_file)),
    )
    set_up(sessions, tmp_path)
    context = AppContext(sessions, "test", load_settings())
    microsoft.register_readers(context.secret_box)
    yield context
    assert guard.refused == []


def seed_outlook(mailbox: Mailbox) -> None:
    upn = mailbox.user.upn
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    mailbox.add_message(
        "inbox",
        subject=f"Referral for Jane Doe {SUBJECT}",
        sender=address("Maria Lopez", "maria.lopez@riverside-fm.example"),
        to=[address("Sam Ortiz", upn)],
        sent=dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC),
        internet_message_id="<graph-1@riverside-fm.example>",
        bodyPreview=f"{BODY} preview",
        body={"contentType": "html", "content": f"<p>{BODY} body</p>"},
        uniqueBody={"contentType": "text", "content": f"{BODY} unique body"},
    )
    mailbox.calendars.add_event(
        subject=f"Visit {SUBJECT}",
        start=start,
        end=start + dt.timedelta(hours=1),
        organizer=address("Maria Lopez", "maria.lopez@riverside-fm.example"),
        attendees=[],
    )


def test_outlook_stores_no_body(outlook_app, emulator, sessions):
    staff = "bodies@brookside-pt.example"
    mailbox = emulator.add_user(staff, "Sam Ortiz")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput(staff, "Sam Ortiz"))
    seed_outlook(mailbox)
    result = CliRunner().invoke(
        microsoft.connect_command, ["--staff", staff], obj=outlook_app
    )
    assert result.exit_code == 0, result.output
    with sessions() as session:
        account_ids = sorted(
            session.scalars(select(Account.id).where(Account.location == staff))
        )

    for account_id in account_ids:
        sync(sessions, account_id)

    assert len(account_ids) == 2
    assert_no_content(sessions, "graph-1@riverside-fm.example")


# --- CalDAV on a real Radicale ---------------------------------------------------


def test_caldav_stores_no_description(
    radicale: RadicaleServer, sessions, tmp_path, monkeypatch
):
    set_up(sessions, tmp_path)
    user, password = radicale.add_user("bodies")
    seeder = radicale.seeder(user, password)
    calendar = seeder.make_calendar("work")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    seeder.put(
        f"{calendar}visit.ics",
        ics_event("caldav-1@riverside-fm.example", start),
    )
    config = radicale.config(user, password)
    monkeypatch.setitem(
        READERS, "caldav", lambda account, services: CaldavReader(config)
    )
    account_id = add_account(sessions, "caldav", radicale.url + user + "/")

    sync(sessions, account_id)

    assert_no_content(sessions, "caldav-1@riverside-fm.example")


def ics_event(uid: str, start: dt.datetime) -> str:
    """An event with the subject marker in SUMMARY and the body marker in text."""
    end = start + dt.timedelta(hours=1)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:Visit re Jane Doe {SUBJECT}\r\n"
        f"DESCRIPTION:Agenda: {BODY} description\r\n"
        f"X-ALT-DESC;FMTTYPE=text/html:<p>{BODY} html description</p>\r\n"
        f"COMMENT:{BODY} comment\r\n"
        f"ORGANIZER;CN=Sam Ortiz:mailto:{SAM}\r\n"
        "ATTENDEE;CN=Maria Lopez;PARTSTAT=ACCEPTED:"
        "mailto:maria.lopez@riverside-fm.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


# --- Gmail and Google Calendar through the Google emulator ------------------------


@pytest.fixture(scope="module")
def google_emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


def add_google_accounts(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, box: SecretBox
) -> tuple[int, int]:
    """Store a grant of the least scopes on a gmail account, shared with calendar."""
    grant = emulator.authorized_user_info(SAM, requested_scopes())
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        member = find_staff(session, workspace, SAM)
        gmail = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider="gmail",
            location=SAM,
            options={"mode": "user", "scopes": requested_scopes()},
            secret=box.encrypt(json.dumps(grant)),
        )
        session.add(gmail)
        session.flush()
        calendar = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider="google_calendar",
            location=SAM,
            options={"mode": "user", "credential_account_id": gmail.id},
        )
        session.add(calendar)
        session.flush()
        return gmail.id, calendar.id


def seed_google(emulator: GoogleEmulator) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    user = emulator.user(SAM)
    # Gmail returns no body under the gmail.metadata scope, so the emulator
    # contains none; the body marker sits in headers Warmline does not ask for.
    headers = message_headers(
        "Maria Lopez <maria.lopez@riverside-fm.example>",
        f"Sam Ortiz <{SAM}>",
        f"Referral for Jane Doe {SUBJECT}",
        now - dt.timedelta(days=1),
        "gmail-1@riverside-fm.example",
        extra=(("Comments", f"{BODY} comments"), ("Thread-Topic", SUBJECT)),
    )
    user.mailbox.add_message(headers, ["INBOX"], now - dt.timedelta(days=1))
    start = now + dt.timedelta(days=2)
    user.calendars["primary"].put(
        {
            "id": "gcal1",
            "iCalUID": "gcal-1@google.com",
            "status": "confirmed",
            "summary": f"Visit re Jane Doe {SUBJECT}",
            "description": f"Agenda: {BODY} description",
            "location": "Riverside Family Medicine",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
            "organizer": {"email": SAM, "self": True},
            "attendees": [
                {"email": SAM, "self": True, "responseStatus": "accepted"},
                {
                    "email": "maria.lopez@riverside-fm.example",
                    "responseStatus": "accepted",
                },
            ],
            "attachments": [{"fileUrl": "https://x.example/a", "title": BODY}],
        }
    )


def test_gmail_and_google_calendar_store_no_body(
    google_emulator, sessions, tmp_path, monkeypatch
):
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    box = SecretBox([Fernet.generate_key()])
    google.register_readers(lambda: box, connector=settings_for(google_emulator))
    set_up(sessions, tmp_path)
    seed_google(google_emulator)
    gmail, calendar = add_google_accounts(sessions, google_emulator, box)

    sync(sessions, gmail)
    sync(sessions, calendar)

    assert_no_content(sessions, "gmail-1@riverside-fm.example")
    assert_no_content(sessions, "gcal-1@google.com")
    fetched = google_emulator.calls_to("users.messages.get")
    assert fetched, "the reader fetched no message"
    assert {tuple(call.query.get("format", [])) for call in fetched} == {("metadata",)}
    assert GMAIL_METADATA_SCOPE in requested_scopes()
    assert not {scope for scope in requested_scopes() if "gmail" in scope} - {
        GMAIL_METADATA_SCOPE
    }
    assert guard.refused == []
