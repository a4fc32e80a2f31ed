"""The server-rendered pages: Today, Sources, a source's page and Accounts."""

from __future__ import annotations

import datetime as dt
import re

from tests.web.factories import NOW, _email, _touchpoint
from warmline.models import (
    Account,
    ReferralSource,
    StaffMember,
    TouchpointStatus,
    Workspace,
)
from web.pages.sources import TIMELINE_SIZE


def test_today_lists_cold_and_reviews(admin_client, clinic):
    page = admin_client.get("/")

    assert page.status_code == 200
    cold = page.text.split('id="cold"')[1].split("</table>")[0]
    assert "Alpha Orthopedics" in cold
    assert "never" in cold
    assert re.search(r'id="review-total">2<', page.text)
    assert "Subject" not in page.text.split('id="review-heading"')[0]


def test_today_chart_counts_confirmed(admin_client, clinic):
    page = admin_client.get("/")

    chart = page.text.split('id="weekly-chart"')[1].split("</table>")[0]
    assert "Alpha Admin" in chart
    assert "<title>Alpha Admin, Week of 2026-11-09: 1</title>" in chart
    assert "<rect" in chart


def test_sources_search_and_filters(admin_client, clinic):
    everything = admin_client.get("/sources")
    by_text = admin_client.get("/sources", params={"q": "lopez@alpha"})
    by_type = admin_client.get("/sources", params={"type": "practice"})
    by_owner = admin_client.get("/sources", params={"owner": str(clinic.staff_id)})
    wildcard = admin_client.get("/sources", params={"q": "%"})

    assert everything.text.count('href="/sources/') >= 4
    assert "Alpha Lopez, MD" in by_text.text
    assert "Alpha Weiss" not in by_text.text
    assert "Alpha Weiss" not in by_type.text
    assert "Alpha Orthopedics" in by_type.text
    assert "Alpha Orthopedics" not in by_owner.text
    assert "No source matches." in wildcard.text


def test_source_page_shows_timeline(admin_client, clinic):
    page = admin_client.get(f"/sources/{clinic.practice_id}")

    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1]
    assert timeline.count('class="touchpoint"') == 3
    assert "sender at Alpha Family Medicine" in timeline
    assert "every 14 days" in page.text
    assert "20 days ago" in page.text
    assert "going cold" in page.text
    people = page.text.split('id="people"')[1].split("</table>")[0]
    assert "Alpha Lopez, MD" in people


def test_person_page_lists_colleagues(admin_client, clinic):
    page = admin_client.get(f"/sources/{clinic.person_id}")

    assert page.status_code == 200
    assert "Colleagues at Alpha Family Medicine" in page.text
    assert page.text.split('id="timeline"')[1].count('class="touchpoint"') == 3


def test_missing_source_is_404(admin_client):
    page = admin_client.get("/sources/999999")

    assert page.status_code == 404
    assert "No source with that id" in page.text


def test_out_of_range_id_is_422(admin_client):
    page = admin_client.get("/sources/99999999999999999999")

    assert page.status_code == 422
    assert "Invalid value for: source_id" in page.text


def test_accounts_page_counts(admin_client, clinic):
    page = admin_client.get("/accounts")

    row = page.text.split('id="accounts"')[1].split("</tbody>")[0]
    assert "/data/alpha.mbox" in row
    assert "The last sync failed" in row
    assert "Alpha mailbox file is missing" in row
    assert "5 hours" in row
    cells = re.findall(r'<td class="num">(\d+)</td>', row)
    assert cells == ["4", "3", "1"]
    assert "bulk: 1" in row


def test_pages_use_no_inline_script(admin_client, clinic):
    for path in (
        "/",
        "/sources",
        f"/sources/{clinic.practice_id}",
        "/review",
        "/accounts",
        "/imports",
    ):
        page = admin_client.get(path)

        assert page.status_code == 200, path
        assert "<script>" not in page.text, path
        assert " style=" not in page.text, path
        assert " onclick=" not in page.text, path


def test_source_timeline_pages_newest_first(admin_client, clinic, sessions):
    add_touchpoints(sessions, clinic, TIMELINE_SIZE + 5)
    total = TIMELINE_SIZE + 5 + 3

    first = admin_client.get(f"/sources/{clinic.practice_id}")
    second = admin_client.get(f"/sources/{clinic.practice_id}?page=2")
    beyond = admin_client.get(f"/sources/{clinic.practice_id}?page=9")

    first_items = timeline_subjects(first.text)
    second_items = timeline_subjects(second.text)
    assert len(first_items) == TIMELINE_SIZE
    assert len(second_items) == total - TIMELINE_SIZE
    assert first_items[0] == "Subject of paged-54"
    assert not set(first_items) & set(second_items)
    assert 'href="?page=2#timeline-heading">Older' in first.text
    assert "Newer" not in first.text
    assert 'href="?page=1#timeline-heading">Newer' in second.text
    assert "Older" not in second.text
    assert "No older touchpoints" in beyond.text


def timeline_subjects(html: str) -> list[str]:
    if 'id="timeline"' not in html:
        return []
    timeline = html.split('id="timeline"')[1].split("</ol>")[0]
    return re.findall(r"<p>(Subject of [^<]+)</p>", timeline)


def add_touchpoints(sessions, clinic, count: int) -> None:
    """Add `count` confirmed emails from the clinic's practice, a day apart."""
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        staff = session.get_one(StaffMember, clinic.staff_id)
        account = session.get_one(Account, clinic.account_id)
        practice = session.get_one(ReferralSource, clinic.practice_id)
        person = session.get_one(ReferralSource, clinic.person_id)
        for number in range(count):
            when = NOW - dt.timedelta(days=count - number, hours=1)
            activity = _email(
                session,
                workspace,
                staff,
                account,
                f"paged-{number}",
                when,
                "front@alpha-fm.example",
            )
            _touchpoint(
                session,
                workspace,
                activity,
                practice,
                person,
                TouchpointStatus.CONFIRMED,
                0.9,
            )
