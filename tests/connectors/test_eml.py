"""EmlFolderReader: every .eml file under a folder, resumable."""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pytest

from connectors.errors import SourceUnavailable
from connectors.files.eml import EmlFolderReader
from connectors.records import Activity, Item, Quarantined

DATA = Path(__file__).parent.parent / "data" / "mail"


def eml(number: int) -> bytes:
    return (
        f"From: Ana Diaz <ana@lakeside-fm.example>\r\n"
        f"To: sam.ortiz@brookside-pt.example\r\n"
        f"Date: Thu, 5 Mar 2026 11:40:00 -0500\r\n"
        f"Message-ID: <e{number}@lakeside-fm.example>\r\n"
        f"Subject: Referral {number}\r\n\r\nbody\r\n"
    ).encode()


def read_all(reader: EmlFolderReader, cursor: str | None = None) -> list[Item]:
    return list(reader.read(cursor))


def keys(items: Sequence[Item]) -> list[str]:
    return [item.provider_key for item in items]


def settled_reader(path: Path) -> EmlFolderReader:
    # Files written by a test are at most seconds old, so these tests turn
    # the settling delay off.  test_recent_files_are_read_again covers it.
    return EmlFolderReader(path, settle_seconds=0)


def test_reads_folder_recursively(tmp_path: Path) -> None:
    (tmp_path / "2026" / "03").mkdir(parents=True)
    (tmp_path / "a.eml").write_bytes(eml(1))
    (tmp_path / "2026" / "b.EML").write_bytes(eml(2))
    (tmp_path / "2026" / "03" / "c.eml").write_bytes(eml(3))
    (tmp_path / "notes.txt").write_bytes(eml(4))
    (tmp_path / "outlook.msg").write_bytes(b"\xd0\xcf\x11\xe0 not read")

    items = read_all(settled_reader(tmp_path))

    assert sorted(keys(items)) == [f"e{n}@lakeside-fm.example" for n in (1, 2, 3)]
    assert all(isinstance(item, Activity) for item in items)


def test_order_is_change_time_then_path(tmp_path: Path) -> None:
    for name, number in (("b.eml", 1), ("a.eml", 2), ("c.eml", 3)):
        (tmp_path / name).write_bytes(eml(number))
    changed = {
        path.name: max(path.stat().st_mtime_ns, path.stat().st_ctime_ns)
        for path in tmp_path.iterdir()
    }
    expected = sorted(changed, key=lambda name: (changed[name], name))

    first = read_all(settled_reader(tmp_path))
    second = read_all(settled_reader(tmp_path))

    names = {"e1@lakeside-fm.example": "b.eml", "e2@lakeside-fm.example": "a.eml"}
    names["e3@lakeside-fm.example"] = "c.eml"
    assert [names[key] for key in keys(first)] == expected
    assert keys(second) == keys(first)


def test_resume_reads_only_new_files(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(eml(1))
    first = settled_reader(tmp_path)
    read_all(first)
    time.sleep(0.05)  # past the file system's clock granularity
    (tmp_path / "a-later.eml").write_bytes(eml(2))
    (tmp_path / "z-later.eml").write_bytes(eml(3))

    second = settled_reader(tmp_path)
    items = read_all(second, first.final_cursor)
    third = read_all(settled_reader(tmp_path), second.final_cursor)

    assert sorted(keys(items)) == ["e2@lakeside-fm.example", "e3@lakeside-fm.example"]
    assert third == []


def test_file_with_old_mtime_added_later_is_read(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(eml(1))
    first = settled_reader(tmp_path)
    read_all(first)
    time.sleep(0.05)
    unpacked = tmp_path / "unpacked.eml"
    unpacked.write_bytes(eml(2))
    os.utime(unpacked, (978_307_200, 978_307_200))  # 1 January 2001

    items = read_all(settled_reader(tmp_path), first.final_cursor)

    assert keys(items) == ["e2@lakeside-fm.example"]


def test_recent_files_are_read_again(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(eml(1))
    reader = EmlFolderReader(tmp_path)

    first = read_all(reader)
    again = read_all(EmlFolderReader(tmp_path), reader.final_cursor)

    assert keys(first) == keys(again) == ["e1@lakeside-fm.example"]
    assert first[0].position is None
    assert reader.final_cursor is None


def test_positions_cover_files_in_order(tmp_path: Path) -> None:
    for number in range(4):
        (tmp_path / f"{number}.eml").write_bytes(eml(number))
    items = read_all(settled_reader(tmp_path))

    resumed = read_all(settled_reader(tmp_path), items[1].position)

    assert keys(resumed) == keys(items[2:])
    watermark = json.loads(items[1].position or "")
    assert set(watermark) == {"changed_ns", "path"}


def test_unreadable_files_are_quarantined(tmp_path: Path) -> None:
    (tmp_path / "good.eml").write_bytes(eml(1))
    (tmp_path / "garbage.eml").write_bytes(b"\x00\x01 not a message\n\n")
    (tmp_path / "dangling.eml").symlink_to(tmp_path / "gone.eml")

    items = read_all(settled_reader(tmp_path))

    activities = [item for item in items if isinstance(item, Activity)]
    reasons = sorted(item.reason for item in items if isinstance(item, Quarantined))
    assert keys(activities) == ["e1@lakeside-fm.example"]
    assert len(reasons) == 2
    assert reasons[0] == "cannot read dangling.eml: No such file or directory"
    assert reasons[1].startswith("garbage.eml: no valid address")
    assert "dangling.eml" in keys(items)


def test_missing_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="missing"):
        read_all(EmlFolderReader(tmp_path / "missing"))


def test_only_header_block_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.eml"
    big.write_bytes(eml(1) + b"A" * 76 * 8 + b"\r\n" + (b"B" * 76 + b"\r\n") * 60_000)
    tracemalloc.start()

    (item,) = read_all(settled_reader(tmp_path))

    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert isinstance(item, Activity)
    assert peak < 500_000


def test_progress_counts_files(tmp_path: Path) -> None:
    for number in range(3):
        (tmp_path / f"{number}.eml").write_bytes(eml(number))
    calls: list[tuple[int, int | None]] = []

    list(
        settled_reader(tmp_path).read(
            None, lambda done, total: calls.append((done, total))
        )
    )

    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_real_files_folder(tmp_path: Path) -> None:
    for path in DATA.glob("*.eml"):
        shutil.copyfile(path, tmp_path / path.name)

    items = read_all(settled_reader(tmp_path))

    quarantined = [item for item in items if isinstance(item, Quarantined)]
    # Two copied files have no Date header and no Received header either.
    assert sorted(item.reason.split(":", 1)[0] for item in quarantined) == [
        "flanker__encoded-header.eml",
        "mail-rb__rfc6532_utf8_headers.eml",
    ]
    assert len(items) == 12


def test_invalid_cursor_reads_everything(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(eml(1))

    items = read_all(settled_reader(tmp_path), "{not json")

    assert keys(items) == ["e1@lakeside-fm.example"]
