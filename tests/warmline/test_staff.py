"""Staff members, their aliases and the staff CSV import."""

from __future__ import annotations

import pytest

from warmline.staff import (
    StaffError,
    StaffInput,
    find_staff,
    import_staff,
    upsert_staff,
)
from warmline.workspaces import get_or_create_workspace, staff_addresses


def test_aliases_find_staff(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(
            session,
            workspace,
            StaffInput(
                "Sam.Ortiz@brookside-pt.example",
                "Sam Ortiz",
                ("sam@brookside-pt.example",),
            ),
        )

        found = find_staff(session, workspace, "SAM@brookside-pt.example")

        assert found.email == "sam.ortiz@brookside-pt.example"
        assert set(staff_addresses(session, workspace)) == {
            "sam.ortiz@brookside-pt.example",
            "sam@brookside-pt.example",
        }


def test_readding_replaces_aliases(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(
            session, workspace, StaffInput("amy@b.example", "Amy", ("a1@b.example",))
        )
        upsert_staff(
            session,
            workspace,
            StaffInput("amy@b.example", "Amy Chen", ("a2@b.example",)),
        )

        addresses = staff_addresses(session, workspace)

    assert set(addresses) == {"amy@b.example", "a2@b.example"}


def test_alias_of_other_staff_rejected(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput("amy@b.example", "Amy"))

        with pytest.raises(StaffError, match="'amy@b.example' already belongs to"):
            upsert_staff(
                session, workspace, StaffInput("bo@b.example", "Bo", ("amy@b.example",))
            )


def test_unknown_timezone_rejected(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")

        with pytest.raises(StaffError, match="time zone 'Mars/Olympus' is unknown"):
            upsert_staff(
                session,
                workspace,
                StaffInput("amy@b.example", "Amy", (), "Mars/Olympus"),
            )


def test_staff_csv_import(sessions, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        "Email,Name,Aliases,Time Zone\n"
        "sam.ortiz@brookside-pt.example,Sam Ortiz,sam@brookside-pt.example,America/Chicago\n"
        "amy.chen@brookside-pt.example,Amy Chen,,\n",
        encoding="utf-8",
    )
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")

        count = import_staff(session, workspace, path)

        assert count == 2
        assert find_staff(session, workspace, "sam@brookside-pt.example").timezone == (
            "America/Chicago"
        )
