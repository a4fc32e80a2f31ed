"""Evidence for practices, and how it combines into scored links."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from matcher import weights
from matcher.index import SourceIndex
from matcher.records import Link, MatchSettings, Reason, Signal, SourceKind, Status


class Evidence(NamedTuple):
    """One signal pointing at one practice, and maybe at one person there.

    A named tuple rather than a dataclass, because matching makes one or
    more per participant and a tuple is the cheapest record to create.
    """

    practice_id: int
    signal: Signal
    score: float
    detail: str
    person_id: int | None = None
    observed: str = ""
    known: str = ""


def spread_over_practices(score: float, practice_count: int) -> float | None:
    """Return the score each of several equally likely practices gets.

    Returns None when the evidence fits too many practices to tell them
    apart.  One practice keeps the whole score.
    """
    if practice_count <= 1:
        return score
    if practice_count > weights.MAX_AMBIGUOUS_PRACTICES:
        return None
    return min(score * weights.AMBIGUOUS_FACTOR, weights.AMBIGUOUS_CAP)


class _PracticeTally:
    """The evidence of one activity for one practice, collected so far."""

    __slots__ = (
        "inherited",
        "inherited_confirmed",
        "inherited_person_id",
        "inherited_also",
        "inherited_signals",
        "best_by_signal",
        "reasons",
        "people",
    )

    def __init__(self) -> None:
        self.inherited = 0.0
        self.inherited_confirmed = False
        self.inherited_person_id: int | None = None
        self.inherited_also: tuple[int, ...] = ()
        self.inherited_signals: set[Signal] = set()
        self.best_by_signal: dict[Signal, float] = {}
        self.reasons: dict[tuple[Signal, str], Reason] = {}
        self.people: dict[int, float] = {}


class Tally:
    """Collects evidence per practice and turns it into links.

    Within one signal kind only the strongest score counts, so ten
    recipients at one domain weigh no more than one.  Across kinds, scores
    combine as 1 - product(1 - score).  A confidence inherited from the
    thread counts as one more score of each signal kind behind the thread
    link.  So a reply that repeats the same kind of evidence (a name alone,
    again) adds nothing, while a new kind (a practice domain) adds to it.
    """

    def __init__(self, index: SourceIndex) -> None:
        self._index = index
        self._practices: dict[int, _PracticeTally] = {}

    def inherit(self, thread_links: Sequence[Link]) -> None:
        """Start from the links of earlier messages in the thread.

        Each practice keeps the highest confidence among its thread links,
        with those links' reasons (earlier thread reasons are not repeated).
        Rejected links, and links to practices no longer in the index, are
        not inherited.
        """
        for link in thread_links:
            if link.status is Status.REJECTED or link.practice_id not in self._index:
                continue
            tally = self._tally(link.practice_id)
            for reason in link.reasons:
                if reason.signal is not Signal.THREAD:
                    tally.reasons.setdefault((reason.signal, reason.detail), reason)
                    tally.inherited_signals.add(reason.signal)
            if link.confidence < tally.inherited:
                continue
            tally.inherited = link.confidence
            tally.inherited_confirmed = link.status is Status.CONFIRMED
            tally.inherited_person_id = link.person_id
            tally.inherited_also = link.also_person_ids
            name = self._index.get(link.practice_id).name
            detail = f"reply in a thread already linked to {name}"
            tally.reasons[(Signal.THREAD, "")] = Reason(
                Signal.THREAD, detail, link.confidence, "", name
            )

    def add(self, evidence: Iterable[Evidence]) -> None:
        for item in evidence:
            tally = self._tally(item.practice_id)
            if item.score > tally.best_by_signal.get(item.signal, 0.0):
                tally.best_by_signal[item.signal] = item.score
            key = (item.signal, item.detail)
            known = tally.reasons.get(key)
            if known is None or known.score < item.score:
                tally.reasons[key] = Reason(
                    item.signal,
                    item.detail,
                    round(item.score, 4),
                    item.observed,
                    item.known,
                )
            if item.person_id is not None:
                if item.score > tally.people.get(item.person_id, 0.0):
                    tally.people[item.person_id] = item.score

    def links(self, settings: MatchSettings) -> tuple[Link, ...]:
        """Return a link for each practice at or above the review threshold.

        Links are sorted by confidence, highest first, then by practice id.
        """
        links: list[Link] = []
        for practice_id, tally in self._practices.items():
            link = self._link(practice_id, tally, settings)
            if link is not None:
                links.append(link)
        links.sort(key=lambda link: (-link.confidence, link.practice_id))
        return tuple(links)

    def _tally(self, practice_id: int) -> _PracticeTally:
        tally = self._practices.get(practice_id)
        if tally is None:
            tally = self._practices[practice_id] = _PracticeTally()
        return tally

    def _link(
        self, practice_id: int, tally: _PracticeTally, settings: MatchSettings
    ) -> Link | None:
        inherited = tally.inherited
        new_scores = []
        for signal, score in tally.best_by_signal.items():
            if signal in tally.inherited_signals:
                inherited = max(inherited, score)
            else:
                new_scores.append(score)
        doubt = (1.0 - inherited) * math.prod(1.0 - score for score in new_scores)
        confidence = round(1.0 - doubt, 4)
        if confidence >= settings.confirm_threshold or tally.inherited_confirmed:
            # A thread link a person confirmed stays confirmed in replies.
            status = Status.CONFIRMED
        elif confidence >= settings.review_threshold:
            status = Status.NEEDS_REVIEW
        else:
            return None
        reasons = sorted(tally.reasons.values(), key=lambda reason: -reason.score)
        person_id, also = self._people(practice_id, tally)
        return Link(practice_id, confidence, status, tuple(reasons), person_id, also)

    def _people(
        self, practice_id: int, tally: _PracticeTally
    ) -> tuple[int | None, tuple[int, ...]]:
        """Pick the best-matched person and list the others to keep.

        A contact (office manager, coordinator) is matched on behalf of the
        practice's providers, so they are added to the others.
        """
        if not tally.people:
            return tally.inherited_person_id, tally.inherited_also
        ranked = sorted(tally.people, key=lambda person_id: -tally.people[person_id])
        person_id, others = ranked[0], ranked[1:]
        if self._index.get(person_id).kind is SourceKind.CONTACT:
            providers = self._index.providers_at(practice_id)
            others.extend(p.id for p in providers if p.id not in tally.people)
        return person_id, tuple(others)
