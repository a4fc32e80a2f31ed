"""Match one activity against a workspace's referral sources."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence

from connectors.records import Activity, ActivityKind, Participant
from matcher import signals
from matcher.evidence import Evidence, Tally
from matcher.filters import classify, is_internal_address
from matcher.index import SourceIndex
from matcher.records import (
    DropReason,
    Link,
    MatchResult,
    MatchSettings,
    Signal,
    exclusion_key,
)


def match_activity(
    activity: Activity,
    index: SourceIndex,
    settings: MatchSettings,
    thread_links: Sequence[Link] = (),
) -> MatchResult:
    """Link an activity to the practices it involves, with reasons.

    An activity that `classify` drops is returned with that reason.
    Otherwise the thread's links are inherited first, then every external
    participant, and for meetings the title and location, add evidence.
    Phone numbers in the subject or location count for both kinds.  An
    activity with no link at or above the review threshold is returned as
    dropped with NO_MATCH.
    """
    dropped = classify(activity, settings)
    if dropped is not None:
        return MatchResult(dropped=dropped)
    tally = Tally(index)
    tally.inherit(thread_links)
    for participant in _external_participants(activity, settings):
        evidence = signals.participant_evidence(participant, index)
        keys = (exclusion_key("address", participant.address),)
        tally.add(_allowed(evidence, keys, settings))
    if activity.kind is ActivityKind.MEETING:
        _add_meeting_text(activity, index, tally, settings)
    if activity.subject:
        tally.add(signals.phone_evidence(activity.subject, "subject", index))
    links = tally.links(settings)
    if not links:
        return MatchResult(dropped=DropReason.NO_MATCH)
    return MatchResult(links=links)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one batch is matched.

    The index and the evidence caches hold hundreds of thousands of
    long-lived objects, and every full collection scans them all, which
    took a fifth of the matching time.  Matching makes almost no reference
    cycles, so a batch's garbage is freed by reference counting anyway and
    the collector catches up when the batch ends.  The switch is
    process-wide: other threads run without the collector meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _external_participants(
    activity: Activity, settings: MatchSettings
) -> Iterator[Participant]:
    """Yield each participant outside the workspace once, first role first."""
    seen: set[str] = set()
    for participant in activity.participants:
        if participant.address in seen:
            continue
        seen.add(participant.address)
        if not is_internal_address(participant.address, settings):
            yield participant


def _allowed(
    evidence: list[Evidence], keys: tuple[str, ...], settings: MatchSettings
) -> list[Evidence]:
    """Drop the evidence for practices a person rejected under one of `keys`."""
    if not settings.exclusions or not evidence:
        return evidence
    excluded = settings.exclusions
    return [
        item
        for item in evidence
        if not any((key, item.practice_id) in excluded for key in keys)
    ]


def _add_meeting_text(
    activity: Activity, index: SourceIndex, tally: Tally, settings: MatchSettings
) -> None:
    event = exclusion_key("event", activity.external_id)
    for field, text in (("title", activity.subject), ("location", activity.location)):
        if text:
            evidence = meeting_text_evidence(field, text, index)
            tally.add(_allowed(evidence, (exclusion_key(field, text), event), settings))


def meeting_text_evidence(field: str, text: str, index: SourceIndex) -> list[Evidence]:
    """Return the evidence of a meeting's "title" or "location" text."""
    compute = _title_evidence if field == "title" else _location_evidence
    return _cached(index, field, text, compute)


def _title_evidence(title: str, index: SourceIndex) -> list[Evidence]:
    return [
        *signals.practice_name_evidence(title, "title", Signal.TITLE, index),
        *signals.title_people_evidence(title, index),
    ]


def _location_evidence(location: str, index: SourceIndex) -> list[Evidence]:
    return [
        *signals.location_address_evidence(location, index),
        *signals.practice_name_evidence(location, "location", Signal.LOCATION, index),
        *signals.phone_evidence(location, "location", index),
    ]


def _cached(
    index: SourceIndex,
    field: str,
    text: str,
    compute: Callable[[str, SourceIndex], list[Evidence]],
) -> list[Evidence]:
    """Return the evidence of a meeting text, from the index's cache if there."""
    key = (field, text)
    evidence = index.cache.get(key)
    if evidence is None:
        # A tuple, which the garbage collector stops tracking.
        evidence = tuple(compute(text, index))
        index.cache.put(key, evidence)
    return evidence  # type: ignore[return-value]
