"""MboxReader: streaming, cursors, Takeout labels, quarantine."""

from __future__ import annotations

import gc
import json
import shutil
import tracemalloc
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from connectors.errors import SourceUnavailable
from connectors.files.mbox import MboxReader
from connectors.records import Activity, Flag, Item, Quarantined

DATA = Path(__file__).parent.parent / "data" / "mail"
TAKEOUT = DATA / "takeout"


def mbox_message(number: int, body_lines: int = 8) -> bytes:
    header = (
        f"From sender{number}@lakeside-fm.example Thu Mar 05 16:40:00 +0000 2026\n"
        f"From: Ana Diaz <ana{number % 50}@lakeside-fm.example>\n"
        f"To: sam.ortiz@brookside-pt.example\n"
        f"Date: Thu, 5 Mar 2026 11:40:00 -0500\n"
        f"Message-ID: <m{number}@lakeside-fm.example>\n"
        f"Subject: Referral {number}\n"
        "\n"
    ).encode()
    body = b"".join(
        b"Line %d of the letter about the patient.\n" % i for i in range(body_lines)
    )
    return header + body + b"\n"


def write_mbox(path: Path, numbers: Iterable[int], mode: str = "wb") -> None:
    with path.open(mode) as stream:
        for number in numbers:
            stream.write(mbox_message(number))


def read_all(reader: MboxReader, cursor: str | None = None) -> list[Item]:
    return list(reader.read(cursor))


def keys(items: Sequence[Item]) -> list[str]:
    return [item.provider_key for item in items]


def test_reads_every_message(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(3))
    reader = MboxReader(path)

    items = read_all(reader)

    assert keys(items) == [
        "m0@lakeside-fm.example",
        "m1@lakeside-fm.example",
        "m2@lakeside-fm.example",
    ]
    assert all(isinstance(item, Activity) for item in items)
    assert reader.final_cursor == items[-1].position
    assert json.loads(reader.final_cursor or "")["offset"] == path.stat().st_size


def test_final_cursor_reads_nothing_more(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(3))
    first = MboxReader(path)
    read_all(first)
    second = MboxReader(path)

    items = read_all(second, first.final_cursor)

    assert items == []
    assert second.final_cursor == first.final_cursor


def test_resume_from_mid_file_cursor(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(10))
    items = read_all(MboxReader(path))

    resumed = read_all(MboxReader(path), items[3].position)

    assert keys(resumed) == keys(items[4:])
    assert [item.position for item in resumed] == [item.position for item in items[4:]]


def test_append_then_resume(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(5))
    first = MboxReader(path)
    read_all(first)
    write_mbox(path, range(5, 8), mode="ab")

    items = read_all(MboxReader(path), first.final_cursor)

    assert keys(items) == [f"m{n}@lakeside-fm.example" for n in range(5, 8)]


def test_small_file_appended_past_4kb_resumes(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(1))
    first = MboxReader(path)
    read_all(first)
    write_mbox(path, range(1, 40), mode="ab")

    items = read_all(MboxReader(path), first.final_cursor)

    assert len(items) == 39
    assert items[0].provider_key == "m1@lakeside-fm.example"


@pytest.mark.parametrize(
    "replacement",
    [
        [7, 8, 9, 10, 11, 12, 13],  # another file, longer than the old one
        [0, 1],  # the same file, truncated
        [0, 1, 2, 99, 4, 5, 6],  # same head and size, another message inside
    ],
)
def test_replaced_file_restarts(tmp_path: Path, replacement: list[int]) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(5))
    first = MboxReader(path)
    old_items = read_all(first)
    write_mbox(path, replacement)

    with capture_logs() as logs:
        items = read_all(MboxReader(path), old_items[3].position)

    assert keys(items) == [f"m{n}@lakeside-fm.example" for n in replacement]
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == [
        "mbox cursor does not fit the file; reading it from the start"
    ]


@pytest.mark.parametrize(
    "cursor", ["not json", "[]", '{"offset": 12}', '{"offset": "x"}']
)
def test_invalid_cursor_restarts(tmp_path: Path, cursor: str) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(2))

    items = read_all(MboxReader(path), cursor)

    assert len(items) == 2


