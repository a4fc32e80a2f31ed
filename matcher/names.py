"""Person names: parse display names and score how well two names agree.

Display names arrive in many shapes ("Nguyen, Thao", "thao.nguyen",
"Dr. J. Daniel Hanks, Jr.", "Patel, Anil:REFERRALS").  nameparser splits
them into title, given, middle, family and suffix.  This module removes
group tags and "via" decorations first, and folds accents and apostrophes
after.  It separates credentials from generational suffixes and records
every way a surname may be written (hyphen parts, a second surname, a
maiden name).  Given names are compared with nicknames in mind.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from anyascii import anyascii
from nameparser import Lexicon, ParsedName, Parser
from nicknames import NickNamer
from rapidfuzz.distance import JaroWinkler

from matcher.text import fold, words

# Clinical credentials that nameparser 2.6 does not list as suffixes.  Without
# them, "Sarah L. Smith CPNP, DNP" parses with the family name "CPNP".
_EXTRA_CREDENTIALS = (
    "agnp",
    "anp",
    "bsn",
    "ccrn",
    "cota",
    "crnp",
    "cscs",
    "faaos",
    "fnp",
    "gnp",
    "lmft",
    "mhs",
    "mpt",
    "mscs",
    "msn",
    "ncc",
    "ocs",
    "otr",
    "otrl",
    "scs",
    "slp",
    "whnp",
    "cpnp",
)

_GENERATIONS = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
_DOCTOR_TITLES = frozenset({"dr", "doctor"})

# Honorifics that are never a given name.  nameparser's title list also has
# words such as "Wing" and "Sultan", which in "Wing Chang, MD" are given names.
_HONORIFICS = frozenset(
    {"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "rev"}
)

# Some list servers, Google Groups among them, rewrite the sender as
# "'Anil Patel' via Referrals".  The part after "via" names the list.
_VIA = re.compile(r"\s+via\s+.*$", re.IGNORECASE)
_QUOTES = "\"' \t"
_DOTTED = re.compile(r"[A-Za-z]+(?:[._][A-Za-z]+)+")
_JOINED_INITIALS = re.compile(r"(?:[A-Za-z]\.){2,}")

# Factors that `compare_names` multiplies together.  1.0 means the same full
# name, and a lower value marks a weaker kind of agreement.
_SURNAME_PART = 0.92  # one part of a hyphenated or double surname, a maiden name
_SURNAME_IN_MIDDLE = 0.85  # "Maria Hernandez" for Maria Hernandez Bartlett
_SURNAME_FUZZY_FACTOR = 0.9  # times Jaro-Winkler similarity, for typos
_SURNAME_FUZZY_MIN = 0.9
_GIVEN_NICKNAME = 0.92  # Bob for Robert, Liz for Elizabeth
_GIVEN_MIDDLE = 0.88  # someone who goes by their middle name
_GIVEN_INITIAL = 0.85  # "M. Lopez" for Maria Lopez
_GIVEN_FUZZY_FACTOR = 0.85
_GIVEN_MISSING = 0.7  # "Dr. Lopez": the surname alone
_GIVEN_CONFLICT = 0.3  # another given name: most likely another person
_SWAPPED_ORDER = 0.9  # "Patel Anil" read as given Patel, family Anil
_MIDDLE_CONFLICT = 0.85
_GENERATION_CONFLICT = 0.7  # Jr. and Sr. at the same practice


@dataclasses.dataclass(frozen=True, slots=True)
class PersonName:
    """A display name split into folded tokens for matching.

    `first`, `middle` and `last` are folded words ("renee", "obrien").
    `last` keeps the words of a double surname ("ruiz soto").  `surnames`
    contains every form the surname may take in another source: the whole
    surname without spaces, each hyphen or space part, and a maiden name.
    `credentials` contains post-nominals such as "md" or "fnpbc", and
    `generation` a suffix such as "jr".  `raw` is the display name as given.
    """

    raw: str
    first: str
    middle: tuple[str, ...]
    last: str
    surnames: frozenset[str]
    nickname: str = ""
    has_doctor_title: bool = False
    credentials: tuple[str, ...] = ()
    generation: str = ""
    # The surname without spaces, as compared for equality.  Stored rather
    # than computed because comparison reads it many times per name.
    last_key: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "last_key", self.last.replace(" ", ""))

    @property
    def is_clinician(self) -> bool:
        """Whether the name carries "Dr." or a credential such as MD or NP."""
        return self.has_doctor_title or bool(self.credentials)


@functools.cache
def _parser() -> Parser:
    lexicon = Lexicon.default().add(suffix_acronyms=_EXTRA_CREDENTIALS)
    return Parser(lexicon=lexicon)


@functools.cache
def _nicknamer() -> NickNamer:
    # Reads the package's CSV of name pairs, so build it on first use only.
    return NickNamer()


def clean_display_name(display: str) -> str | None:
    """Strip list decorations from a display name, or return None.

    None means the display name carries no person name: it is empty or is
    an address.  A group tag after a colon ("Patel, Anil:REFERRALS") and a
    "via" list suffix are removed, and a dotted name such as "thao.nguyen"
    becomes "thao nguyen".
    """
    name = display.strip().strip(_QUOTES)
    if not name or "@" in name:
        return None
    name = name.split(":", 1)[0]
    name = _VIA.sub("", name).strip().strip(_QUOTES)
    if _DOTTED.fullmatch(name):
        name = re.sub(r"[._]", " ", name)
    return name or None


@functools.lru_cache(maxsize=65_536)
def parse_person_name(display: str) -> PersonName | None:
    """Parse a display name into a `PersonName`.

    Returns None when no surname can be found: an empty name, an address
    used as a name, or a single word such as "Anil".
    """
    cleaned = clean_display_name(display)
    if cleaned is None:
        return None
    parsed = _parser().parse(fold_keeping_case(cleaned))
    middle = tuple(words(parsed.middle))
    last_words = words(parsed.family)
    if not last_words:
        return None
    # "Maria Elena Ruiz Soto": nameparser reads middle "Elena Ruiz", family
    # "Soto".  With two or more middle words the last one is most often a
    # first surname, as in Spanish names and in maiden-plus-married names.
    if len(middle) >= 2 and len(middle[-1]) > 1:
        last_words = [middle[-1], *last_words]
        middle = middle[:-1]
    credentials, generation = _split_suffix(parsed.suffix)
    title_words = words(parsed.title)
    first = fold(parsed.given).replace(" ", "")
    if not first and title_words and title_words[-1] not in _HONORIFICS:
        first = title_words[-1]
    if _JOINED_INITIALS.fullmatch(parsed.given):
        # "Dr. S.W. Clark": the first initial, then a middle initial.
        middle = (*first[1:], *middle)
        first = first[:1]
    return PersonName(
        raw=display,
        first=first,
        middle=middle,
        last=" ".join(last_words),
        surnames=_surname_forms(parsed, last_words),
        nickname=_single_word(parsed.nickname),
        has_doctor_title=bool(_DOCTOR_TITLES.intersection(title_words)),
        credentials=credentials,
        generation=generation,
    )


def fold_keeping_case(text: str) -> str:
    """Transliterate accents and normalize apostrophes, keeping the case.

    nameparser reads capital letters (in "Jack MA" the MA is a credential),
    so names are folded fully only after parsing.
    """
    return anyascii(text).replace("`", "'")


def _split_suffix(suffix: str) -> tuple[tuple[str, ...], str]:
    """Split nameparser's suffix field into credentials and a generation."""
    credentials: list[str] = []
    generation = ""
    for piece in re.split(r"[,\s]+", suffix):
        token = fold(piece.replace(".", "").replace("-", "").replace("/", ""))
        if not token:
            continue
        if token in _GENERATIONS:
            generation = token
        else:
            credentials.append(token)
    return tuple(credentials), generation


