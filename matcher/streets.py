"""Street addresses: find them in free text and compare them.

A meeting location "123 Main Street, Suite 200" and a practice address
"123 Main St. Ste 200, Springfield, IL 62701" are the same place.  Both are
reduced to a house number, the street's words, a suffix and a unit.
Suffixes, unit designators and directions take their USPS abbreviations
("st", "ste", "n"), and ordinals one form ("Fifth" gives "5th").  Only
United States style addresses (house number first) are recognised.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from rapidfuzz import fuzz

from matcher.text import words

# Street suffixes, abbreviated as in USPS Publication 28, Appendix C.
_STREET_SUFFIXES = {
    "alley": "aly",
    "aly": "aly",
    "av": "ave",
    "ave": "ave",
    "avenue": "ave",
    "blvd": "blvd",
    "boulevard": "blvd",
    "cir": "cir",
    "circle": "cir",
    "court": "ct",
    "ct": "ct",
    "cv": "cv",
    "cove": "cv",
    "crossing": "xing",
    "dr": "dr",
    "drive": "dr",
    "expressway": "expy",
    "expy": "expy",
    "freeway": "fwy",
    "fwy": "fwy",
    "highway": "hwy",
    "hwy": "hwy",
    "lane": "ln",
    "ln": "ln",
    "loop": "loop",
    "parkway": "pkwy",
    "pkwy": "pkwy",
    "pike": "pike",
    "pl": "pl",
    "place": "pl",
    "plaza": "plz",
    "plz": "plz",
    "rd": "rd",
    "road": "rd",
    "sq": "sq",
    "square": "sq",
    "st": "st",
    "str": "st",
    "street": "st",
    "ter": "ter",
    "terrace": "ter",
    "trail": "trl",
    "trl": "trl",
    "turnpike": "tpke",
    "tpke": "tpke",
    "way": "way",
    "xing": "xing",
}

# Secondary unit designators (USPS Publication 28, section 213).
_UNIT_DESIGNATORS = {
    "apartment": "apt",
    "apt": "apt",
    "bldg": "bldg",
    "building": "bldg",
    "fl": "fl",
    "floor": "fl",
    "no": "ste",
    "number": "ste",
    "rm": "rm",
    "room": "rm",
    "ste": "ste",
    "suite": "ste",
    "unit": "unit",
}

_DIRECTIONS = {
    "e": "e",
    "east": "e",
    "n": "n",
    "ne": "ne",
    "north": "n",
    "northeast": "ne",
    "northwest": "nw",
    "nw": "nw",
    "s": "s",
    "se": "se",
    "south": "s",
    "southeast": "se",
    "southwest": "sw",
    "sw": "sw",
    "w": "w",
    "west": "w",
}

# Ordinals keep a suffix ("5th"), so that they never read as a house number.
_ORDINAL_WORDS = {
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
}
_HOUSE_NUMBER = re.compile(r"\d+[a-z]?")

# A street name rarely has more words than this before its suffix.
_MAX_STREET_WORDS = 5

_FUZZY_MIN_RATIO = 90.0


@dataclasses.dataclass(frozen=True, slots=True)
class StreetAddress:
    """The comparable part of a street address.

    `name` contains the street's words between the house number and the
    suffix ("w", "5th" in "500 W 5th Ave NW").  `suffix` and `direction`
    (the one after the suffix) are None when not written.  `unit` is the
    suite, room or floor value, or None.
    """

    number: str
    name: tuple[str, ...]
    suffix: str | None = None
    direction: str | None = None
    unit: str | None = None


# Commas, semicolons, line breaks and dashes between spaces end an address
# part, so that "2nd floor, 44 First St" does not read "floor 44" as a unit.
_PART_BREAK = re.compile(r"[,;\n]|\s[-\u2013\u2014|/]\s")
_BREAK = "|"

# "#" before a number is a unit designator (USPS Publication 28, section
# 213), as in "123 Main St, #200".  Folding would drop it.
_NUMBER_SIGN = re.compile(r"#\s*(?=[0-9A-Za-z])")


@functools.lru_cache(maxsize=16_384)
def normalized_words(text: str) -> tuple[str, ...]:
    """Fold text into words with ordinals, directions and saints normalized.

    "Fifth" becomes "5th" and "North" becomes "n".  A "|" marks each comma
    or other break between parts.  Street suffixes and unit designators are
    left as written because the same word ("st", "dr") means different
    things in different places.
    """
    normalized: list[str] = []
    text = _NUMBER_SIGN.sub(" ste ", text)
    for part in _PART_BREAK.split(text):
        if normalized:
            normalized.append(_BREAK)
        for word in words(part):
            word = _ORDINAL_WORDS.get(word, word)
            word = _DIRECTIONS.get(word, word)
            normalized.append("st" if word == "saint" else word)
    return tuple(normalized)


@functools.lru_cache(maxsize=16_384)
def find_street_addresses(text: str) -> tuple[StreetAddress, ...]:
    """Find the street addresses written in a text, in order."""
    tokens = normalized_words(text)
    found: list[StreetAddress] = []
    for start, token in enumerate(tokens):
        if not _HOUSE_NUMBER.fullmatch(token):
            continue
        # "Suite 200 Springfield": a number after a designator is a unit.
        if start > 0 and tokens[start - 1] in _UNIT_DESIGNATORS:
            continue
        address = _read_address(tokens, start)
        if address is not None:
            found.append(address)
    return tuple(found)


def _read_address(tokens: tuple[str, ...], start: int) -> StreetAddress | None:
    """Read an address whose house number is at `start`, or return None."""
    name: list[str] = []
    suffix = direction = None
    position = start + 1
    while position < len(tokens) and len(name) < _MAX_STREET_WORDS:
        token = tokens[position]
        if token in _UNIT_DESIGNATORS or token == _BREAK:
            break
        if _HOUSE_NUMBER.fullmatch(token):
            break
        position += 1
        # The first word cannot be the suffix: "St Marys Rd" starts with a
        # saint, and "Dr" in "1 Dr Martin Luther King Jr Blvd" is a title.
        if name and token in _STREET_SUFFIXES:
            suffix = _STREET_SUFFIXES[token]
            break
        name.append(token)
    if suffix is not None and position < len(tokens):
        if tokens[position] in _DIRECTIONS.values():
            direction = tokens[position]
            position += 1
    if not any(char.isalpha() for word in name for char in word):
        return None
    if suffix is None:
        # Without a suffix the street's end is unknown: keep the first word
        # only, and let the comparison treat the rest as unknown.
        name = name[:1]
    unit = _read_unit(tokens, position)
    return StreetAddress(tokens[start], tuple(name), suffix, direction, unit)


def _read_unit(tokens: tuple[str, ...], position: int) -> str | None:
    # "123 Main Street, Suite 200": the unit may follow a break.
    if position < len(tokens) and tokens[position] == _BREAK:
        position += 1
    if position >= len(tokens):
        return None
    token = tokens[position]
    if token in _UNIT_DESIGNATORS and position + 1 < len(tokens):
        return tokens[position + 1]
    # "123 Main St #200": the "#" is folded away, leaving a bare number.
    if token.isdigit() and len(token) <= 4 and tokens[position - 1] != _BREAK:
        return token
    return None


class StreetScore:
    """Outcomes of comparing a written address with a known one."""

    NONE = 0.0
    # Same number, street and unit.
    EXACT = 1.0
    # Same number and street, but one side gives no unit.  Medical office
    # buildings house many practices, so this is weaker.
    NO_UNIT = 0.85
    # Same number and street name, but only one side writes the suffix.
    NO_SUFFIX_FACTOR = 0.95
    # The street name differs by a typo.
    FUZZY_FACTOR = 0.9


def compare_street_addresses(written: StreetAddress, known: StreetAddress) -> float:
    """Score from 0 to 1 whether `written` is the place `known`.

    A different house number, street suffix, direction or unit gives 0.
    """
    if written.number != known.number:
        return StreetScore.NONE
    if _differ(written.direction, known.direction):
        return StreetScore.NONE
    score = _street_score(written, known)
    if score == StreetScore.NONE:
        return score
    if written.unit and known.unit:
        return score if written.unit == known.unit else StreetScore.NONE
    if written.unit or known.unit:
        return score * StreetScore.NO_UNIT
    return score


def _differ(value: str | None, other: str | None) -> bool:
    return value is not None and other is not None and value != other


def _street_score(written: StreetAddress, known: StreetAddress) -> float:
    if written.suffix is not None and known.suffix is not None:
        if written.suffix != known.suffix:
            return StreetScore.NONE
        factor = 1.0
        written_name, known_name = written.name, known.name
    else:
        # Compare only as many words as the shorter side has.
        factor = StreetScore.NO_SUFFIX_FACTOR
        length = min(len(written.name), len(known.name))
        written_name, known_name = written.name[:length], known.name[:length]
    if written_name == known_name:
        return StreetScore.EXACT * factor
    ratio = fuzz.ratio(" ".join(written_name), " ".join(known_name))
    if ratio >= _FUZZY_MIN_RATIO:
        return StreetScore.FUZZY_FACTOR * factor
    return StreetScore.NONE