def test_quarantine_then_continue(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    garbled = (
        b"From ana@lakeside-fm.example Thu Mar 05 16:40:00 2026\r\n"
        b"From: ana@lakeside-fm.example\r\n"
        b"To: " + b'"x" <' * 40_000 + b"\r\n"
        b"Subject: garbled\r\n"
        b"Message-ID: <c10@lakeside-fm.example>\r\n\r\nbody\r\n\r\n"
    )
    path.write_bytes(mbox_message(1) + garbled + mbox_message(2))

    items = read_all(MboxReader(path))

    assert keys(items) == [
        "m1@lakeside-fm.example",
        "c10@lakeside-fm.example",
        "m2@lakeside-fm.example",
    ]
    assert items[1] == Quarantined(
        "c10@lakeside-fm.example",
        "address header To is 200,000 bytes, limit 65,536",
        items[1].position,
    )
    assert isinstance(items[2], Activity)


def test_oversized_header_block_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    huge = (
        (
            b"From ana@lakeside-fm.example Thu Mar 05 16:40:00 2026\n"
            b"Message-ID: <huge@lakeside-fm.example>\n"
            + b"X-Filler: "
            + b"y" * 100
            + b"\n"
        )
        + (b"X-Filler: " + b"y" * 100 + b"\n") * 12_000
        + b"\nbody\n\n"
    )
    path.write_bytes(huge + mbox_message(2))

    items = read_all(MboxReader(path))

    assert isinstance(items[0], Quarantined)
    assert items[0].provider_key == "huge@lakeside-fm.example"
    assert items[0].reason == "header block is 1,332,150 bytes, limit 1,048,576"
    assert keys(items)[1:] == ["m2@lakeside-fm.example"]


def test_crlf_file_reads_like_lf(tmp_path: Path) -> None:
    lf = tmp_path / "lf.mbox"
    crlf = tmp_path / "crlf.mbox"
    write_mbox(lf, range(4))
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))

    lf_items = read_all(MboxReader(lf))
    crlf_items = read_all(MboxReader(crlf))

    assert keys(crlf_items) == keys(lf_items)
    for lf_item, crlf_item in zip(lf_items, crlf_items, strict=True):
        assert isinstance(lf_item, Activity) and isinstance(crlf_item, Activity)
        assert crlf_item.participants == lf_item.participants
        assert crlf_item.subject == lf_item.subject
        assert crlf_item.occurred_at == lf_item.occurred_at


def test_crlf_resume(tmp_path: Path) -> None:
    path = tmp_path / "crlf.mbox"
    path.write_bytes(
        b"".join(mbox_message(n) for n in range(5)).replace(b"\n", b"\r\n")
    )
    items = read_all(MboxReader(path))

    resumed = read_all(MboxReader(path), items[1].position)

    assert keys(resumed) == keys(items[2:])


