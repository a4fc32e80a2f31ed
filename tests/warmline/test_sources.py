"""The referral-source CSV import, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from warmline.csvfile import CsvInputError
from warmline.models import ReferralSource
from warmline.sources import import_sources, source_records
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

HEADER = "type,name,practice,title,emails,domains,phones,address,npi,owner,cadence_days"
ROWS = [
    "practice,Riverside Family Medicine,,Family Medicine,,riverside-fm.example;rfm.example,"
    '(312) 555-0101,"12 River St, Suite 4, Springfield",,sam@brookside-pt.example,21',
    'provider,"Maria L. Lopez, MD",Riverside Family Medicine,Family Medicine,'
    "maria.lopez@riverside-fm.example,,312-555-0102,,1234567893,,",
    "contact,Janet Ortiz,Riverside Family Medicine,Office Manager,"
    "janet@riverside-fm.example,,,,,,",
]


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "sources.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run_import(sessions: sessionmaker[Session], path: Path):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput("sam@brookside-pt.example", "Sam"))
        return import_sources(session, workspace, path)


def count_sources(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ReferralSource)) or 0


def test_import_creates_sources(sessions, tmp_path):
    path = write_csv(tmp_path, ROWS)

    summary = run_import(sessions, path)

    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    with sessions() as session:
        workspace = get_or_create_workspace(session, "test")
        records = {record.name: record for record in source_records(session, workspace)}
    practice = records["Riverside Family Medicine"]
    provider = records["Maria L. Lopez, MD"]
    assert practice.domains == ("riverside-fm.example", "rfm.example")
    assert practice.phones == ("+13125550101",)
    assert provider.practice_id == practice.id
    assert provider.emails == ("maria.lopez@riverside-fm.example",)
    assert records["Janet Ortiz"].practice_id == practice.id


def test_reimport_changes_nothing(sessions, tmp_path):
    path = write_csv(tmp_path, ROWS)
    run_import(sessions, path)

    summary = run_import(sessions, path)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
    assert count_sources(sessions) == 3


def test_edited_file_updates_in_place(sessions, tmp_path):
    run_import(sessions, write_csv(tmp_path, ROWS))
    with sessions() as session:
        before = {s.name: s.id for s in session.scalars(select(ReferralSource))}
    edited = [ROWS[0], ROWS[1].replace("312-555-0102", "312-555-0199"), ROWS[2]]

    summary = run_import(sessions, write_csv(tmp_path, edited))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    with sessions() as session:
        provider = session.get_one(ReferralSource, before["Maria L. Lopez, MD"])
        assert provider.phones == ["+13125550199"]


def test_header_variants_accepted(sessions, tmp_path):
    header = "Type,Name,Practice,E-mail Address,Phone Number,Domain"
    rows = [
        "practice,Cedar Internal Medicine,,,312 555 0120,cedar-im.example",
        "provider,Thao Nguyen NP,Cedar Internal Medicine,thao@cedar-im.example,,",
    ]

    summary = run_import(sessions, write_csv(tmp_path, rows, header))

    assert summary.created == 2


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("clinic,Nowhere Clinic,,,,,,,,,", "type 'clinic' is unknown"),
        (
            "provider,Dr. Who,Riverside Family Medicine,,who@@riverside,,,,,,",
            "'who@@riverside' is not a valid address",
        ),
        (
            "provider,Dr. Who,Riverside Family Medicine,,,,,,1234567890,,",
            "npi '1234567890' fails its check digit",
        ),
        (
            "provider,Dr. Who,Missing Practice,,,,,,,,",
            "practice 'Missing Practice' is not in the file or the database",
        ),
        (
            "provider,Dr. Who,Riverside Family Medicine,,,,,,,nobody@brookside-pt.example,",
            "owner 'nobody@brookside-pt.example' is not a staff member",
        ),
        ("practice,Zed Clinic,,,,,,,,,0", "cadence_days '0' is not a positive"),
        ("practice,Zed Clinic,,,,not a domain,,,,,", "'not a domain' is not a domain"),
        ("practice,Zed Clinic,,,,,555,,,,", "'555' has the wrong number of digits"),
        (
            "contact,Pat Doe,Riverside Family Medicine,,janet@riverside-fm.example,,,,,,",
            "'janet@riverside-fm.example' is already given on line 4",
        ),
    ],
)
def test_bad_row_rejected_whole_file(sessions, tmp_path, row, expected):
    path = write_csv(tmp_path, [*ROWS, row])

    with pytest.raises(CsvInputError) as raised:
        run_import(sessions, path)

    message = str(raised.value)
    assert str(path) in message
    assert "line 5" in message
    assert expected in message
    assert count_sources(sessions) == 0


def test_unknown_column_named(sessions, tmp_path):
    path = write_csv(tmp_path, ROWS, HEADER + ",specialty_code")

    with pytest.raises(CsvInputError, match="unknown column 'specialty_code'"):
        run_import(sessions, path)
