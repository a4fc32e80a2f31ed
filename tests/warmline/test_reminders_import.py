"""Importing referrals from CSV: sources, idempotence, patient data, bad rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.reminders.factories import World
from warmline import remind as service
from warmline.csvfile import CsvInputError
from warmline.models import Referral, ReferralSource

TODAY = dt.date(2026, 12, 4)
HEADER = "date,practice,provider,npi,address,count,referral_id\n"


@pytest.fixture
def world(sessions):
    with sessions.begin() as session:
        world = World(session)
        cedar = world.practice(
            "Cedar Internal Medicine", address="88 Cedar Bend Rd, Cedar Bend, IL 60593"
        )
        ridgeway = world.practice("Ridgeway Orthopedic Associates")
        world.provider("David Kim, MD", cedar, npi="1332724818")
        world.provider("David Kim, MD", ridgeway, npi="1648905960")
        world.provider("Maria Elena Ruiz Soto, MD", cedar)
        world.contact("Melissa Grant", cedar)
        yield world


def write(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "referrals.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def stored(world: World) -> list[tuple[str, dt.date, int, str | None]]:
    rows = world.session.execute(
        select(
            ReferralSource.name,
            Referral.received_on,
            Referral.count,
            Referral.external_ref,
        )
        .join(ReferralSource, ReferralSource.id == Referral.source_id)
        .order_by(Referral.received_on, Referral.id)
    )
    return [tuple(row) for row in rows]


def count(world: World) -> int:
    return world.session.scalar(select(func.count(Referral.id))) or 0


def test_import_resolves_sources(world, tmp_path):
    path = write(
        tmp_path,
        "2026-11-03,Cedar Internal Medicine,Maria Ruiz Soto,,,2,\n"
        "11/5/2026,,,1648905960,,,RW-1\n"
        '2026-11-06,,,,"88 Cedar Bend Road, Cedar Bend, IL 60593",,\n',
    )

    summary = service.import_referrals(world.session, world.workspace, path, TODAY)

    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    assert stored(world) == [
        ("Maria Elena Ruiz Soto, MD", dt.date(2026, 11, 3), 2, None),
        ("David Kim, MD", dt.date(2026, 11, 5), 1, "RW-1"),
        ("Cedar Internal Medicine", dt.date(2026, 11, 6), 1, None),
    ]


def test_reimport_changes_nothing_and_edits_update(world, tmp_path):
    body = "2026-11-03,Cedar Internal Medicine,,,,2,\n2026-11-04,,,1332724818,,,C-7\n"
    service.import_referrals(
        world.session, world.workspace, write(tmp_path, body), TODAY
    )

    again = service.import_referrals(
        world.session, world.workspace, write(tmp_path, body), TODAY
    )
    edited = body.replace(",2,", ",3,").replace("2026-11-04", "2026-11-05")
    changed = service.import_referrals(
        world.session, world.workspace, write(tmp_path, edited), TODAY
    )

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 0)
    assert count(world) == 2
    assert [row[1:3] for row in stored(world)] == [
        (dt.date(2026, 11, 3), 3),
        (dt.date(2026, 11, 5), 1),
    ]


def test_rows_without_id_summed_by_date_and_source(world, tmp_path):
    body = "2026-11-03,Cedar Internal Medicine,,,,,\n" * 3

    service.import_referrals(
        world.session, world.workspace, write(tmp_path, body), TODAY
    )
    service.import_referrals(
        world.session, world.workspace, write(tmp_path, body), TODAY
    )

    assert stored(world) == [("Cedar Internal Medicine", dt.date(2026, 11, 3), 3, None)]


def test_reimport_keeps_closed_loop(world, tmp_path):
    path = write(tmp_path, "2026-11-03,Cedar Internal Medicine,,,,,X-1\n")
    service.import_referrals(world.session, world.workspace, path, TODAY)
    referral = world.session.scalars(select(Referral)).one()
    closed = dt.datetime(2026, 11, 9, tzinfo=dt.UTC)
    referral.closed_at = closed

    service.import_referrals(world.session, world.workspace, path, TODAY)

    assert world.session.get_one(Referral, referral.id).closed_at == closed


@pytest.mark.parametrize(
    ("header", "column", "meaning"),
    [
        ("date,practice,Patient Name\n", "Patient Name", "a patient's details"),
        ("date,practice,DOB\n", "DOB", "a date of birth"),
        ("date,MRN,practice\n", "MRN", "a medical record number"),
        (
            "date,practice,Insurance Member ID\n",
            "Insurance Member ID",
            "insurance details",
        ),
        ("date,practice,Diagnosis\n", "Diagnosis", "a diagnosis"),
        ("date,practice,SSN\n", "SSN", "a social security number"),
    ],
)
def test_patient_columns_rejected(world, tmp_path, header, column, meaning):
    path = write(tmp_path, "2026-11-03,Cedar Internal Medicine,x\n", header=header)

    with pytest.raises(CsvInputError) as caught:
        service.import_referrals(world.session, world.workspace, path, TODAY)

    assert str(caught.value) == (
        f"{path}, line 1: column {column!r} looks like patient data ({meaning}); "
        "remove it: a referrals file carries only dates, referring sources, counts "
        "and opaque referral ids"
    )
    assert count(world) == 0


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "2026-13-01,Cedar Internal Medicine,,,,,",
            "line 3: date '2026-13-01' is not a date",
        ),
        (
            "2026-12-05,Cedar Internal Medicine,,,,,",
            "line 3: date '2026-12-05' is in the future",
        ),
        (
            "2026-11-05,Cedar Internal Medicine,,,,two,",
            "line 3: count 'two' is not a positive whole number",
        ),
        ("2026-11-05,,David Kim,,,,", "line 3: provider 'David Kim' matches 2 sources"),
        (
            "2026-11-05,,Melissa Grant,,,,",
            "line 3: provider names 'Melissa Grant', a contact",
        ),
        ("2026-11-05,,,,,,", "line 3: names no referring source"),
        (
            "2026-11-05,Nowhere Clinic,,,,,",
            "line 3: practice 'Nowhere Clinic' matches no practice",
        ),
        (
            "2026-11-05,Cedar Internal Medicine,,,,,A-1",
            "line 3: referral_id 'A-1' repeats line 2",
        ),
    ],
)
def test_bad_row_stops_import(world, tmp_path, bad_row, message):
    path = write(tmp_path, f"2026-11-03,Cedar Internal Medicine,,,,,A-1\n{bad_row}\n")

    with pytest.raises(CsvInputError, match=message) as caught:
        service.import_referrals(world.session, world.workspace, path, TODAY)

    assert str(caught.value).startswith(f"{path}, line 3: ")
    assert count(world) == 0


def test_unknown_column_rejected(world, tmp_path):
    path = write(tmp_path, "2026-11-03,x\n", header="date,colour\n")

    with pytest.raises(CsvInputError, match="line 1: unknown column 'colour'"):
        service.import_referrals(world.session, world.workspace, path, TODAY)
