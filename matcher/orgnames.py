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
# with a practice name does not name that practice.
_KIND_WORDS = frozenset(
    {"care", "center", "clinic", "health", "hospital", "med", "wellness"}
)

# Filler that a writer often leaves out ("Lakeside Ortho" for Lakeside
# Orthopedic Associates).
_FILLER_WORDS = frozenset(
    {
        "assoc",
        "department",
        "group",
        "institute",
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
FILLER_WEIGHT = 0.3

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

    @property
    def total_weight(self) -> float:
        return sum(self.weights)

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

    @property
    def distinctive_tokens(self) -> frozenset[str]:
        return frozenset(
            token
            for token, weight in zip(self.tokens, self.weights, strict=True)
            if weight == DISTINCTIVE_WEIGHT
        )


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
    if token in _SPECIALTY_WORDS:
        return SPECIALTY_WEIGHT
    return DISTINCTIVE_WEIGHT


def coverage_in_text(org: OrgName, text_tokens: tuple[str, ...]) -> float:
    """Return the share of the name's weight found close together in the text.

    Specialties and kinds alone ("family medicine") name no particular
    practice, so the result is 0.0 when none of the name's distinctive words
    is present.  A name that has no distinctive word ("Family Medicine
    Associates") must be present in full.
    """
    positions = _positions_of_name_words(org, text_tokens)
    if not positions:
        return 0.0
    distinctive = org.distinctive_tokens
    if distinctive and not distinctive & positions.keys():
        return 0.0
    if not distinctive and len(positions) < len(org.tokens):
        return 0.0
    if not _fits_in_span(positions, len(org.tokens) + _SPAN_SLACK):
        return 0.0
    weight_by_token = dict(zip(org.tokens, org.weights, strict=True))
    matched = sum(weight_by_token[token] for token in positions)
    return matched / org.total_weight


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
        if found:
            positions[token] = found
    return positions


def _fits_in_span(positions: dict[str, list[int]], max_span: int) -> bool:
    """Tell whether one occurrence of each word fits in `max_span` words."""
    occurrences = sorted(
        (position, token) for token, found in positions.items() for position in found
    )
    needed = len(positions)
    counts: dict[str, int] = {}
    start = 0
    for position, token in occurrences:
        counts[token] = counts.get(token, 0) + 1
        while len(counts) == needed:
            first_position, first_token = occurrences[start]
            if position - first_position + 1 <= max_span:
                return True
            counts[first_token] -= 1
            if counts[first_token] == 0:
                del counts[first_token]
            start += 1
    return False
