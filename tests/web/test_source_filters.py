"""The Sources page and API filter on status (going cold, warm, never touched)
and on tier (referrals in the last 365 days).

In the clinic fixture, Alpha Family Medicine (cadence 14 days) and its
provider Alpha Lopez were last touched 20 days before the fake clock's
1 December 2026, so both are going cold.  Alpha Orthopedics and its
provider Alpha Weiss were never touched, and Weiss sent 2 referrals.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.web.factories import NOW
from warmline.models import Referral, Workspace
from warmline.settings import SettingError
from warmline.workspaces import set_workspace_setting


def names(page: str) -> list[str]:
    results = page.split('id="results"')[1]
    # The first cell of each row; the practice cell links to a source too.
    return re.findall(r'<tr[^>]*>\s*<td><a href="/sources/\d+">([^<]+)</a>', results)


def add_referrals(sessions, clinic, source_id: int, count: int) -> None:
    with sessions.begin() as session:
        session.add(
            Referral(
                workspace_id=clinic.workspace_id,
                source_id=source_id,
                received_on=NOW.date() - dt.timedelta(days=30),
                count=count,
            )
        )


def set_setting(sessions, clinic, name: str, value: str) -> None:
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        set_workspace_setting(session, workspace, name, value)


@pytest.fixture
def tiered(sessions, clinic):
    """Give Lopez 4 referrals (tier 2) and his practice 8 more (12, tier 1)."""
    add_referrals(sessions, clinic, clinic.person_id, 4)
    add_referrals(sessions, clinic, clinic.practice_id, 8)
    return clinic


def test_status_filters(member_client, clinic):
    cold = names(member_client.get("/sources?status=cold").text)
    never = names(member_client.get("/sources?status=never").text)
    warm = names(member_client.get("/sources?status=warm").text)

    assert cold == ["Alpha Family Medicine", "Alpha Lopez, MD"]
    assert never == ["Alpha Orthopedics", "Alpha Weiss, MD"]
    assert warm == []


def test_tier_filters(member_client, tiered):
    tier_1 = names(member_client.get("/sources?tier=1").text)
    tier_2 = names(member_client.get("/sources?tier=2").text)
    tier_3 = names(member_client.get("/sources?tier=3").text)
    none = names(member_client.get("/sources?tier=none").text)

    assert tier_1 == ["Alpha Family Medicine"]
    assert tier_2 == ["Alpha Lopez, MD"]
    assert tier_3 == ["Alpha Orthopedics", "Alpha Weiss, MD"]
    assert none == []


def test_filters_combine_with_search(member_client, tiered):
    page = member_client.get("/sources?q=weiss&tier=3&status=never").text
    empty = member_client.get("/sources?q=weiss&tier=1").text

    assert names(page) == ["Alpha Weiss, MD"]
    assert names(empty) == []
    assert 'value="3" selected' in page
    assert 'value="never" selected' in page


def test_unknown_filter_value_ignored(member_client, clinic):
    page = member_client.get("/sources?status=lukewarm&tier=9").text

    assert len(names(page)) == 4


def test_tier_setting_moves_sources(member_client, tiered, sessions):
    before = names(member_client.get("/sources?tier=1").text)

    set_setting(sessions, tiered, "tier_1_referrals", "20")
    after = names(member_client.get("/sources?tier=1").text)
    tier_2 = names(member_client.get("/sources?tier=2").text)

    assert before == ["Alpha Family Medicine"]
    assert after == []
    assert tier_2 == ["Alpha Family Medicine", "Alpha Lopez, MD"]


def test_tier_settings_must_stay_ordered(sessions, clinic):
    with pytest.raises(SettingError, match="tier_2_referrals 12 must be below"):
        set_setting(sessions, clinic, "tier_2_referrals", "12")


def test_api_reports_and_filters(member_client, tiered):
    found = member_client.get("/api/sources?tier=2").json()
    cold = member_client.get("/api/sources?status=cold&tier=1").json()

    assert [source["name"] for source in found] == ["Alpha Lopez, MD"]
    assert found[0]["tier"] == "2"
    assert found[0]["referrals_year"] == 4
    assert found[0]["status"] == "cold"
    assert [source["name"] for source in cold] == ["Alpha Family Medicine"]
    assert cold[0]["referrals_year"] == 12


def test_api_rejects_unknown_tier(member_client, clinic):
    response = member_client.get("/api/sources?tier=4")

    assert response.status_code == 422


def test_page_links_keep_filters(member_client, clinic, sessions):
    # 101 more never-touched practices make a second page.
    from warmline.models import Practice

    with sessions.begin() as session:
        for number in range(101):
            session.add(
                Practice(
                    workspace_id=clinic.workspace_id,
                    name=f"Alpha Extra {number:03d}",
                    import_key=f"practice/alpha-extra-{number:03d}",
                )
            )

    page = member_client.get("/sources?status=never&tier=none").text

    assert "status=never&amp;tier=none&page=2" in page
    assert len(names(page)) == 100