def _surname_forms(parsed: ParsedName, last_words: list[str]) -> frozenset[str]:
    forms = {"".join(last_words)}
    particles = set(words(parsed.family_particles))
    for word in last_words:
        if word not in particles and len(word) > 1:
            forms.add(word)
    for maiden_word in words(parsed.maiden):
        forms.add(maiden_word)
    return frozenset(forms)


def _single_word(text: str) -> str:
    folded = words(text)
    return folded[0] if len(folded) == 1 else ""


def blocking_keys_of_text(display: str) -> set[str]:
    """Return the keys under which a display name's surname may be indexed.

    This runs before parsing, on every word of the name, so that "Patel
    Anil" (no comma) and typos in the tail of a surname still find their
    candidates.  Single letters are skipped.
    """
    keys: set[str] = set()
    for word in words(display):
        keys.update(_word_keys(word))
    return keys


def blocking_keys_of_name(name: PersonName) -> set[str]:
    """Return the keys under which a known person is indexed by surname.

    Middle names are included because a first surname is often parsed as
    one ("Maria Hernandez Bartlett").
    """
    keys: set[str] = set()
    for form in (*name.surnames, *name.middle):
        keys.update(_word_keys(form))
    return keys


def _word_keys(word: str) -> tuple[str, ...]:
    # The four-letter prefix lets "Lopes" find "Lopez".
    if len(word) < 2:
        return ()
    if len(word) >= 5:
        return (word, word[:4])
    return (word,)