def test_file_not_starting_with_from_line(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    single = (
        b"\n\nFrom: ana@lakeside-fm.example\nTo: sam@brookside-pt.example\n"
        b"Date: Thu, 5 Mar 2026 11:40:00 -0500\nMessage-ID: <first@x.example>\n\nbody\n\n"
    )
    path.write_bytes(single + mbox_message(1))

    items = read_all(MboxReader(path))

    assert keys(items) == ["first@x.example", "m1@lakeside-fm.example"]


def test_from_quoting_and_unquoted_body_lines(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    body = (
        b"From ana@x.example Thu Mar 05 16:40:00 2026\n"
        b"From: ana@x.example\nTo: sam@y.example\n"
        b"Date: Thu, 5 Mar 2026 11:40:00 -0500\nMessage-ID: <quoted@x.example>\n\n"
        b">From the desk: mboxo and mboxrd quote this line.\n"
        b">>From an older quote.\n"
        b"\n"
        b"From the front desk: some writers do not quote it.\n"
        b"\n"
    )
    long_line = b"z" * 65_536 + b"From a@x.example Thu Mar 05 16:40:00 2026\n\n"
    path.write_bytes(body + long_line + mbox_message(1))

    items = read_all(MboxReader(path))

    assert keys(items) == ["quoted@x.example", "m1@lakeside-fm.example"]


def test_takeout_same_message_in_two_files() -> None:
    inbox = read_all(MboxReader(TAKEOUT / "Inbox.mbox"))
    referrals = read_all(MboxReader(TAKEOUT / "Referrals.mbox"))

    in_inbox = {item.provider_key: item for item in inbox}
    in_referrals = {item.provider_key: item for item in referrals}
    first, second = (
        in_inbox["tk7@lakeside-fm.example"],
        in_referrals["tk7@lakeside-fm.example"],
    )
    assert isinstance(first, Activity) and isinstance(second, Activity)
    assert first.external_id == second.external_id == "tk7@lakeside-fm.example"
    assert first.labels == ("Boîte de réception", "Referrals", "Ouvert", "Important")
    assert first.thread_id == "1790000000000000007"
    assert first.participants == second.participants


def test_takeout_skips_spam_trash_drafts_chats() -> None:
    reader = MboxReader(TAKEOUT / "Referrals.mbox")

    items = read_all(reader)

    assert keys(items) == ["tk7@lakeside-fm.example", "sent13@brookside-pt.example"]
    assert json.loads(reader.final_cursor or "")["offset"] == (
        (TAKEOUT / "Referrals.mbox").stat().st_size
    )


def test_takeout_sent_and_quoted_label() -> None:
    items = read_all(MboxReader(TAKEOUT / "Referrals.mbox"))

    sent = items[-1]
    assert isinstance(sent, Activity)
    assert sent.labels == ("Envoyés", "Referrals", "Clinics, North")
    assert sent.flags == frozenset({Flag.SENT})


def test_skipped_message_covered_by_next_position(tmp_path: Path) -> None:
    path = tmp_path / "Referrals.mbox"
    shutil.copyfile(TAKEOUT / "Referrals.mbox", path)
    items = read_all(MboxReader(path))

    resumed = read_all(MboxReader(path), items[0].position)

    assert keys(resumed) == ["sent13@brookside-pt.example"]


def test_pipermail_obfuscated_addresses() -> None:
    items = read_all(MboxReader(DATA / "pipermail-obfuscated.mbox"))

    assert keys(items) == [
        "pm1.2026@northgate-clinic.example",
        "pm2.2026@brookside-pt.example",
    ]
    for item in items:
        assert isinstance(item, Quarantined)
        assert "is not an e-mail address" in item.reason


def test_comment_names_mailing_list() -> None:
    items = read_all(MboxReader(DATA / "comment-names.mbox"))

    first, second = items
    assert isinstance(first, Activity) and isinstance(second, Activity)
    assert [
        (p.role.value, p.address, p.name, p.name_from_comment)
        for p in first.participants
    ] == [
        ("from", "zoran@lakeside-fm.example", "Zoran Šarić", True),
        ("to", "mei.tanaka@brookside-pt.example", "Mei K. Tanaka", False),
        ("to", "desktop-list@lists.lakeside-fm.example", None, False),
        ("cc", "ana.diaz@lakeside-fm.example", None, False),
        ("cc", "mruiz@cedar-im.example", "Ruiz Soto, Maria", False),
    ]
    assert first.flags == frozenset({Flag.BULK})
    assert second.addresses() == [
        "eloise.baptiste@cedar-im.example",
        "zoran@lakeside-fm.example",
        "desktop-list@lists.lakeside-fm.example",
    ]
    assert second.thread_id == "20080301000000.GA1@lakeside-fm.example"
    assert second.defects == ()


def test_date_from_line_replaces_bad_date(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes(
        mbox_message(1).replace(b"Thu, 5 Mar 2026 11:40:00 -0500", b"soon")
    )

    (item,) = read_all(MboxReader(path))

    assert isinstance(item, Activity)
    assert item.occurred_at.isoformat() == "2026-03-05T16:40:00+00:00"
    assert item.defects == ("Date 'soon' is invalid; used the server timestamp",)


def test_progress_reports_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    write_mbox(path, range(3))
    size = path.stat().st_size
    calls: list[tuple[int, int | None]] = []

    list(MboxReader(path).read(None, lambda done, total: calls.append((done, total))))

    assert len(calls) == 3
    assert [total for _, total in calls] == [size] * 3
    assert calls[-1][0] == size
    assert calls[0][0] < calls[1][0] < calls[2][0]


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing.mbox"

    with pytest.raises(SourceUnavailable, match=str(path)):
        read_all(MboxReader(path))


def test_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="check that the path is right"):
        read_all(MboxReader(tmp_path))


def measure_read(path: Path) -> tuple[int, int]:
    """Read `path` keeping no items, and return (activities, peak bytes).

    The cycle collector is off while tracing, which makes the read faster.
    Garbage cycles, which the reader must not leave behind, then count as
    growth.
    """
    count = 0
    gc.disable()
    tracemalloc.start()
    try:
        for item in MboxReader(path).read(None):
            count += isinstance(item, Activity)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    return count, peak


def write_short_messages(path: Path, count: int) -> None:
    # Short messages keep this test fast, because tracing makes reading each
    # message about five times slower.
    template = (
        b"From a@x.example Thu Mar 05 16:40:00 2026\n"
        b"From: a@x.example\nDate: Thu, 5 Mar 2026 11:40:00 -0500\n"
        b"Message-ID: <m%d@x.example>\n\nbody\n\n"
    )
    with path.open("wb") as stream:
        stream.writelines(template % number for number in range(count))
        # One 3 MB message, which must not be held whole.
        stream.write(mbox_message(-1, body_lines=70_000))


def test_memory_stays_flat(tmp_path: Path) -> None:
    small, large = tmp_path / "small.mbox", tmp_path / "large.mbox"
    write_short_messages(small, 2_000)
    write_short_messages(large, 20_000)

    small_count, small_peak = measure_read(small)
    large_count, large_peak = measure_read(large)

    assert (small_count, large_count) == (2_001, 20_001)
    assert large.stat().st_size > 4_000_000
    assert small_peak < 1_000_000
    assert large_peak < small_peak * 1.2 + 50_000
