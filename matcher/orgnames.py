"""Practice names: normalize them and find them in free text.

A meeting titled "Drop off brochures - Lakeside Ortho" names the practice
"Lakeside Orthopedics".  Both texts are reduced to canonical words
("lakeside", "ortho") without legal forms such as LLC or P.C.  Each word of
the practice name gets a weight.  A distinctive word such as "lakeside"
counts most, a specialty such as "family" or "ortho" less, and filler such
as "associates" little.  A text names the practice to the extent of the
weight of the practice's words it contains close together.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

from rapidfuzz import fuzz

from matcher.text import words

# Legal forms, credentials and joining words, which name no practice.
_DROPPED_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "apc",
        "at",
        "co",
        "company",
        "corp",
        "corporation",
        "dba",
        "dds",
        "dmd",
        "do",
        "dpm",
        "for",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "lp",
        "ltd",
        "md",
        "of",
        "pa",
        "pc",
        "phd",
        "pllc",
        "psc",
        "sc",
        "the",
    }
)

# Spellings and abbreviations that name the same thing, mapped to one form.
# A value with a space expands to two words ("fm" is family medicine).
_CANONICAL = {
    "assoc": "assoc",
    "associate": "assoc",
    "associated": "assoc",
    "centre": "center",
    "cntr": "center",
    "ctr": "center",
    "fm": "family med",
    "grp": "group",
    "healthcare": "health care",
    "hosp": "hospital",
    "im": "internal med",
    "medical": "med",
    "medicine": "med",
    "mount": "mt",
    "ortho": "ortho",
    "orthopaedic": "ortho",
    "orthopedic": "ortho",
    "orthopedist": "ortho",
    "paediatric": "peds",
    "pediatric": "peds",
    "pediatrician": "peds",
    "peds": "peds",
    "rehabilitation": "rehab",
    "saint": "st",
    "surgical": "surgery",
    "svc": "service",
    "womens": "women",
}

# Words for the kind of place.  They count, but a text that shares only these
# with a practice name does not name that practice.  Writers drop the
# buildings ("Craneford Spine" for Craneford Spine Center) more often than
# the field ("medicine", "health"), so those weigh less.
_KIND_WORDS = frozenset({"care", "health", "med", "wellness"})
_BUILDING_WORDS = frozenset({"center", "clinic", "hospital"})

# Filler that a writer often leaves out ("Lakeside Ortho" for Lakeside
# Orthopedic Associates).
_FILLER_WORDS = frozenset(
    {
        "assoc",
        "department",
        "group",
        "institute",
        "management",
        "mgmt",
        "network",
        "office",
        "partner",
        "physician",
        "practice",
        "provider",
        "service",
        "specialist",
        "system",
        "team",
    }
)

_SPECIALTY_WORDS = frozenset(
    {
        "adult",
        "allergy",
        "ankle",
        "bone",
        "cardiology",
        "child",
        "children",
        "chiropractic",
        "dermatology",
        "endocrinology",
        "ent",
        "family",
        "foot",
        "gastroenterology",
        "geriatric",
        "hand",
        "imaging",
        "internal",
        "joint",
        "neurology",
        "neurosurgery",
        "obgyn",
        "occupational",
        "oncology",
        "ortho",
        "pain",
        "peds",
        "physiatry",
        "physical",
        "podiatry",
        "primary",
        "pulmonary",
        "radiology",
        "rehab",
        "rheumatology",
        "spine",
        "sport",
        "surgery",
        "therapy",
        "urgent",
        "urology",
        "women",
    }
)

DISTINCTIVE_WEIGHT = 2.0
SPECIALTY_WEIGHT = 1.0
KIND_WEIGHT = 1.0
BUILDING_WEIGHT = 0.5
FILLER_WEIGHT = 0.3

# Words for kinds of organisations that are no referral source.  Right
# after a practice's name they make it another organisation's name:
# "Lakeside Orthopedics Medical Supply" or "Cedar Health Plan".
_OTHER_ORGANISATION_WORDS = frozenset(
    {
        "attorney",
        "bank",
        "insurance",
        "insurer",
        "law",
        "lawyer",
        "legal",
        "pharmacy",
        "plan",
        "realty",
        "supplie",
        "supply",
        "veterinary",
    }
)
_OTHER_ORGANISATION_REACH = 2

# A text word of at least this many letters may stand for a specialty word
# it begins ("Neuro" for Neurology, "Rheum" for Rheumatology).
_SPECIALTY_PREFIX_MIN_LENGTH = 4

# Matched words may sit this many words further apart than in the name
# ("Lakeside - Ortho"), but no more ("Lakeside Grill near Sports Ortho").
_SPAN_SLACK = 2

# Words of this length or more may match with a typo (rapidfuzz ratio).
_FUZZY_MIN_LENGTH = 6
_FUZZY_MIN_RATIO = 88.0


@dataclasses.dataclass(frozen=True, slots=True)
class OrgName:
    """A practice name as canonical words, each with its weight."""

    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    # Derived from the two fields above once, because matching reads them
    # for every candidate practice of every meeting text.
    total_weight: float = dataclasses.field(init=False)
    distinctive_tokens: frozenset[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        distinctive = frozenset(
            token
            for token, weight in zip(self.tokens, self.weights, strict=True)
            if weight == DISTINCTIVE_WEIGHT
        )
        object.__setattr__(self, "total_weight", sum(self.weights))
        object.__setattr__(self, "distinctive_tokens", distinctive)

    @property
    def key_tokens(self) -> tuple[str, ...]:
        """Words to index the name under.

        These are its distinctive words, because `coverage_in_text` needs
        one of them.  A name without any is indexed under its specialties.
        """
        distinctive = self.distinctive_tokens
        if distinctive:
            return tuple(token for token in self.tokens if token in distinctive)
        return tuple(token for token in self.tokens if token in _SPECIALTY_WORDS)


@functools.lru_cache(maxsize=16_384)
def canonical_words(text: str) -> tuple[str, ...]:
    """Fold text into canonical words, without legal forms and initials."""
    canonical: list[str] = []
    for word in words(text):
        # Single letters are initials ("Michael D. Randell, M.D., P.C.").
        if word in _DROPPED_WORDS or len(word) == 1:
            continue
        canonical.extend(_canonical_form(word).split(" "))
    return tuple(canonical)


def _canonical_form(word: str) -> str:
    if word in _CANONICAL:
        return _CANONICAL[word]
    singular = _singular(word)
    return _CANONICAL.get(singular, singular)


def _singular(word: str) -> str:
    # Plurals and possessives ("lakesides" from "Lakeside's", after the
    # apostrophe is folded away) end in a bare "s".
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def parse_org_name(name: str) -> OrgName | None:
    """Turn a practice name into weighted canonical words.

    Returns None when nothing but legal forms and initials remain.
    """
    tokens: list[str] = []
    for token in canonical_words(name):
        if token not in tokens:
            tokens.append(token)
    if not tokens:
        return None
    return OrgName(tuple(tokens), tuple(_weight(token) for token in tokens))


def _weight(token: str) -> float:
    if token in _FILLER_WORDS:
        return FILLER_WEIGHT
    if token in _KIND_WORDS:
        return KIND_WEIGHT
    if token in _BUILDING_WORDS:
        return BUILDING_WEIGHT
    if token in _SPECIALTY_WORDS:
        return SPECIALTY_WEIGHT
    return DISTINCTIVE_WEIGHT


def coverage_in_text(org: OrgName, text_tokens: tuple[str, ...]) -> float:
    """Return the share of the name's weight found close together in the text.

    Specialties and kinds alone ("family medicine") name no particular
    practice, so the result is 0.0 when none of the name's distinctive words
    is present.  A name that has no distinctive word ("Family Medicine
    Associates") must be present in full.  A name followed by a word for
    another kind of organisation ("... Medical Supply") is not present.
    """
    positions = _positions_of_name_words(org, text_tokens)
    if not positions:
        return 0.0
    distinctive = org.distinctive_tokens
    if distinctive and not distinctive & positions.keys():
        return 0.0
    if not distinctive and len(positions) < len(org.tokens):
        return 0.0
    window = _best_window(positions, len(org.tokens) + _SPAN_SLACK)
    if window is None:
        return 0.0
    after = text_tokens[window[1] + 1 : window[1] + 1 + _OTHER_ORGANISATION_REACH]
    if _OTHER_ORGANISATION_WORDS.intersection(after):
        return 0.0
    weight_by_token = dict(zip(org.tokens, org.weights, strict=True))
    matched = sum(weight_by_token[token] for token in positions)
    return matched / org.total_weight


def max_coverage(org: OrgName, text_words: frozenset[str]) -> float:
    """Return an upper bound of `coverage_in_text`, from exact words only.

    Lets a caller skip the full computation for names that cannot reach a
    minimum.  Words that may match by typo or as a prefix count as found.
    """
    found = 0.0
    for token, weight in zip(org.tokens, org.weights, strict=True):
        if token in text_words or _may_match_inexactly(token):
            found += weight
    return found / org.total_weight


def _may_match_inexactly(token: str) -> bool:
    return len(token) >= _FUZZY_MIN_LENGTH or token in _SPECIALTY_WORDS


def _positions_of_name_words(
    org: OrgName, text_tokens: tuple[str, ...]
) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for token in org.tokens:
        found = [i for i, word in enumerate(text_tokens) if word == token]
        if not found and len(token) >= _FUZZY_MIN_LENGTH:
            found = [
                i
                for i, word in enumerate(text_tokens)
                if len(word) >= _FUZZY_MIN_LENGTH - 1
                and fuzz.ratio(word, token) >= _FUZZY_MIN_RATIO
            ]
        if not found and token in _SPECIALTY_WORDS:
            found = [
                i
                for i, word in enumerate(text_tokens)
                if len(word) >= _SPECIALTY_PREFIX_MIN_LENGTH and token.startswith(word)
            ]
        if found:
            positions[token] = found
    return positions


def _best_window(
    positions: dict[str, list[int]], max_span: int
) -> tuple[int, int] | None:
    """Return the first and last position of the shortest window that
    contains each word once, or None when it is wider than `max_span`.
    """
    occurrences = sorted(
        (position, token) for token, found in positions.items() for position in found
    )
    needed = len(positions)
    counts: dict[str, int] = {}
    best: tuple[int, int] | None = None
    start = 0
    for position, token in occurrences:
        counts[token] = counts.get(token, 0) + 1
        while len(counts) == needed:
            first_position, first_token = occurrences[start]
            width = position - first_position
            if width + 1 <= max_span and (best is None or width < best[1] - best[0]):
                best = (first_position, position)
            counts[first_token] -= 1
            if counts[first_token] == 0:
                del counts[first_token]
            start += 1
    return best


class OrganisationHints(NamedTuple):
    """What the words of a name or domain say about the organisation."""

    clinical: bool
    other: bool


# Stems looked for inside a domain label, whose words run together
# ("lakesideortho", "cedarfamilymed").
_CLINICAL_STEMS = (
    *(
        word
        for word in _SPECIALTY_WORDS | _KIND_WORDS | _BUILDING_WORDS
        if len(word) > 3
    ),
    "medical",
    "medicine",
    "physician",
    "pediatric",
    "orthop",
)
_OTHER_STEMS = tuple(_OTHER_ORGANISATION_WORDS)


def organisation_hints(text: str) -> OrganisationHints:
    """Tell whether a text has the words of a clinic, or of another trade.

    Reads whole words, and for a single run-together word such as a domain
    label, the stems inside it.
    """
    found = canonical_words(text)
    clinical_words = _SPECIALTY_WORDS | _KIND_WORDS | _BUILDING_WORDS
    clinical = any(word in clinical_words for word in found)
    other = any(word in _OTHER_ORGANISATION_WORDS for word in found)
    if len(found) == 1:
        label = found[0]
        clinical = clinical or any(stem in label for stem in _CLINICAL_STEMS)
        other = other or any(stem in label for stem in _OTHER_STEMS)
    return OrganisationHints(clinical, other)
