"""Charts drawn as inline SVG: their geometry, and the two pages that show one."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from warmline.models import Referral
from web.charts import PLOT_HEIGHT, TOP, Series, nice_maximum, stacked_bars, tick_values
from web.services.sources import month_starts


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (180, 200), (201, 500)],
)
def test_nice_maximum(value, expected):
    assert nice_maximum(value) == expected


def test_tick_values_are_whole():
    assert tick_values(20) == [0, 5, 10, 15, 20]
    assert tick_values(5) == [0, 1, 2, 3, 4, 5]
    assert tick_values(1) == [0, 1]


def test_stacked_bars_geometry():
    chart = stacked_bars(
        "c",
        "Title",
        "Description.",
        ["one", "two", "three"],
        [Series("a", [2, 0, 1]), Series("b", [3, 0, 0])],
    )

    bottom = TOP + PLOT_HEIGHT
    assert chart.totals == [5, 0, 1]
    assert chart.grand_total == 6
    assert [tick.value for tick in chart.ticks] == [0, 1, 2, 3, 4, 5]
    assert [(s.series, s.category, s.value) for s in chart.segments] == [
        ("a", "one", 2),
        ("b", "one", 3),
        ("a", "three", 1),
    ]
    first, second, third = chart.segments
    assert first.y + first.height == pytest.approx(bottom)
    assert second.y + second.height == pytest.approx(first.y)
    assert second.y == pytest.approx(TOP)
    assert third.height == pytest.approx(PLOT_HEIGHT / 5)
    assert first.css_class == "series-0"
    assert second.css_class == "series-1"


def test_stacked_bars_rejects_short_series():
    with pytest.raises(ValueError, match="series 'a' has 1 values for 2 categories"):
        stacked_bars("c", "T", "D", ["x", "y"], [Series("a", [1])])


def test_month_starts_cross_year():
    starts = month_starts(dt.date(2026, 2, 17), 3)

    assert starts == [dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]


def test_today_chart_twelve_weeks(admin_client, clinic):
    page = admin_client.get("/")

    figure = page.text.split('<figure class="chart" id="weekly-chart">')[1]
    figure = figure.split("</figure>")[0]
    assert '<title id="weekly-chart-title">Touchpoints per week by staff member' in (
        figure
    )
    assert 'aria-labelledby="weekly-chart-title weekly-chart-desc"' in figure
    assert "<desc id=" in figure
    table = figure.split("<tbody>")[1]
    weeks = re.findall(r'<th scope="row">Week of ([0-9-]+)</th>', table)
    assert len(weeks) == 12
    assert weeks[0] == "2026-09-14"
    assert weeks[-1] == "2026-11-30"
    assert '<th scope="col" class="num">Alpha Admin</th>' in figure
    assert "<script" not in figure
    legend = figure.split('<ul class="legend">')[1].split("</ul>")[0]
    assert "Alpha Admin" in legend


@pytest.fixture
def referrals(sessions, clinic, other_clinic):
    """Referrals of Alpha's practice and its provider, and one of Beta's."""
    rows = [
        (clinic, clinic.practice_id, dt.date(2026, 11, 3), 2),
        (clinic, clinic.practice_id, dt.date(2026, 11, 20), 1),
        (clinic, clinic.person_id, dt.date(2026, 11, 21), 4),
        (clinic, clinic.person_id, dt.date(2026, 1, 5), 1),
        # Before the 12 months shown, so left out.
        (clinic, clinic.practice_id, dt.date(2025, 12, 31), 9),
        (other_clinic, other_clinic.practice_id, dt.date(2026, 11, 3), 5),
    ]
    with sessions.begin() as session:
        for owner, source_id, received_on, count in rows:
            session.add(
                Referral(
                    workspace_id=owner.workspace_id,
                    source_id=source_id,
                    received_on=received_on,
                    count=count,
                )
            )


def month_cells(page_text: str) -> dict[str, int]:
    table = page_text.split('id="referrals-chart"')[1].split("</tbody>")[0]
    cells = re.findall(
        r'<th scope="row">([A-Za-z]+ \d{4})</th>\s*<td class="num">(\d+)</td>', table
    )
    return {month: int(count) for month, count in cells}


def test_practice_referrals_per_month(admin_client, clinic, referrals):
    page = admin_client.get(f"/sources/{clinic.practice_id}")

    counts = month_cells(page.text)
    assert list(counts)[0] == "January 2026"
    assert list(counts)[-1] == "December 2026"
    assert len(counts) == 12
    assert counts["November 2026"] == 7
    assert counts["January 2026"] == 1
    assert sum(counts.values()) == 8
    assert "Referrals per month from Alpha Family Medicine" in page.text
    assert "Includes the referrals of the practice" in page.text
    assert '<ul class="legend">' not in page.text.split('id="referrals-chart"')[1]


def test_person_referrals_only_own(admin_client, clinic, referrals):
    page = admin_client.get(f"/sources/{clinic.person_id}")

    counts = month_cells(page.text)
    assert counts["November 2026"] == 4
    assert sum(counts.values()) == 5


def test_referrals_chart_empty(admin_client, clinic):
    page = admin_client.get(f"/sources/{clinic.practice_id}")

    assert 'id="referrals-empty"' in page.text
    assert 'id="referrals-chart"' not in page.text
