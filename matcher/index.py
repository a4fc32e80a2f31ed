"""An in-memory index of one workspace's referral sources.

Built once per sync from every practice, provider and contact of a
workspace, then shared by all matching in that sync.  Each lookup is a
dictionary access.  Fuzzy comparison runs only on the few candidates found
under a blocking key: a surname form, a typo key of a surname (the
surname with one letter deleted), a practice-name word, or a house
number.  The evidence of participants and meeting texts is kept in a
cache of bounded size, because the same correspondents recur in a
mailbox.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from matcher.cache import BoundedCache
from matcher.freemail import is_free_mail_domain
from matcher.names import (
    GIVEN_CONFLICT,
    PersonName,
    blocking_keys_of_name,
    blocking_keys_of_text,
    blocking_keys_of_words,
    compare_names,
    given_names_may_agree,
    parse_person_name,
    typo_keys,
)
from matcher.orgnames import (
    OrgName,
    canonical_words,
    coverage_in_text,
    max_coverage,
    parse_org_name,
)
from matcher.phones import normalize_phone_number
from matcher.records import SourceKind, SourceRecord
from matcher.streets import (
    StreetAddress,
    compare_street_addresses,
    find_street_addresses,
)
from matcher.text import words

logger = logging.getLogger(__name__)

# Below this Jaro-Winkler similarity two surnames are not compared in full.
# compare_names accepts surname typos from 0.9, so this only saves work.
_TYPO_MIN_SIMILARITY = 0.88


class DomainMatch(NamedTuple):
    """The practices that list `domain`, the most specific domain found."""

    domain: str
    practices: tuple[SourceRecord, ...]


class PersonMatch(NamedTuple):
    """A provider or contact whose name is similar to a given name."""

    person: SourceRecord
    similarity: float


class PracticeMention(NamedTuple):
    """A practice named in a text, with the share of its name found there."""

    practice: SourceRecord
    coverage: float


class StreetMatch(NamedTuple):
    """A source whose street address a text contains, with the score."""

    source: SourceRecord
    score: float


class SourceIndex:
    """Lookups over one workspace's practices, providers and contacts.

    A provider or contact whose practice is missing from `records` cannot be
    linked to anything, so it is skipped with a warning.  Raises ValueError
    when two records share an id.
    """

    def __init__(
        self, records: Iterable[SourceRecord], cache_size: int = 100_000
    ) -> None:
        self._records: dict[int, SourceRecord] = {}
        self._by_address: dict[str, list[SourceRecord]] = defaultdict(list)
        self._by_domain: dict[str, list[SourceRecord]] = defaultdict(list)
        self._by_phone: dict[str, list[SourceRecord]] = defaultdict(list)
        self._people_at: dict[int, list[SourceRecord]] = defaultdict(list)
        self._providers_at: dict[int, tuple[SourceRecord, ...]] = {}
        self._person_names: dict[int, PersonName] = {}
        self._alias_names: dict[int, tuple[PersonName, ...]] = {}
        self._keys_of_person: dict[int, frozenset[str]] = {}
        self._by_name_key: dict[str, list[int]] = defaultdict(list)
        self._name_keys_at: dict[int, set[str]] = defaultdict(set)
        self._by_surname: dict[str, list[int]] = defaultdict(list)
        self._by_surname_word: dict[str, list[int]] = defaultdict(list)
        self._words_by_typo_key: dict[str, set[str]] = defaultdict(set)
        self._practice_names: dict[int, tuple[OrgName, ...]] = {}
        self._by_practice_word: dict[str, list[int]] = defaultdict(list)
        self._by_house_number: dict[str, list[tuple[int, StreetAddress]]] = defaultdict(
            list
        )
        self._add_all(list(records))
        self.cache: BoundedCache[object, object] = BoundedCache(cache_size)
        """Evidence already worked out in this sync, for the signals module."""

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, source_id: object) -> bool:
        return source_id in self._records

    # -- building ---------------------------------------------------------

    def _add_all(self, records: list[SourceRecord]) -> None:
        for record in records:
            if record.id in self._records:
                raise ValueError(
                    f"source id {record.id} appears twice ({record.name!r} and "
                    f"{self._records[record.id].name!r}); ids must be unique"
                )
            self._records[record.id] = record
        orphans: list[SourceRecord] = []
        for record in records:
            if record.kind is SourceKind.PRACTICE:
                self._add_practice(record)
            elif self._practice_of_person(record) is None:
                orphans.append(record)
                del self._records[record.id]
            else:
                self._add_person(record)
        for record in self._records.values():
            self._add_contact_points(record)
        for practice_id, people in self._people_at.items():
            providers = [p for p in people if p.kind is SourceKind.PROVIDER]
            self._providers_at[practice_id] = tuple(providers)
        if orphans:
            # One line for all of them, because a broken import can orphan many.
            logger.warning(
                "skipped sources whose practice is not in the index (%d): %s",
                len(orphans),
                ", ".join(f"{r.id} (practice {r.practice_id})" for r in orphans[:20]),
            )

    def _practice_of_person(self, record: SourceRecord) -> SourceRecord | None:
        if record.practice_id is None:
            return None
        practice = self._records.get(record.practice_id)
        if practice is None or practice.kind is not SourceKind.PRACTICE:
            return None
        return practice

    def _add_practice(self, practice: SourceRecord) -> None:
        for domain in practice.domains:
            domain = domain.strip().lower()
            # A consumer domain listed by mistake would tie every Gmail
            # sender to this practice.
            if domain and not is_free_mail_domain(domain):
                self._by_domain[domain].append(practice)
        parsed = (parse_org_name(text) for text in (practice.name, *practice.aliases))
        org_names = tuple(name for name in parsed if name is not None)
        if org_names:
            self._practice_names[practice.id] = org_names
            tokens = {token for name in org_names for token in name.key_tokens}
            for token in tokens:
                self._by_practice_word[token].append(practice.id)

    def _add_person(self, person: SourceRecord) -> None:
        assert person.practice_id is not None
        self._people_at[person.practice_id].append(person)
        name = parse_person_name(person.name)
        if name is None:
            return
        self._person_names[person.id] = name
        parsed = (parse_person_name(alias) for alias in person.aliases)
        aliases = tuple(alias for alias in parsed if alias is not None)
        if aliases:
            self._alias_names[person.id] = aliases
        names = (name, *aliases)
        keys = {key for each in names for key in blocking_keys_of_name(each)}
        self._keys_of_person[person.id] = frozenset(keys)
        for key in keys:
            self._by_name_key[key].append(person.id)
            self._name_keys_at[person.practice_id].add(key)
        for surname in {surname for each in names for surname in each.surnames}:
            self._by_surname[surname].append(person.id)
        # A first surname is sometimes parsed as a middle name.
        surname_words = {
            word
            for each in names
            for word in (*each.surnames, *(m for m in each.middle if len(m) > 1))
        }
        for word in surname_words:
            self._by_surname_word[word].append(person.id)
            for key in typo_keys(word):
                self._words_by_typo_key[key].add(word)

    def _add_contact_points(self, record: SourceRecord) -> None:
        for address in record.emails:
            self._by_address[address.strip().lower()].append(record)
        for phone in record.phones:
            number = normalize_phone_number(phone)
            if number is not None:
                self._by_phone[number].append(record)
        if record.address:
            for street in find_street_addresses(record.address):
                self._by_house_number[street.number].append((record.id, street))

    # -- records ----------------------------------------------------------

    def get(self, source_id: int) -> SourceRecord:
        """Return the source with this id; raises KeyError when unknown."""
        return self._records[source_id]

    def practice_of(self, source: SourceRecord) -> SourceRecord:
        """Return the practice itself, or the practice of a person."""
        if source.kind is SourceKind.PRACTICE:
            return source
        assert source.practice_id is not None
        return self._records[source.practice_id]

    def people_at(self, practice_id: int) -> tuple[SourceRecord, ...]:
        """Return the providers and contacts of a practice."""
        return tuple(self._people_at.get(practice_id, ()))

    def providers_at(self, practice_id: int) -> tuple[SourceRecord, ...]:
        """Return the providers of a practice, without its contacts."""
        return self._providers_at.get(practice_id, ())

    def person_name(self, person_id: int) -> PersonName | None:
        """Return the parsed name of a provider or contact."""
        return self._person_names.get(person_id)

    # -- addresses, domains and phones ----------------------------------

    def sources_with_address(self, address: str) -> tuple[SourceRecord, ...]:
        """Return the sources that list this exact (lower-case) address."""
        return tuple(self._by_address.get(address, ()))

    def practices_with_domain(self, domain: str) -> DomainMatch | None:
        """Return the practices at a domain or at its nearest parent domain.

        Mail from "ortho.lakeside-health.example" finds a practice listing
        "lakeside-health.example", unless a practice lists the subdomain
        itself.  The top-level label alone is never looked up.
        """
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            practices = self._by_domain.get(candidate)
            if practices:
                return DomainMatch(candidate, tuple(practices))
        return None

    def sources_with_phone(self, number: str) -> tuple[SourceRecord, ...]:
        """Return the sources that list a phone number given in E.164."""
        return tuple(self._by_phone.get(number, ()))

    # -- names ------------------------------------------------------------

    def may_name_someone(
        self, display: str, practice_ids: Collection[int] | None = None
    ) -> bool:
        """Tell cheaply whether any indexed surname could be in a name.

        With `practice_ids`, only the people of those practices count.  Lets
        the matcher skip parsing the display names of the many senders who
        match no one in the index.
        """
        if practice_ids is None:
            # Word by word, so that a common surname returns before the typo
            # keys of every word are made.
            by_name_key = self._by_name_key
            for word in words(display):
                if word in by_name_key:
                    return True
                for key in typo_keys(word):
                    if key in by_name_key:
                        return True
            return False
        keys = blocking_keys_of_text(display)
        return any(
            not keys.isdisjoint(self._name_keys_at.get(practice_id, ()))
            for practice_id in practice_ids
        )

    def has_people(self, practice_ids: Collection[int]) -> bool:
        """Tell whether any of these practices has a provider or contact."""
        return any(practice_id in self._people_at for practice_id in practice_ids)

    def people_named(
        self,
        name: PersonName,
        min_similarity: float,
        practice_ids: Collection[int] | None = None,
    ) -> list[PersonMatch]:
        """Return people whose name is similar to `name`, most similar first.

        With `practice_ids`, every person of those practices is compared,
        because a practice has few people.  Otherwise the people sharing a
        surname form with `name` are compared first, and only when none is
        similar enough, the people under a typo key of its surname.
        """
        if practice_ids is not None:
            # Only people who share a surname or typo key with some word of
            # the name can reach the minimum similarity.
            keys = blocking_keys_of_words(name)
            candidates = [
                person.id
                for practice_id in practice_ids
                for person in self._people_at.get(practice_id, ())
                if not keys.isdisjoint(self._keys_of_person.get(person.id, ()))
            ]
            return self._compare(name, candidates, min_similarity, True)
        matches = self._compare(name, self._exact_candidates(name), min_similarity)
        if matches:
            return matches
        return self._compare(name, self._typo_candidates(name), min_similarity)

    def _compare(
        self,
        name: PersonName,
        candidates: Iterable[int],
        min_similarity: float,
        within_practices: bool = False,
    ) -> list[PersonMatch]:
        matches: list[PersonMatch] = []
        # Across the whole index most people sharing a surname have another
        # given name; skip them before the full comparison.
        need_given = (
            not within_practices
            and min_similarity > GIVEN_CONFLICT
            and bool(name.first)
        )
        for person_id in dict.fromkeys(candidates):
            known = self._person_names.get(person_id)
            if known is None:
                continue
            similarity = 0.0
            for each in (known, *self._alias_names.get(person_id, ())):
                if need_given and not given_names_may_agree(name, each):
                    continue
                similarity = max(similarity, compare_names(name, each))
            if similarity >= min_similarity:
                matches.append(PersonMatch(self._records[person_id], similarity))
        matches.sort(key=lambda match: -match.similarity)
        return matches

    def _exact_candidates(self, name: PersonName) -> list[int]:
        candidates: list[int] = []
        # The given name too, for names written family first without a comma.
        for word in {*name.surnames, name.last_key, name.first, *name.middle}:
            candidates.extend(self._by_surname_word.get(word, ()))
        return candidates

    def _typo_candidates(self, name: PersonName) -> list[int]:
        """Return people whose surname is close to one of the name's words."""
        candidates: list[int] = []
        for word in {name.last_key, name.first}:
            if len(word) < 4:
                continue
            # Compare distinct surname words, far fewer than the people.
            block: set[str] = set()
            for key in typo_keys(word):
                block.update(self._words_by_typo_key.get(key, ()))
            found = process.extract(
                word,
                block,
                scorer=JaroWinkler.normalized_similarity,
                score_cutoff=_TYPO_MIN_SIMILARITY,
                limit=None,
            )
            for surname, _, _ in found:
                candidates.extend(self._by_surname_word[surname])
        return candidates

    def people_with_surname(self, word: str) -> tuple[SourceRecord, ...]:
        """Return the people one of whose surname forms is `word` exactly."""
        ids = self._by_surname.get(word)
        if ids is None:
            return ()
        return tuple(self._records[i] for i in ids)

    # -- practice names and street addresses ----------------------------

    def practices_named_in(
        self, text: str, min_coverage: float
    ) -> list[PracticeMention]:
        """Return the practices whose names a text contains, best first."""
        tokens = canonical_words(text)
        candidates: dict[int, None] = {}
        for token in tokens:
            for practice_id in self._by_practice_word.get(token, ()):
                candidates[practice_id] = None
        mentions: list[PracticeMention] = []
        text_words = frozenset(tokens)
        for practice_id in candidates:
            # The practice's name and each alias; the best coverage counts.
            coverage = 0.0
            for org_name in self._practice_names[practice_id]:
                if max_coverage(org_name, text_words) < min_coverage:
                    continue
                coverage = max(coverage, coverage_in_text(org_name, tokens))
            if coverage >= min_coverage:
                mentions.append(PracticeMention(self._records[practice_id], coverage))
        mentions.sort(key=lambda mention: -mention.coverage)
        return mentions

    def sources_at_street_address(self, text: str) -> list[StreetMatch]:
        """Return the sources whose street address a text contains, best first."""
        best: dict[int, float] = {}
        for written in find_street_addresses(text):
            for source_id, known in self._by_house_number.get(written.number, ()):
                score = compare_street_addresses(written, known)
                if score > best.get(source_id, 0.0):
                    best[source_id] = score
        matches = [StreetMatch(self._records[i], score) for i, score in best.items()]
        matches.sort(key=lambda match: -match.score)
        return matches
