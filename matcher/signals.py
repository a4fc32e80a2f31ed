"""Signals read off one activity: each returns evidence for practices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from connectors.records import Participant, ParticipantRole
from matcher import weights
from matcher.evidence import Evidence, spread_over_practices
from matcher.freemail import is_free_mail_domain
from matcher.index import DomainMatch, PersonMatch, SourceIndex
from matcher.names import (
    PersonName,
    given_names_related,
    parse_local_part,
    parse_person_name,
)
from matcher.phones import find_phone_numbers
from matcher.records import Signal, SourceKind, SourceRecord
from matcher.text import domain_of, words

_ROLE_WORDS = {
    ParticipantRole.FROM: "from",
    ParticipantRole.SENDER: "sender",
    ParticipantRole.REPLY_TO: "reply-to",
    ParticipantRole.TO: "to",
    ParticipantRole.CC: "cc",
    ParticipantRole.BCC: "bcc",
    ParticipantRole.ORGANIZER: "organizer",
    ParticipantRole.ATTENDEE: "attendee",
}

# Two people whose similarity differs by less than this are a tie.
_TIE = 0.02


def participant_evidence(
    participant: Participant, index: SourceIndex
) -> list[Evidence]:
    """Return the evidence one external participant gives.

    The first of these that applies decides: an address listed on sources,
    a practice's domain (with the display name picking the person there),
    or else the display name alone.  Results are kept in the index's cache,
    keyed on every participant field the result depends on.
    """
    # Keys and values hold only strings, numbers and tuples of them, so the
    # garbage collector stops tracking them and full collections stay short
    # however large the cache grows.
    key = (
        "participant",
        participant.address,
        participant.role.value,
        participant.name,
        participant.name_from_comment,
    )
    cached = index.cache.get(key)
    if cached is None:
        cached = tuple(_participant_evidence(participant, index))
        index.cache.put(key, cached)
    return cached  # type: ignore[return-value]


def _participant_evidence(
    participant: Participant, index: SourceIndex
) -> list[Evidence]:
    sources = index.sources_with_address(participant.address)
    if sources:
        return _address_evidence(participant, sources, index)
    domain = domain_of(participant.address)
    if domain and not is_free_mail_domain(domain):
        found = index.practices_with_domain(domain)
        if found is not None:
            return _domain_evidence(participant, found, index)
    return _name_only_evidence(participant, index)


def _address_evidence(
    participant: Participant, sources: Sequence[SourceRecord], index: SourceIndex
) -> list[Evidence]:
    if len(sources) == 1:
        # The common case, without grouping.
        by_practice = {index.practice_of(sources[0]).id: [sources[0]]}
    else:
        by_practice = defaultdict(list)
        for source in sources:
            by_practice[index.practice_of(source).id].append(source)
    score = spread_over_practices(weights.ADDRESS, len(by_practice))
    if score is None:
        return []
    role = _ROLE_WORDS[participant.role]
    shared = _shared_note(len(by_practice))
    evidence: list[Evidence] = []
    for practice_id, listed in by_practice.items():
        # Prefer the person when both a person and the practice list it.
        source = listed[0]
        if len(listed) > 1:
            source = min(listed, key=lambda s: s.kind is SourceKind.PRACTICE)
        person_id = None if source.kind is SourceKind.PRACTICE else source.id
        detail = f"{role} {participant.address} is {source.name}{shared}"
        evidence.append(
            Evidence(
                practice_id,
                Signal.ADDRESS,
                score,
                detail,
                person_id,
                participant.address,
                participant.address,
            )
        )
    return evidence


def _domain_evidence(
    participant: Participant, found: DomainMatch, index: SourceIndex
) -> list[Evidence]:
    practices = found.practices
    name_evidence = _name_at_domain_evidence(participant, practices, index)
    named_practices = {item.practice_id for item in name_evidence}
    if named_practices:
        # The person decides between practices sharing the domain.
        practices = tuple(p for p in practices if p.id in named_practices)
    score = spread_over_practices(weights.DOMAIN, len(practices))
    if score is None:
        return name_evidence
    role = _ROLE_WORDS[participant.role]
    where = found.domain
    if domain_of(participant.address) != found.domain:
        where = f"a subdomain of {found.domain}"
    shared = _shared_note(len(practices))
    evidence = [
        Evidence(
            practice.id,
            Signal.DOMAIN,
            score,
            f"{role} {participant.address} is at {where}, the domain of "
            f"{practice.name}{shared}",
            None,
            domain_of(participant.address),
            found.domain,
        )
        for practice in practices
    ]
    return evidence + name_evidence


def _name_at_domain_evidence(
    participant: Participant, practices: Sequence[SourceRecord], index: SourceIndex
) -> list[Evidence]:
    practice_ids = tuple(practice.id for practice in practices)
    if not index.has_people(practice_ids):
        return []
    name, weak, matches = _people_named(
        participant, index, weights.NAME_MIN_SIMILARITY, practice_ids
    )
    if name is None:
        return []
    best = _best_unique(matches)
    if best is None:
        return []
    score = weights.NAME_AT_DOMAIN * best.similarity
    if weak:
        score *= weights.WEAK_NAME_FACTOR
    practice = index.practice_of(best.person)
    detail = (
        f"{_ROLE_WORDS[participant.role]} name {_quoted_name(name, weak)} "
        f"matches {best.person.name} at {practice.name}"
    )
    observed = participant.name or participant.address
    return [
        Evidence(
            practice.id,
            Signal.NAME,
            score,
            detail,
            best.person.id,
            observed,
            best.person.name,
        )
    ]


def _name_only_evidence(participant: Participant, index: SourceIndex) -> list[Evidence]:
    """Match a display name against everyone, for unknown or consumer domains."""
    name, weak, matches = _people_named(
        participant, index, weights.NAME_ONLY_MIN_SIMILARITY, None
    )
    if name is None or not name.first or not matches:
        return []
    tied = [m for m in matches if matches[0].similarity - m.similarity < _TIE]
    practice_count = len({index.practice_of(m.person).id for m in tied})
    evidence: list[Evidence] = []
    for match in tied:
        score = spread_over_practices(
            _name_only_score(name, match, weak), practice_count
        )
        if score is None:
            return []
        detail = (
            f"{_ROLE_WORDS[participant.role]} {_quoted_name(name, weak)} "
            f"<{participant.address}> matches {match.person.name} by name only"
            f"{_shared_note(practice_count)}"
        )
        practice_id = index.practice_of(match.person).id
        evidence.append(
            Evidence(
                practice_id,
                Signal.NAME,
                score,
                detail,
                match.person.id,
                participant.name or participant.address,
                match.person.name,
            )
        )
    return evidence


def _name_only_score(name: PersonName, match: PersonMatch, weak: bool) -> float:
    span = 1.0 - weights.NAME_ONLY_MIN_SIMILARITY
    position = (match.similarity - weights.NAME_ONLY_MIN_SIMILARITY) / span
    score = weights.NAME_ONLY_MIN + position * (
        weights.NAME_ONLY_MAX - weights.NAME_ONLY_MIN
    )
    if name.is_clinician and match.person.kind is SourceKind.PROVIDER:
        score += weights.NAME_ONLY_CLINICIAN_BONUS
    if weak:
        score *= weights.WEAK_NAME_FACTOR
    return min(score, weights.NAME_ONLY_CAP)


def _people_named(
    participant: Participant,
    index: SourceIndex,
    min_similarity: float,
    practice_ids: tuple[int, ...] | None,
) -> tuple[PersonName | None, bool, tuple[PersonMatch, ...]]:
    """Return the participant's name, whether it is weak, and who it matches.

    The result depends on the name (or the local part, when there is no
    name) but not on the address, so it is cached on those alone: one
    person writing from several addresses is compared once.
    """
    text = participant.name or participant.address.rpartition("@")[0]
    key = (
        "people named",
        text,
        participant.name is None or participant.name_from_comment,
        min_similarity,
        practice_ids,
    )
    cached = index.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    name: PersonName | None = None
    weak = True
    matches: tuple[PersonMatch, ...] = ()
    # Across the index, a name whose words share no surname key with anyone
    # is not parsed.  At a practice's domain people_named filters by the
    # same keys after parsing, which costs less than a second pass here.
    if practice_ids is not None or index.may_name_someone(text):
        name, weak = _participant_name(participant)
        if name is not None:
            found = index.people_named(name, min_similarity, practice_ids)
            matches = tuple(found)
    result = (name, weak, matches)
    index.cache.put(key, result)
    return result


def _participant_name(participant: Participant) -> tuple[PersonName | None, bool]:
    """Return the participant's parsed name and whether it is a weak one.

    A name from a comment, or one read off a dotted local part when there
    is no display name, is weak.
    """
    if participant.name:
        return parse_person_name(participant.name), participant.name_from_comment
    return parse_local_part(participant.address), True


def _best_unique(matches: Sequence[PersonMatch]) -> PersonMatch | None:
    """Return the best match unless another person ties with it."""
    if not matches:
        return None
    if len(matches) > 1 and matches[0].similarity - matches[1].similarity < _TIE:
        return None
    return matches[0]


def _quoted_name(name: PersonName, weak: bool) -> str:
    return f"{name.raw!r} (weak)" if weak else repr(name.raw)


def _shared_note(practice_count: int) -> str:
    return f" (one of {practice_count} practices)" if practice_count > 1 else ""


# -- meeting titles, locations and phone numbers ----------------------------


def practice_name_evidence(
    text: str, field: str, signal: Signal, index: SourceIndex
) -> list[Evidence]:
    """Return evidence for the practices whose names a text contains.

    A text that names one practice much better than any other, with most
    of its name, confirms it alone.  Other mentions go to review.
    """
    mentions = index.practices_named_in(text, weights.TEXT_MIN_COVERAGE)
    if not mentions:
        return []
    top = mentions[0].coverage
    leaders = [m for m in mentions if top - m.coverage < weights.TEXT_TIE]
    evidence: list[Evidence] = []
    for mention in mentions:
        score = weights.TEXT_NAMES_PRACTICE * mention.coverage**2
        if len(leaders) == 1 and mention is leaders[0]:
            if mention.coverage >= weights.TEXT_ONE_PRACTICE_MIN_COVERAGE:
                score = weights.TEXT_NAMES_ONE_PRACTICE
        detail = f"{field} {text!r} names {mention.practice.name}"
        evidence.append(
            Evidence(
                mention.practice.id,
                signal,
                score,
                detail,
                None,
                text,
                mention.practice.name,
            )
        )
    return evidence


def title_people_evidence(title: str, index: SourceIndex) -> list[Evidence]:
    """Return evidence for people a meeting title names.

    "Lunch w/ Dr. Patel" names every provider called Patel; "Coffee with
    Anil Patel" or "A. Patel" names Anil Patel.  A surname alone names no
    one, because many surnames are also words ("Green", "Park").  A
    title that names one person confirms the link alone.
    """
    tokens = words(title)
    evidence: list[Evidence] = []
    for position in range(len(tokens)):
        found = _people_named_at(tokens, position, index)
        if not found:
            continue
        practice_count = len({index.practice_of(person).id for person, _ in found})
        for person, base in found:
            score = spread_over_practices(base, practice_count)
            if score is None:
                break
            note = _shared_note(practice_count)
            detail = f"title {title!r} names {person.name}{note}"
            practice_id = index.practice_of(person).id
            evidence.append(
                Evidence(
                    practice_id,
                    Signal.TITLE,
                    score,
                    detail,
                    person.id,
                    title,
                    person.name,
                )
            )
    return evidence


def _people_named_at(
    tokens: list[str], position: int, index: SourceIndex
) -> list[tuple[SourceRecord, float]]:
    """Return the people whose surname is at `position`, with their scores."""
    token = tokens[position]
    people = index.people_with_surname(token)
    if not people and token.endswith("s"):
        # "Dr. Patel's office" folds to "patels".
        people = index.people_with_surname(token[:-1])
    before = tokens[max(0, position - 2) : position]
    found: list[tuple[SourceRecord, float]] = []
    for person in people:
        scored = _title_name_score(before, index.person_name(person.id))
        if scored is None:
            continue
        score, by_doctor_title = scored
        # "Dr." names a provider, never an office manager.
        if not by_doctor_title or person.kind is SourceKind.PROVIDER:
            found.append((person, score))
    return found


def _title_name_score(
    before: list[str], name: PersonName | None
) -> tuple[float, bool] | None:
    """Score the words before a surname in a title as the rest of `name`.

    Returns the score and whether the words were "Dr." alone.
    """
    if name is None or not before:
        return None
    previous = before[-1]
    # "Maria L. Lopez": skip a middle initial.
    if len(previous) == 1 and name.middle and previous == name.middle[0][0]:
        if len(before) == 1:
            return None
        previous = before[-2]
    if previous in ("dr", "doctor"):
        return weights.TITLE_DOCTOR_SURNAME, True
    if not name.first:
        return None
    if previous == name.first or (len(previous) == 1 and previous == name.first[0]):
        return weights.TITLE_FULL_NAME, False
    if len(previous) > 1 and given_names_related(previous, name.first):
        return weights.TITLE_FULL_NAME, False
    return None


def location_address_evidence(location: str, index: SourceIndex) -> list[Evidence]:
    """Return evidence for practices whose street address the location is."""
    matches = index.sources_at_street_address(location)
    if not matches:
        return []
    best_by_practice: dict[int, float] = {}
    best_address: dict[int, str] = {}
    for match in matches:
        practice_id = index.practice_of(match.source).id
        if match.score > best_by_practice.get(practice_id, 0.0):
            best_by_practice[practice_id] = match.score
            best_address[practice_id] = match.source.address or ""
    top = max(best_by_practice.values())
    leaders = [p for p, score in best_by_practice.items() if top - score < _TIE]
    score = spread_over_practices(weights.LOCATION_ADDRESS * top, len(leaders))
    if score is None:
        return []
    note = _shared_note(len(leaders))
    evidence: list[Evidence] = []
    for practice_id in leaders:
        name = index.get(practice_id).name
        detail = f"location {location!r} is the address of {name}{note}"
        evidence.append(
            Evidence(
                practice_id,
                Signal.LOCATION,
                score,
                detail,
                None,
                location,
                best_address[practice_id],
            )
        )
    return evidence


def phone_evidence(text: str, field: str, index: SourceIndex) -> list[Evidence]:
    """Return evidence for sources whose phone number a text contains."""
    evidence: list[Evidence] = []
    for number in find_phone_numbers(text):
        sources = index.sources_with_phone(number)
        by_practice: dict[int, SourceRecord] = {}
        for source in sources:
            by_practice.setdefault(index.practice_of(source).id, source)
        score = spread_over_practices(weights.PHONE, len(by_practice))
        if score is None:
            continue
        note = _shared_note(len(by_practice))
        for practice_id, source in by_practice.items():
            person_id = None if source.kind is SourceKind.PRACTICE else source.id
            detail = f"phone {number} in the {field} is listed for {source.name}{note}"
            evidence.append(
                Evidence(
                    practice_id, Signal.PHONE, score, detail, person_id, number, number
                )
            )
    return evidence
