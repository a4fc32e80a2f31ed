"""Exclusions a person's rejection left: the matcher stops proposing the pair."""

from __future__ import annotations

import dataclasses

from matcher import exclusion_key, match_activity
from tests.matcher import workspace as ws
from tests.matcher.factories import (
    SETTINGS,
    inbound,
    linked_practices,
    meeting,
    organizer,
)


def excluding(*pairs: tuple[str, int]):
    return dataclasses.replace(SETTINGS, exclusions=frozenset(pairs))


def test_excluded_address_links_to_no_practice_it_names() -> None:
    activity = inbound("thao.nguyen@cedar-im.example", "Thao Nguyen")
    assert linked_practices(match_activity(activity, ws.index(), SETTINGS)) == [
        ws.CEDAR
    ]

    pair = (exclusion_key("address", "Thao.Nguyen@cedar-im.example"), ws.CEDAR)
    result = match_activity(activity, ws.index(), excluding(pair))

    assert result.links == ()


def test_exclusion_of_one_practice_leaves_others() -> None:
    activity = inbound("thao.nguyen@cedar-im.example", "Thao Nguyen")
    other = (exclusion_key("address", "thao.nguyen@cedar-im.example"), ws.RIVERSIDE)

    result = match_activity(activity, ws.index(), excluding(other))

    assert linked_practices(result) == [ws.CEDAR]


def test_excluded_title_and_event() -> None:
    title = "Drop off brochures - Lakeside Ortho"
    activity = meeting(organizer(), subject=title)
    assert linked_practices(match_activity(activity, ws.index(), SETTINGS)) == [
        ws.LAKESIDE_ORTHO
    ]

    by_title = (exclusion_key("title", "drop off  BROCHURES - lakeside ortho"),)
    by_event = (exclusion_key("event", activity.external_id),)
    for key in (by_title, by_event):
        settings = excluding((key[0], ws.LAKESIDE_ORTHO))
        assert match_activity(activity, ws.index(), settings).links == ()