@functools.lru_cache(maxsize=65_536)
def given_names_related(first: str, other: str) -> bool:
    """Tell whether two folded given names are one a nickname of the other.

    Uses the nicknames package both ways, so Bob and Robert, and Liz and
    Elizabeth, are related.  Two nicknames of the same name (Liz and Beth)
    are not, because they are as often two people.
    """
    if first == other:
        return True
    namer = _nicknamer()
    related = namer.nicknames_of(first) | namer.canonicals_of(first)
    if other in related:
        return True
    return first in (namer.nicknames_of(other) | namer.canonicals_of(other))


def compare_names(query: PersonName, known: PersonName) -> float:
    """Score from 0 to 1 how well `query` names the person `known`.

    1.0 is the same given name and surname.  A nickname, an initial, a
    surname part or a small typo lowers the score a little, and a different
    given name lowers it to about 0.3.  Names written family-first without
    a comma ("Patel Anil") are also tried in swapped order.
    """
    query, known = _align_double_surnames(query, known)
    score = _surname_score(query.last_key, query.surnames, known)
    if score:
        score *= _given_score(query.first, query, known)
    if query.first and score < 1.0:
        swapped = _surname_score(query.first, frozenset({query.first}), known)
        if swapped:
            swapped *= _given_score(query.last_key, query, known) * _SWAPPED_ORDER
            score = max(score, swapped)
    if _middles_conflict(query.middle, known.middle):
        score *= _MIDDLE_CONFLICT
    if query.generation and known.generation and query.generation != known.generation:
        score *= _GENERATION_CONFLICT
    return score


def _align_double_surnames(
    query: PersonName, known: PersonName
) -> tuple[PersonName, PersonName]:
    """Read a single middle word as a first surname where the other name does.

    "Kimberly Hodge Spears" parses with the middle name "hodge", which is
    the first surname of "Kimberly N Hodge Spears, MD".
    """
    if query.middle and _joined_with_last_middle(query) == known.last_key:
        return _with_last_middle_in_surname(query), known
    if known.middle and _joined_with_last_middle(known) == query.last_key:
        return query, _with_last_middle_in_surname(known)
    return query, known


def _joined_with_last_middle(name: PersonName) -> str:
    return name.middle[-1] + name.last_key


def _with_last_middle_in_surname(name: PersonName) -> PersonName:
    last = f"{name.middle[-1]} {name.last}"
    return dataclasses.replace(
        name,
        middle=name.middle[:-1],
        last=last,
        surnames=name.surnames | {last.replace(" ", ""), name.middle[-1]},
    )


def _surname_score(last_key: str, forms: frozenset[str], known: PersonName) -> float:
    if not last_key:
        return 0.0
    if last_key == known.last_key:
        return 1.0
    if last_key in known.surnames or known.last_key in forms:
        return _SURNAME_PART
    if forms & known.surnames:
        return _SURNAME_PART
    if last_key in known.middle and len(last_key) > 1:
        return _SURNAME_IN_MIDDLE
    if min(len(last_key), len(known.last_key)) < 4:
        return 0.0
    similarity = JaroWinkler.normalized_similarity(last_key, known.last_key)
    if similarity < _SURNAME_FUZZY_MIN:
        return 0.0
    return similarity * _SURNAME_FUZZY_FACTOR


def _given_score(first: str, query: PersonName, known: PersonName) -> float:
    if not first or not known.first:
        return _GIVEN_MISSING
    if first == known.first:
        return 1.0
    if first in known.middle or known.first in query.middle:
        return _GIVEN_MIDDLE
    if len(first) == 1 or len(known.first) == 1:
        return _GIVEN_INITIAL if first[0] == known.first[0] else _GIVEN_CONFLICT
    if given_names_related(first, known.first):
        return _GIVEN_NICKNAME
    nicknames = {name for name in (query.nickname, known.nickname) if name}
    if nicknames & {first, known.first}:
        return _GIVEN_NICKNAME
    similarity = JaroWinkler.normalized_similarity(first, known.first)
    if similarity >= _SURNAME_FUZZY_MIN:
        return similarity * _GIVEN_FUZZY_FACTOR
    return _GIVEN_CONFLICT


def _middles_conflict(middle: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Tell whether both names give middle names and no initial is shared."""
    if not middle or not other:
        return False
    return not {word[0] for word in middle} & {word[0] for word in other}


def parse_local_part(address: str) -> PersonName | None:
    """Parse a dotted local part ("maria.lopez@...") as a name, or return None.

    Only local parts of letters joined by "." or "_" qualify, so role
    addresses such as "frontdesk@" and "ridgeway-frontdesk@" give no name.
    """
    local = address.rpartition("@")[0]
    if not _DOTTED.fullmatch(local):
        return None
    return parse_person_name(local)
