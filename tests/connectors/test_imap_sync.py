"""ImapReader and watch against a real Dovecot on loopback ports."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Generator, Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from connectors.errors import MalformedData, NeedsReauthorization, SourceUnavailable
from connectors.imap import ImapReader, watch
from connectors.mail import parse_message
from connectors.records import (
    Activity,
    Flag,
    Item,
    ParticipantRole,
    Quarantined,
    Removed,
    ScopeListed,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from tests.servers.dovecot import (
    dovecot_without_condstore as dovecot_without_condstore,  # noqa: F401
)

MAIL = Path(__file__).parent.parent / "data" / "mail"
RECEIVED = dt.datetime(2026, 3, 3, 14, 16, 2, tzinfo=dt.UTC)
UNDISCLOSED = (
    b"From: Ana Diaz <ana@lakeside-fm.example>\r\n"
    b"To: undisclosed-recipients:;\r\n"
    b"Cc: Referral Team: amy.chen@brookside-pt.example, Bo Lindgren"
    b" <bo@brookside-pt.example>;, carl@ridgeway-ortho.example\r\n"
    b"Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
    b"Subject: Referral\r\n"
    b"Message-ID: <r1@lakeside-fm.example>\r\n"
    b"\r\n"
    b"Body.\r\n"
)


def message(number: int, *, date: str = "Tue, 3 Mar 2026 09:15:00 -0500") -> bytes:
    return (
        f"From: Ana Diaz <ana@lakeside-fm.example>\r\n"
        f"To: sam.ortiz@brookside-pt.example\r\n"
        f"Date: {date}\r\n"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <m{number}@lakeside-fm.example>\r\n"
        f"\r\n"
        f"Patient letter {number}.\r\n"
    ).encode()


def append(
    server: DovecotServer,
    user: tuple[str, str],
    folder: str,
    messages: Sequence[bytes],
    flags: Sequence[bytes] = (),
) -> None:
    with server.client(*user) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw, flags=flags, msg_time=RECEIVED)


def expunge(
    server: DovecotServer, user: tuple[str, str], folder: str, uids: list[int]
) -> None:
    with server.client(*user) as client:
        client.select_folder(folder)
        client.delete_messages(uids)
        client.uid_expunge(uids)


def read(reader: ImapReader, cursor: str | None = None) -> list[Item]:
    return list(reader.read(cursor))


def keys(items: Sequence[Item]) -> list[str]:
    return [item.provider_key for item in items]


def activities(items: Sequence[Item]) -> list[Activity]:
    return [item for item in items if isinstance(item, Activity)]


def folder_state(reader: ImapReader, folder: str) -> dict[str, object]:
    assert reader.final_cursor is not None
    state: dict[str, object] = json.loads(reader.final_cursor)["folders"][folder]
    return state


# First sync


def test_first_sync_real_messages(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    files = sorted(MAIL.glob("*.eml"))
    raws = [path.read_bytes() for path in files]
    append(dovecot, user, "INBOX", raws)
    reader = ImapReader(dovecot.config(*user))

    items = read(reader)

    uidvalidity = folder_state(reader, "INBOX")["uidvalidity"]
    inbox = [item for item in items if item.provider_key.startswith("INBOX:")]
    assert len(inbox) == len(files) + 1
    for uid, (path, item) in enumerate(zip(files, inbox, strict=False), start=1):
        assert item.provider_key == f"INBOX:{uidvalidity}:{uid}", path.name
        header = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        try:
            expected = parse_message(header, provider_key="x", server_time=RECEIVED)
        except MalformedData:
            assert isinstance(item, Quarantined), path.name
            continue
        assert isinstance(item, Activity), path.name
        assert item.external_id == expected.external_id, path.name
        assert item.labels == ("INBOX",)
    listed = inbox[-1]
    assert isinstance(listed, ScopeListed)
    assert listed.prefix == "INBOX:"
    assert isinstance(items[-1], ScopeListed)
    assert items[-1].prefix == "Sent:"


def test_first_sync_sets_positions_per_chunk(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(7)])
    reader = ImapReader(dovecot.config(*user, chunk_size=3, folders=("INBOX",)))

    items = read(reader)

    positioned = [index for index, item in enumerate(items) if item.position]
    assert positioned == [2, 5, 6, 7]
    cursor = json.loads(items[5].position or "")
    assert cursor["folders"]["INBOX"]["last_uid"] == 6
    assert cursor["folders"]["INBOX"]["uids"] == "1:6"
    assert cursor["folders"]["INBOX"]["listing_started"] is not None


def test_sync_never_marks_mail_read(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(1), message(2)])

    read(ImapReader(dovecot.config(*user)))

    with dovecot.client(*user) as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags([1, 2])
    assert b"\\Seen" not in flags[1]
    assert b"\\Seen" not in flags[2]


def test_undisclosed_recipients_group(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [UNDISCLOSED])

    items = read(ImapReader(dovecot.config(*user, folders=("INBOX",))))

    (activity,) = activities(items)
    assert activity.addresses(ParticipantRole.TO) == []
    assert activity.addresses(ParticipantRole.CC) == [
        "amy.chen@brookside-pt.example",
        "bo@brookside-pt.example",
        "carl@ridgeway-ortho.example",
    ]
    names = {p.name for p in activity.participants}
    assert "Referral Team" not in names
    assert activity.addresses(ParticipantRole.FROM) == ["ana@lakeside-fm.example"]


def test_sent_folder_marks_sent(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "Sent", [message(1)])

    items = read(ImapReader(dovecot.config(*user)))

    (activity,) = activities(items)
    assert activity.provider_key.startswith("Sent:")
    assert Flag.SENT in activity.flags


def test_draft_and_bad_message_do_not_stop_sync(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    no_address = b"From: Front Desk\r\nSubject: note\r\nDate: Tue, 3 Mar 2026 09:15:00 -0500\r\n\r\nx\r\n"
    append(dovecot, user, "INBOX", [message(1), no_address])
    append(dovecot, user, "INBOX", [message(2)], flags=[b"\\Draft"])
    append(dovecot, user, "INBOX", [message(3)])
    reader = ImapReader(dovecot.config(*user, folders=("INBOX",)))

    items = read(reader)

    uidvalidity = folder_state(reader, "INBOX")["uidvalidity"]
    assert [type(item).__name__ for item in items] == [
        "Activity",
        "Quarantined",
        "Activity",
        "ScopeListed",
    ]
    quarantined = items[1]
    assert isinstance(quarantined, Quarantined)
    assert quarantined.provider_key == f"INBOX:{uidvalidity}:2"
    assert "no valid address" in quarantined.reason
    assert items[2].provider_key == f"INBOX:{uidvalidity}:4"
    assert folder_state(reader, "INBOX")["uids"] == "1:4"


# Incremental sync and deletions


def test_incremental_sync_reads_only_new(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(3)])
    reader = ImapReader(dovecot.config(*user))
    read(reader)
    cursor = reader.final_cursor
    append(dovecot, user, "INBOX", [message(3), message(4)])

    items = read(reader, cursor)

    uidvalidity = folder_state(reader, "INBOX")["uidvalidity"]
    assert keys(items) == [f"INBOX:{uidvalidity}:4", f"INBOX:{uidvalidity}:5"]
    assert [a.external_id for a in activities(items)] == [
        "m3@lakeside-fm.example",
        "m4@lakeside-fm.example",
    ]
    assert items[-1].position is not None


def test_no_change_sync_costs_one_examine_per_folder(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(3)])
    reader = ImapReader(dovecot.config(*user))
    read(reader)
    cursor = reader.final_cursor

    items = read(reader, cursor)

    assert items == []
    assert reader.commands == [
        "LOGIN",
        "CAPABILITY",
        "ENABLE",
        "LIST",
        "EXAMINE",
        "EXAMINE",
    ]
    assert reader.final_cursor == cursor


def test_expunge_yields_removed(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(5)])
    reader = ImapReader(dovecot.config(*user, folders=("INBOX",)))
    read(reader)
    cursor = reader.final_cursor
    expunge(dovecot, user, "INBOX", [2, 4])

    items = read(reader, cursor)

    uidvalidity = folder_state(reader, "INBOX")["uidvalidity"]
    assert items == [
        Removed(f"INBOX:{uidvalidity}:2"),
        Removed(f"INBOX:{uidvalidity}:4", position=items[-1].position),
    ]
    assert folder_state(reader, "INBOX")["uids"] == "1,3,5"


def test_search_star_quirk_is_not_new_mail(dovecot: DovecotServer) -> None:
    # RFC 3501 section 6.4.8: "4:*" matches the highest UID even when it is
    # 3, so a message added and expunged between syncs must not make UID 3
    # look new.
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(3)])
    reader = ImapReader(dovecot.config(*user, folders=("INBOX",)))
    read(reader)
    cursor = reader.final_cursor
    append(dovecot, user, "INBOX", [message(3)])
    expunge(dovecot, user, "INBOX", [4])

    items = read(reader, cursor)

    assert items == []
    assert "UID SEARCH" in reader.commands
    assert folder_state(reader, "INBOX")["last_uid"] == 4


def test_non_ascii_folder_name(dovecot: DovecotServer) -> None:
    # Folder names travel in modified UTF-7 (RFC 3501 section 5.1.3).
    user = dovecot.add_user()
    append(dovecot, user, "Überweisungen", [message(1)])
    reader = ImapReader(dovecot.config(*user, folders=("Überweisungen",)))

    items = read(reader)

    assert items[0].provider_key.startswith("Überweisungen:")
    assert isinstance(items[-1], ScopeListed)
    assert items[-1].prefix == "Überweisungen:"
    assert list(json.loads(reader.final_cursor or "")["folders"]) == ["Überweisungen"]


def test_copy_in_two_folders_is_two_sightings(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(1)])
    with dovecot.client(*user) as client:
        client.create_folder("Referrals")
        client.select_folder("INBOX")
        client.copy([1], "Referrals")
    reader = ImapReader(dovecot.config(*user, folders=("INBOX", "Referrals")))

    items = activities(read(reader))

    assert len(items) == 2
    assert items[0].provider_key.startswith("INBOX:")
    assert items[1].provider_key.startswith("Referrals:")
    assert items[0].external_id == items[1].external_id == "m1@lakeside-fm.example"


def test_uidvalidity_change_lists_folder_again(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "Referrals", [message(n) for n in range(4)])
    reader = ImapReader(dovecot.config(*user, folders=("INBOX", "Referrals")))
    read(reader)
    cursor = reader.final_cursor
    old_uidvalidity = folder_state(reader, "Referrals")["uidvalidity"]
    with dovecot.client(*user) as client:
        client.delete_folder("Referrals")
    append(dovecot, user, "Referrals", [message(1), message(9)])
    before = dt.datetime.now(dt.UTC)

    items = read(reader, cursor)

    new_uidvalidity = folder_state(reader, "Referrals")["uidvalidity"]
    assert new_uidvalidity != old_uidvalidity
    assert keys(items) == [
        f"Referrals:{new_uidvalidity}:1",
        f"Referrals:{new_uidvalidity}:2",
        "Referrals:",
    ]
    assert [a.external_id for a in activities(items)] == [
        "m1@lakeside-fm.example",
        "m9@lakeside-fm.example",
    ]
    listed = items[-1]
    assert isinstance(listed, ScopeListed)
    assert before <= listed.since <= dt.datetime.now(dt.UTC)
    assert folder_state(reader, "Referrals")["listing_started"] is None
    assert folder_state(reader, "Referrals")["last_uid"] == 2


def test_resume_from_chunk_position(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(n) for n in range(7)])
    config = dovecot.config(*user, chunk_size=3, folders=("INBOX",))
    first = ImapReader(config).read(None)
    assert isinstance(first, Generator)
    seen = []
    for item in first:
        seen.append(item)
        if item.position is not None:
            break
    first.close()

    rest = read(ImapReader(config), seen[-1].position)

    all_keys = keys(seen) + keys(rest)
    assert len(set(all_keys)) == len(all_keys) == 8
    assert isinstance(rest[-1], ScopeListed)
    started = json.loads(seen[-1].position or "")["folders"]["INBOX"]["listing_started"]
    assert rest[-1].since == dt.datetime.fromisoformat(started)


def test_deleted_folder_drops_its_sightings(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "Sent", [message(1)])
    reader = ImapReader(dovecot.config(*user))
    read(reader)
    cursor = reader.final_cursor

    items = read(ImapReader(dovecot.config(*user, folders=("INBOX",))), cursor)

    assert [type(item).__name__ for item in items] == ["ScopeListed"]
    assert items[0].provider_key == "Sent:"


# CONDSTORE and QRESYNC


@pytest.mark.parametrize("condstore", [True, False], ids=["condstore", "plain"])
def test_condstore_on_and_off(condstore: bool, request: pytest.FixtureRequest) -> None:
    server: DovecotServer = request.getfixturevalue(
        "dovecot" if condstore else "dovecot_without_condstore"
    )
    user = server.add_user()
    append(server, user, "INBOX", [message(n) for n in range(6)])
    reader = ImapReader(server.config(*user, folders=("INBOX",), chunk_size=2))
    read(reader)
    first_commands = reader.commands
    cursor = reader.final_cursor
    expunge(server, user, "INBOX", [3])

    items = read(reader, cursor)

    modseq = folder_state(reader, "INBOX")["highestmodseq"]
    uidvalidity = folder_state(reader, "INBOX")["uidvalidity"]
    assert keys(items) == [f"INBOX:{uidvalidity}:3"]
    after_examine = reader.commands[reader.commands.index("EXAMINE") + 1 :]
    if condstore:
        assert isinstance(modseq, int)
        assert first_commands.index("ENABLE") < first_commands.index("EXAMINE")
        assert after_examine == ["UID FETCH"]  # UID FETCH ... (CHANGEDSINCE n VANISHED)
    else:
        assert modseq is None
        assert "ENABLE" not in first_commands
        assert after_examine == ["UID SEARCH"] * 3  # three chunks of known UIDs
    no_change = read(reader, reader.final_cursor)
    assert no_change == []
    assert reader.commands[-2:] == ["LIST", "EXAMINE"]


# INTERNALDATE and time zones


@pytest.mark.parametrize("zone", ["America/Chicago", "UTC", "Asia/Kolkata"])
def test_internaldate_time_zones(
    zone: str, dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    user = dovecot.add_user()
    garbage = message(2, date="2002/09/14 Sat 13:06:03 GMT")
    no_date = message(3).replace(b"Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n", b"")
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    with dovecot.client(*user) as client:
        client.append("INBOX", message(1), msg_time=RECEIVED)
        client.append(
            "INBOX", garbage, msg_time=dt.datetime(2026, 3, 3, 14, 20, tzinfo=dt.UTC)
        )
        client.append(
            "INBOX", no_date, msg_time=dt.datetime(2026, 3, 3, 19, 50, tzinfo=india)
        )

    try:
        items = activities(read(ImapReader(dovecot.config(*user, folders=("INBOX",)))))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    assert [a.occurred_at for a in items] == [
        dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, 14, 20, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, 14, 20, tzinfo=dt.UTC),
    ]
    assert all(a.occurred_at.tzinfo is dt.UTC for a in items)
    assert any("invalid" in defect for defect in items[1].defects)
    assert any("missing" in defect for defect in items[2].defects)


# TLS and credentials


def test_starttls_with_private_ca(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(1)])
    config = dovecot.config(*user, port=dovecot.port, security="starttls")

    items = read(ImapReader(config))

    assert len(activities(items)) == 1


@pytest.mark.parametrize("ca", ["other", "system"])
def test_untrusted_certificate_is_rejected(ca: str, dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    ca_file = dovecot.certificates.other_ca_file if ca == "other" else None
    config = dovecot.config(*user, ca_file=ca_file)

    with pytest.raises(SourceUnavailable, match="certificate failed verification"):
        read(ImapReader(config))


def test_verification_off_accepts_unknown_ca(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    config = dovecot.config(*user, ca_file=None, verify_certificates=False)

    assert read(ImapReader(config)) != []


def test_wrong_password_needs_reauthorization(dovecot: DovecotServer) -> None:
    user, _ = dovecot.add_user()
    config = dovecot.config(user, "not-the-password")
    started = time.monotonic()

    with pytest.raises(NeedsReauthorization) as raised:
        read(ImapReader(config))

    message_text = str(raised.value)
    assert f"{user}@127.0.0.1:{dovecot.tls_port}" in message_text
    assert "AUTHENTICATIONFAILED" in message_text
    assert "not-the-password" not in message_text
    assert time.monotonic() - started < 2, "a rejected password must not be retried"


def test_xoauth2_token(dovecot: DovecotServer) -> None:
    # Dovecot checks an XOAUTH2 token like a password against the passdb.
    user, token = dovecot.add_user()
    append(dovecot, (user, token), "INBOX", [message(1)])

    good = read(ImapReader(dovecot.config(user, None, access_token=token)))
    with pytest.raises(NeedsReauthorization, match="access token was rejected"):
        read(ImapReader(dovecot.config(user, None, access_token="expired-token")))

    assert len(activities(good)) == 1


@pytest.mark.parametrize("mechanism", ["password", "access_token"])
def test_credentials_never_logged(
    mechanism: str,
    dovecot: DovecotServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user, secret = dovecot.add_user()
    caplog.set_level(logging.DEBUG)
    config = dovecot.config(user, **{mechanism: secret})
    wrong = dovecot.config(user, **{mechanism: secret + "-wrong"})

    with capture_logs() as events:
        read(ImapReader(config))
        with pytest.raises(NeedsReauthorization):
            read(ImapReader(wrong))

    sasl = base64.b64encode(f"user={user}\1auth=Bearer {secret}\1\1".encode()).decode()
    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, repr(events)]
    assert "REDACTED" in caplog.text
    for text in texts:
        assert secret not in text
        assert sasl not in text


# IDLE


def test_watch_reports_new_mail(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    config = dovecot.config(*user, idle_renewal=0.5)
    changed = threading.Event()
    stop = threading.Event()
    calls: list[str] = []

    def on_change(folder: str) -> None:
        calls.append(folder)
        changed.set()

    with capture_logs() as events:
        thread = threading.Thread(
            target=watch, args=(config, on_change, stop), kwargs={"poll_interval": 0.1}
        )
        thread.start()
        try:
            assert changed.wait(5), "no call once the connection opened"
            changed.clear()
            time.sleep(1.3)
            assert calls == ["INBOX"]
            append(dovecot, user, "INBOX", [message(1)])
            assert changed.wait(5), "no change reported within 5 s of APPEND"
        finally:
            stop.set()
            thread.join(5)

    assert not thread.is_alive()
    assert calls[:2] == ["INBOX", "INBOX"]
    renewals = [e for e in events if e["event"] == "imap idle renewed"]
    assert len(renewals) >= 1, "IDLE was not re-issued after idle_renewal"


def test_watch_reads_mail_that_arrived_before_idle(dovecot: DovecotServer) -> None:
    # IDLE reports only later changes, so mail appended before the
    # connection opened is read through the call made on connecting.
    user = dovecot.add_user()
    append(dovecot, user, "INBOX", [message(1)])
    config = dovecot.config(*user, idle_renewal=5.0)
    stop = threading.Event()
    calls: list[str] = []
    thread = threading.Thread(
        target=watch,
        args=(config, calls.append, stop),
        kwargs={"poll_interval": 0.1},
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)

    assert calls == ["INBOX"]


def test_watch_rejected_password_raises(dovecot: DovecotServer) -> None:
    user, _ = dovecot.add_user()
    config = dovecot.config(user, "wrong")

    with pytest.raises(NeedsReauthorization):
        watch(config, lambda folder: None, threading.Event())
