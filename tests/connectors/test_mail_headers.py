"""Header splitting, encoded words and charsets (connectors.mail)."""

from __future__ import annotations

import pytest

from connectors.mail import HeaderBlock, parse_message
from connectors.mail.charsets import decode_bytes, resolve_charset
from connectors.mail.encoded_words import decode_encoded_words

HEADERS = (
    b"From: ana@lakeside-fm.example\r\n"
    b"To: sam.ortiz@brookside-pt.example\r\n"
    b"Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
    b"Message-ID: <h1@lakeside-fm.example>\r\n"
)


def subject_of(raw_subject: bytes) -> tuple[str | None, tuple[str, ...]]:
    activity = parse_message(
        HEADERS + b"Subject: " + raw_subject + b"\r\n\r\nbody\r\n", provider_key="k"
    )
    return activity.subject, activity.defects


def test_header_block_unfolds_and_keeps_occurrences() -> None:
    raw = (
        b"From mbox-line Thu Mar 05 16:40:00 2026\n"
        b"Received: from a\n\tby b; Thu, 5 Mar 2026 16:40:00 +0000\n"
        b"Cc: one@x.example\n"
        b"X-Unrelated: dropped\n"
        b"CC : two@x.example,\n three@x.example\n"
        b"\n"
        b"Cc: body@x.example\n"
    )

    headers = HeaderBlock.from_bytes(raw)

    assert headers.all("cc") == [b"one@x.example", b"two@x.example, three@x.example"]
    assert headers.first("received") == b"from a\tby b; Thu, 5 Mar 2026 16:40:00 +0000"
    assert "x-unrelated" not in headers
    assert headers.defects == []


def test_header_block_stops_at_crlf_blank_line() -> None:
    raw = b"Subject: one\r\nTo: a@x.example\r\n\r\nTo: body@x.example\r\n\n"

    headers = HeaderBlock.from_bytes(raw)

    assert headers.all("to") == [b"a@x.example"]
    assert headers.size == len(b"Subject: one\r\nTo: a@x.example\r\n")


def test_header_block_notes_line_without_colon() -> None:
    headers = HeaderBlock.from_bytes(b"Subject: one\ngarbage line\nTo: a@x.example\n\n")

    assert headers.all("to") == [b"a@x.example"]
    assert headers.defects == ["header line 2 has no field name; ignored"]


def test_body_is_never_read() -> None:
    raw = HEADERS + b"\r\nSubject: from the body\r\nCc: body@x.example\r\n"

    activity = parse_message(raw, provider_key="k")

    assert activity.subject is None
    assert activity.addresses() == [
        "ana@lakeside-fm.example",
        "sam.ortiz@brookside-pt.example",
    ]


def test_folded_encoded_subject() -> None:
    subject, defects = subject_of(
        b"=?UTF-8?Q?Referral_for_Mr=2E?=\r\n =?UTF-8?Q?_Nakamura?="
    )

    assert subject == "Referral for Mr. Nakamura"
    assert defects == ()


def test_encoded_words_keep_space_next_to_plain_text() -> None:
    decoded = decode_encoded_words("Re: =?utf-8?q?caf=C3=A9?= today", "Subject", [])

    assert decoded == "Re: café today"


def test_encoded_words_join_split_character() -> None:
    # "é" is C3 A9 in UTF-8; some clients split the bytes across two words.
    decoded = decode_encoded_words("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "Subject", [])

    assert decoded == "café"


def test_invalid_encoded_word_stays_as_written() -> None:
    defects: list[str] = []

    decoded = decode_encoded_words("=?utf-8?b?Q?= ok", "Subject", defects)

    assert decoded == "=?utf-8?b?Q?= ok"
    assert defects == ["Subject: encoded word '=?utf-8?b?Q?=' is invalid"]


@pytest.mark.parametrize(
    ("raw_subject", "expected", "defect"),
    [
        # iso-8859-1 labels are read as windows-1252, where 0x92 is U+2019.
        (
            b"=?iso-8859-1?Q?Dr=2E_O=92Neil=92s_referral?=",
            "Dr. O’Neil’s referral",
            None,
        ),
        (
            b"=?x-unknown?B?Q2Fm6Q==?=",
            "Café",
            "Subject: unknown charset 'x-unknown'; decoded as windows-1252",
        ),
        # 0xE9 0x46 exists in GBK (and gb18030) but not in GB2312.
        (b"=?gb2312?B?6UY=?=", "镕", None),
        (b"=?ks_c_5601-1987?B?x9GxuQ==?=", "한국", None),
        (
            b"\xdcberweisung Dr. J\xfcrgen",
            "Überweisung Dr. Jürgen",
            "Subject: 8-bit bytes that are not UTF-8; decoded as windows-1252",
        ),
        ("Überweisung Dr. Jürgen".encode(), "Überweisung Dr. Jürgen", None),
        (
            b"=?utf-8?B?Q2Fm6Q==?=",
            "Café",
            "Subject: bytes invalid in charset 'utf-8'; decoded as windows-1252",
        ),
    ],
)
def test_lying_charset_labels(
    raw_subject: bytes, expected: str, defect: str | None
) -> None:
    subject, defects = subject_of(raw_subject)

    assert subject == expected
    assert defects == ((defect,) if defect else ())


def test_unknown_charset_holding_utf8() -> None:
    subject, defects = subject_of(b"=?unknown-8bit?Q?caf=C3=A9?=")

    assert subject == "café"
    assert defects == ("Subject: unknown charset 'unknown-8bit'; decoded as UTF-8",)


@pytest.mark.parametrize("label", ["hex", "zlib", "rot13", "no-such-charset", ""])
def test_labels_that_are_no_text_charset(label: str) -> None:
    assert resolve_charset(label) is None


def test_windows_1252_unassigned_bytes_never_raise() -> None:
    defects: list[str] = []

    text = decode_bytes(b"a\x81b\x9dc", "iso-8859-1", "Subject", defects)

    assert text == "a\x81b\x9dc"
    assert defects == []
