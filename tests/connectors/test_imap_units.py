"""IMAP connector pieces that need no server: UID sets, cursors, folder
choice, provider keys, reply classification, backoff and Gmail messages."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from connectors.errors import (
    CursorExpired,
    NeedsReauthorization,
    RateLimited,
    SourceUnavailable,
    TransientError,
)
from connectors.imap import ImapConfig, RetryPolicy
from connectors.imap.client import FetchedMessage, FolderInfo, MailboxStatus
from connectors.imap.client import _vanished_uids as vanished_uids
from connectors.imap.cursor import FolderState, dump_cursor, load_cursor
from connectors.imap.errors import GMAIL_LOCKOUT_SECONDS, login_error, refusal_error
from connectors.imap.folders import choose_folders, key_prefix, provider_key
from connectors.imap.retry import Backoff
from connectors.imap.sync import _unchanged as folder_unchanged
from connectors.imap.sync import message_item
from connectors.imap.uidset import UidSet, sequence_set
from connectors.records import Activity, Flag, Quarantined

HEADER = (
    b"From: Ana Diaz <ana@lakeside-fm.example>\r\n"
    b"To: sam.ortiz@brookside-pt.example\r\n"
    b"Subject: Referral\r\n"
    b"Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
    b"Message-ID: <r1@lakeside-fm.example>\r\n\r\n"
)


def folder(name: str, *attributes: str) -> FolderInfo:
    return FolderInfo(name, frozenset(a.upper() for a in attributes))


# UID sets


def test_uidset_round_trip() -> None:
    uids = UidSet.parse("1:3,7,9:10")

    assert list(uids) == [1, 2, 3, 7, 9, 10]
    assert len(uids) == 6
    assert str(uids) == "1:3,7,9:10"
    assert 7 in uids
    assert 8 not in uids
    assert uids.max == 10


def test_uidset_append_and_discard() -> None:
    uids = UidSet()
    for uid in (1, 2, 3, 5):
        uids.append(uid)

    uids.discard_all([2, 99])

    assert str(uids) == "1,3,5"
    assert len(uids) == 3
    with pytest.raises(ValueError, match="not above"):
        uids.append(4)


def test_uidset_groups_and_sequence_set() -> None:
    uids = UidSet.parse("1:5")

    assert list(uids.groups(2)) == [[1, 2], [3, 4], [5]]
    assert sequence_set([5, 1, 2, 3]) == "1:3,5"
    assert str(UidSet.parse("")) == ""


def test_uidset_rejects_unordered_text() -> None:
    with pytest.raises(ValueError, match="ascending"):
        UidSet.parse("5,1")


# Cursor


def test_cursor_round_trip_with_gmail_ids() -> None:
    started = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    state = FolderState(
        uidvalidity=11,
        uids=UidSet.parse("1:3"),
        last_uid=4,
        highestmodseq=0,
        listing_started=started,
        gm_msgids={1: 1_600_000_000_000_000_001, 2: 1_600_000_000_000_000_000, 3: 5},
    )

    loaded = load_cursor(dump_cursor({"[Gmail]/All Mail": state}))

    assert loaded["[Gmail]/All Mail"] == state


def test_cursor_json_shape() -> None:
    state = FolderState(uidvalidity=7, uids=UidSet.parse("1:2"), last_uid=2)

    data = json.loads(dump_cursor({"INBOX": state}))

    assert data == {
        "version": 1,
        "folders": {
            "INBOX": {
                "uidvalidity": 7,
                "uids": "1:2",
                "last_uid": 2,
                "highestmodseq": None,
                "listing_started": None,
            }
        },
    }


@pytest.mark.parametrize("cursor", ["not json", '{"version": 99}', '{"version": 1}'])
def test_cursor_unreadable_raises_expired(cursor: str) -> None:
    with pytest.raises(CursorExpired, match="drop it"):
        load_cursor(cursor)


# Folder choice and provider keys


def test_folders_default_inbox_and_sent() -> None:
    listing = [
        folder("INBOX", "\\HasNoChildren"),
        folder("Gesendete Objekte", "\\Sent"),
        folder("Drafts", "\\Drafts"),
        folder("Archive", "\\Archive"),
    ]

    chosen = choose_folders(listing, gmail=False, configured=None, account="a@h:993")

    assert [f.name for f in chosen] == ["INBOX", "Gesendete Objekte"]


def test_folders_gmail_all_by_attribute() -> None:
    listing = [
        folder("INBOX"),
        folder("[Gmail]", "\\Noselect", "\\HasChildren"),
        folder("[Gmail]/Tous les messages", "\\All", "\\HasNoChildren"),
        folder("[Gmail]/Messages envoyés", "\\Sent"),
    ]

    chosen = choose_folders(listing, gmail=True, configured=None, account="a@h:993")

    assert [f.name for f in chosen] == ["[Gmail]/Tous les messages"]


def test_folders_gmail_without_all_falls_back() -> None:
    listing = [folder("INBOX"), folder("[Gmail]/Sent Mail", "\\Sent")]

    chosen = choose_folders(listing, gmail=True, configured=None, account="a@h:993")

    assert [f.name for f in chosen] == ["INBOX", "[Gmail]/Sent Mail"]


def test_folders_sent_by_name_without_special_use() -> None:
    listing = [folder("INBOX"), folder("INBOX.Sent"), folder("INBOX.Trash")]

    chosen = choose_folders(listing, gmail=False, configured=None, account="a@h:993")

    assert [f.name for f in chosen] == ["INBOX", "INBOX.Sent"]


def test_folders_configured_missing_raises() -> None:
    listing = [folder("INBOX"), folder("Sent", "\\Sent")]

    with pytest.raises(SourceUnavailable, match="Referrals not found on a@h:993"):
        choose_folders(listing, False, ["inbox", "Referrals"], "a@h:993")


def test_folders_configured_inbox_any_case() -> None:
    listing = [folder("INBOX"), folder("Referrals")]

    chosen = choose_folders(listing, False, ["inbox", "Referrals"], "a@h:993")

    assert [f.name for f in chosen] == ["INBOX", "Referrals"]


def test_provider_key_escapes_colon() -> None:
    key = provider_key("A:B", 5, 9, None)

    assert key == "A%3AB:5:9"
    assert not key.startswith(key_prefix("A", False))
    assert provider_key("INBOX", 5, 9, 123) == "gm:123"
    assert key_prefix("[Gmail]/All Mail", True) == "gm:"


# Server replies


@pytest.mark.parametrize(
    ("text", "retry_after"),
    [
        ("Request is throttled. Suggested Backoff Time: 299910 milliseconds", 299.91),
        ("[THROTTLED] Account throttled", None),
        ("[ALERT] Too many simultaneous connections. (Failure)", None),
        ("Server Unavailable. 15", None),
        ("[ALERT] Account exceeded command or bandwidth limits. (Failure)", 3600.0),
    ],
)
def test_refusal_throttling_is_rate_limited(
    text: str, retry_after: float | None
) -> None:
    error = refusal_error(text, "UID FETCH on a@h:993")

    assert isinstance(error, RateLimited)
    assert error.retry_after == retry_after
    assert text in str(error)


def test_refusal_other_is_transient() -> None:
    error = refusal_error("[SERVERBUG] oops", "UID FETCH on a@h:993")

    assert type(error) is TransientError


def test_login_rejected_needs_reauthorization() -> None:
    error = login_error(
        "[AUTHENTICATIONFAILED] Authentication failed.", "dana@h:993", "LOGIN"
    )

    assert isinstance(error, NeedsReauthorization)
    assert "dana@h:993" in str(error)
    assert "password" in str(error)


def test_login_unavailable_is_transient() -> None:
    error = login_error("[UNAVAILABLE] Temporary failure", "dana@h:993", "LOGIN")

    assert isinstance(error, TransientError)


def test_gmail_lockout_is_an_hour() -> None:
    assert GMAIL_LOCKOUT_SECONDS >= 3600


def test_vanished_reply_parsing() -> None:
    assert vanished_uids([b"(EARLIER) 41,43:45", b"7"]) == [7, 41, 43, 44, 45]


# Backoff


def test_backoff_grows_and_gives_up() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=3.0)
    backoff = Backoff(policy, "a@h:993", sleep=slept.append, uniform=lambda a, b: b)
    error = TransientError("connection reset")

    for _ in range(3):
        backoff.wait(error)
    with pytest.raises(TransientError, match="connection reset"):
        backoff.wait(error)

    assert slept == [1.0, 2.0, 3.0]


def test_backoff_jitter_stays_in_bounds() -> None:
    slept: list[float] = []
    backoff = Backoff(RetryPolicy(base_delay=2.0), "a@h:993", sleep=slept.append)

    backoff.wait(TransientError("x"))

    assert 1.0 <= slept[0] <= 2.0


def test_backoff_obeys_server_wait() -> None:
    slept: list[float] = []
    backoff = Backoff(RetryPolicy(), "a@h:993", sleep=slept.append)

    backoff.wait(RateLimited("throttled", retry_after=299.91))

    assert 299.91 <= slept[0] <= 300.91


def test_backoff_long_server_wait_is_raised() -> None:
    slept: list[float] = []
    backoff = Backoff(RetryPolicy(max_server_delay=60), "a@h:993", sleep=slept.append)

    with pytest.raises(RateLimited) as raised:
        backoff.wait(RateLimited("locked", retry_after=3600))

    assert raised.value.retry_after == 3600
    assert slept == []


def test_backoff_reset_after_progress() -> None:
    backoff = Backoff(RetryPolicy(max_attempts=2), "a@h:993", sleep=lambda _: None)

    backoff.wait(TransientError("x"))
    backoff.reset()
    backoff.wait(TransientError("x"))

    assert backoff.failures == 1


# Configuration


def test_config_needs_one_credential() -> None:
    with pytest.raises(ValueError, match="exactly one credential"):
        ImapConfig(host="h", username="u")
    with pytest.raises(ValueError, match="exactly one credential"):
        ImapConfig(host="h", username="u", password="p", access_token="t")


def test_config_repr_hides_credentials() -> None:
    config = ImapConfig(host="h", username="u", password="hunter2-secret")

    assert "hunter2-secret" not in repr(config)
    assert config.effective_port == 993
    assert (
        ImapConfig(
            host="h", username="u", password="p", security="starttls"
        ).effective_port
        == 143
    )


def test_config_log_label_masks_user() -> None:
    config = ImapConfig(host="imap.h", username="dana.wu@clinic.example", password="p")

    assert config.log_label == "d***@clinic.example@imap.h:993"
    assert "dana.wu" not in config.log_label


@pytest.mark.parametrize(
    "changes",
    [
        {"read_timeout": float("inf")},
        {"connect_timeout": 0},
        {"idle_renewal": 30 * 60},
        {"chunk_size": 0},
        {"security": "none"},
        {"folders": ()},
    ],
)
def test_config_rejects_invalid_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ImapConfig(host="h", username="u", password="p", **changes)  # type: ignore[arg-type]


# Folder state checks (CONDSTORE quirks)


def test_unchanged_with_highestmodseq_zero() -> None:
    # An empty mailbox may report HIGHESTMODSEQ 0; stored as 0 it must not
    # look changed on every poll.
    state = FolderState(uidvalidity=5, highestmodseq=0)
    status = MailboxStatus(exists=0, uidvalidity=5, uidnext=1, highestmodseq=0)

    assert folder_unchanged(state, status, condstore=True)


def test_unchanged_false_when_modseq_moves() -> None:
    state = FolderState(
        uidvalidity=5, uids=UidSet.parse("1:2"), last_uid=2, highestmodseq=9
    )
    status = MailboxStatus(exists=2, uidvalidity=5, uidnext=3, highestmodseq=10)

    assert not folder_unchanged(state, status, condstore=True)
    assert folder_unchanged(state, status, condstore=False)


def test_unchanged_false_without_uidnext() -> None:
    state = FolderState(uidvalidity=5, uids=UidSet.parse("1:2"), last_uid=2)
    status = MailboxStatus(exists=2, uidvalidity=5, uidnext=None, highestmodseq=None)

    assert not folder_unchanged(state, status, condstore=False)


# Gmail messages


def gmail_message(
    uid: int, labels: tuple[str, ...], flags: tuple[str, ...] = ()
) -> FetchedMessage:
    return FetchedMessage(
        uid=uid,
        header=HEADER,
        internal_date=dt.datetime(2026, 3, 3, 14, 16, 2, tzinfo=dt.UTC),
        flags=frozenset(flags),
        gm_msgid=1_592_000_000_000_000_000 + uid,
        gm_thrid=1_591_999_999_999_999_999,
        gm_labels=labels,
    )


def test_gmail_all_message_keyed_by_msgid() -> None:
    all_mail = folder("[Gmail]/All Mail", "\\All")
    state = FolderState(uidvalidity=3, gm_msgids={})

    item = message_item(
        all_mail, state, gmail_message(7, ("\\Inbox", "\\Sent", "Referrals")), True
    )

    assert isinstance(item, Activity)
    assert item.provider_key == "gm:1592000000000000007"
    assert item.labels == ("Inbox", "Sent", "Referrals")
    assert Flag.SENT in item.flags
    assert item.thread_id == "1591999999999999999"
    assert item.external_id == "r1@lakeside-fm.example"


def test_gmail_label_folder_keyed_by_uid() -> None:
    label = folder("Referrals")
    state = FolderState(uidvalidity=3)

    item = message_item(label, state, gmail_message(7, ("\\Inbox",)), True)

    assert item is not None
    assert item.provider_key == "Referrals:3:7"


def test_gmail_draft_label_is_skipped() -> None:
    state = FolderState(uidvalidity=3, gm_msgids={})

    item = message_item(
        folder("[Gmail]/All Mail", "\\All"), state, gmail_message(8, ("\\Draft",)), True
    )

    assert item is None


def test_draft_flag_is_skipped() -> None:
    state = FolderState(uidvalidity=3)

    item = message_item(
        folder("INBOX"), state, gmail_message(8, (), ("\\DRAFT",)), False
    )

    assert item is None


def test_sent_attribute_sets_flag_for_any_name() -> None:
    state = FolderState(uidvalidity=3)
    message = FetchedMessage(8, HEADER, None, frozenset())

    item = message_item(folder("Éléments envoyés", "\\Sent"), state, message, False)

    assert isinstance(item, Activity)
    assert Flag.SENT in item.flags
    assert item.labels == ("Éléments envoyés",)


def test_unreadable_header_is_quarantined() -> None:
    state = FolderState(uidvalidity=3)
    message = FetchedMessage(8, b"Subject: no addresses\r\n\r\n", None, frozenset())

    item = message_item(folder("INBOX"), state, message, False)

    assert isinstance(item, Quarantined)
    assert item.provider_key == "INBOX:3:8"
    assert "no valid address" in item.reason
