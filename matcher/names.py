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
from typing import NamedTuple

from anyascii import anyascii
from nameparser import Lexicon, Parser
from nicknames import NickNamer
from rapidfuzz.distance import OSA, JaroWinkler

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
GIVEN_CONFLICT = _GIVEN_CONFLICT
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
    an address.  A group tag after a colon ("Patel, Anil:REFERRALS"), a
    "via" list suffix and an organisation after a bar ("Ann Lee | Acme") are
    removed, and a dotted name such as "thao.nguyen" becomes "thao nguyen".
    """
    name = display.strip().strip(_QUOTES)
    if not name or "@" in name:
        return None
    name = name.split(":", 1)[0]
    name = _VIA.sub("", name).strip().strip(_QUOTES)
    name = name.split(" | ", 1)[0].strip()
    if _DOTTED.fullmatch(name):
        name = re.sub(r"[._]", " ", name)
    return name or None


class _NameParts(NamedTuple):
    """A name split into the fields of nameparser's ParsedName, as written."""

    title: str = ""
    given: str = ""
    middle: str = ""
    family: str = ""
    suffix: str = ""
    nickname: str = ""
    maiden: str = ""
    family_particles: str = ""


@functools.lru_cache(maxsize=65_536)
def parse_person_name(display: str) -> PersonName | None:
    """Parse a display name into a `PersonName`.

    Returns None when no surname can be found: an empty name, an address
    used as a name, or a single word such as "Anil".
    """
    cleaned = clean_display_name(display)
    if cleaned is None:
        return None
    text = fold_keeping_case(cleaned)
    parts = split_simple_name(text) or split_with_nameparser(text)
    return name_from_parts(display, parts)


def split_with_nameparser(text: str) -> _NameParts:
    """Split a name with nameparser, which handles particles, titles and more."""
    parsed = _parser().parse(text)
    return _NameParts(
        parsed.title,
        parsed.given,
        parsed.middle,
        parsed.family,
        parsed.suffix,
        parsed.nickname,
        parsed.maiden,
        parsed.family_particles,
    )


def name_from_parts(display: str, parts: _NameParts) -> PersonName | None:
    """Fold split name parts into a `PersonName`, or None without a surname."""
    middle = tuple(words(parts.middle))
    last_words = words(parts.family)
    if not last_words:
        return None

    # "Maria Elena Ruiz Soto": nameparser reads middle "Elena Ruiz", family
    # "Soto".  With two or more middle words the last one is most often a
    # first surname, as in Spanish names and in maiden-plus-married names.
    if len(middle) >= 2 and len(middle[-1]) > 1:
        last_words = [middle[-1], *last_words]
        middle = middle[:-1]

    credentials, generation = _split_suffix(parts.suffix)
    title_words = words(parts.title)
    first = fold(parts.given).replace(" ", "")
    if not first and title_words and title_words[-1] not in _HONORIFICS:
        first = title_words[-1]
    if _JOINED_INITIALS.fullmatch(parts.given):
        # "Dr. S.W. Clark": the first initial, then a middle initial.
        middle = (*first[1:], *middle)
        first = first[:1]

    return PersonName(
        raw=display,
        first=first,
        middle=middle,
        last=" ".join(last_words),
        surnames=_surname_forms(parts, last_words),
        nickname=_single_word(parts.nickname),
        has_doctor_title=bool(_DOCTOR_TITLES.intersection(title_words)),
        credentials=credentials,
        generation=generation,
    )


# -- the fast path for common name shapes ------------------------------------

# Letters, spaces, commas, full stops, apostrophes and hyphens only: anything
# else (brackets, quotes, digits, "&") goes to nameparser.
_SIMPLE_TEXT = re.compile(r"[A-Za-z][A-Za-z .,'-]*")
_SIMPLE_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*\.?")
_SIMPLE_INITIAL = re.compile(r"[A-Za-z]\.?")
_MAX_SIMPLE_WORDS = 4


def split_simple_name(text: str) -> _NameParts | None:
    """Split a name of a common shape without nameparser, or return None.

    Handles "First [Middle...] Last", "Last, First [Middle]", an honorific
    such as "Dr." before them and credentials after them ("MD", ", PA-C",
    ", M.D.").  Returns None, so that nameparser decides, whenever a word is
    in nameparser's vocabulary of titles, particles, conjunctions or
    suffixes anywhere else, or the name has another shape.  A test checks
    that both paths agree on the names they both accept.
    """
    if not _SIMPLE_TEXT.fullmatch(text):
        return None
    pieces = [piece.strip() for piece in text.split(",")]
    if not all(pieces):
        return None
    head = pieces[0].split()
    tail = [piece.split() for piece in pieces[1:]]
    given_words: list[str] | None = None
    if tail and not all(_is_credential(word, after_comma=True) for word in tail[0]):
        # "Lopez, Maria L.": the given names follow the comma.
        given_words, tail = tail[0], tail[1:]
    suffix = [word for piece in tail for word in piece]
    if not all(_is_credential(word, after_comma=True) for word in suffix):
        return None
    title = ""
    if given_words is None and head and _vocabulary_key(head[0]) in _HONORIFICS:
        title, head = head[0], head[1:]
    if given_words is None:
        while len(head) > 2 and _is_credential(head[-1], after_comma=False):
            suffix.insert(0, head.pop())
        return _simple_parts(title, head, suffix)
    if len(head) != 1:
        return None
    # The given names end this shape, so a suffix may hide among them.
    if any(_in_vocabulary(word, final=True, first=False) for word in given_words):
        return None
    return _simple_parts(title, [*given_words, head[0]], suffix)


def _simple_parts(title: str, names: list[str], suffix: list[str]) -> _NameParts | None:
    if not names or len(names) > _MAX_SIMPLE_WORDS:
        return None
    if len(names) == 1 and not title:
        # A single word ("Billing", "Anil") is a given name to nameparser,
        # and a name without a surname is no person.
        if _SIMPLE_WORD.fullmatch(names[0]) and not _in_vocabulary(
            names[0], final=True, first=True
        ):
            return _NameParts(given=names[0], suffix=", ".join(suffix))
        return None
    last = len(names) - 1
    for position, word in enumerate(names):
        if _SIMPLE_INITIAL.fullmatch(word):
            continue
        if not _SIMPLE_WORD.fullmatch(word):
            return None
        # nameparser reads a suffix only at the end, and a title only at
        # the start, so elsewhere those words are plain names.
        if _in_vocabulary(word, final=position == last, first=position == 0):
            return None
    if len(names) == 1:
        return _NameParts(title=title, family=names[0], suffix=", ".join(suffix))
    return _NameParts(
        title=title,
        given=names[0],
        middle=" ".join(names[1:-1]),
        family=names[-1],
        suffix=", ".join(suffix),
    )


def _vocabulary_key(word: str) -> str:
    return word.lower().strip(".")


def _is_credential(word: str, after_comma: bool) -> bool:
    """Tell whether a word is a credential nameparser reads as a suffix.

    Some acronyms are also surnames ("DO", "MA"), so without a comma or
    full stops they are left to nameparser.  Generations ("Jr.", "III")
    are left to it too.
    """
    lexicon = _parser().lexicon
    key = _vocabulary_key(word)
    if key in _GENERATIONS or key in lexicon.suffix_words:
        return False
    plain = key.replace(".", "")
    if plain not in lexicon.suffix_acronyms:
        return False
    if plain in lexicon.suffix_acronyms_ambiguous:
        return after_comma or "." in word
    if "." in key and not _JOINED_INITIALS.fullmatch(word):
        return False
    return True


_ANYWHERE_FIELDS = (
    "particles",
    "conjunctions",
    "bound_given_names",
    "maiden_markers",
    "surnames",
    "after_given_titles",
)
_FIRST_FIELDS = ("titles", "given_name_titles")
_FINAL_FIELDS = ("suffix_acronyms", "suffix_words")


@functools.cache
def _vocabulary(fields: tuple[str, ...]) -> frozenset[str]:
    """Return the words of these fields of nameparser's vocabulary."""
    lexicon = _parser().lexicon
    vocabulary: set[str] = set()
    for field in fields:
        vocabulary.update(getattr(lexicon, field))
    return frozenset(vocabulary)


@functools.lru_cache(maxsize=65_536)
def _in_vocabulary(word: str, final: bool, first: bool) -> bool:
    """Tell whether nameparser may read a word at this place as no plain name."""
    fields: tuple[str, ...] = _ANYWHERE_FIELDS
    if first:
        fields += _FIRST_FIELDS
    if final:
        fields += _FINAL_FIELDS
    vocabulary = _vocabulary(fields)
    key = _vocabulary_key(word)
    return key in vocabulary or key.replace("-", "") in vocabulary


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


def _surname_forms(parts: _NameParts, last_words: list[str]) -> frozenset[str]:
    forms = {"".join(last_words)}
    particles = set(words(parts.family_particles))
    for word in last_words:
        if word not in particles and len(word) > 1:
            forms.add(word)
    for maiden_word in words(parts.maiden):
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


def blocking_keys_of_words(name: PersonName) -> set[str]:
    """Return the keys of every word of a parsed name, for comparing it.

    A known person whose `blocking_keys_of_name` shares none of these keys
    cannot reach a useful similarity with the name: a surname matches by a
    form, a part, or a typo, which leaves a typo key in common.
    """
    keys: set[str] = set()
    for word in (name.last_key, *name.surnames, name.first, *name.middle):
        keys.update(_word_keys(word))
    return keys


def _word_keys(word: str) -> tuple[str, ...]:
    if len(word) < 2:
        return ()
    return (word, *typo_keys(word))


def typo_keys(word: str) -> tuple[str, ...]:
    """Return keys that two words share when one typing slip separates them.

    The keys are the word and every form of it with one letter deleted, as
    in symmetric-delete spelling correction.  A replaced letter, a swap of
    two neighbours, and an added or dropped letter all leave one key shared
    ("Lpoez" and "Lopez" share "loez").  Words under four letters get none,
    because one slip changes them too much.  The keys carry a marker so that
    they never equal a word key of `blocking_keys_of_text`.
    """
    if len(word) < 4:
        return ()
    deletions = (f"~{word[:i]}{word[i + 1 :]}" for i in range(len(word)))
    return (f"~{word}", *deletions)


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
    if first in (namer.nicknames_of(other) | namer.canonicals_of(other)):
        return True
    # The package lists Kate under Katherine but not under Catherine, so a
    # full name one letter from a listed one counts as that name.
    if len(other) >= 5 and any(
        len(name) >= 5 and OSA.distance(name, other, score_cutoff=1) <= 1
        for name in namer.canonicals_of(first)
    ):
        return True
    return len(first) >= 5 and any(
        len(name) >= 5 and OSA.distance(name, first, score_cutoff=1) <= 1
        for name in namer.canonicals_of(other)
    )


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
    # A typo in one part of a double surname ("Colins" for Chadbury Collins)
    # is compared with that part.
    similarity = max(
        (_typo_similarity(last_key, form) for form in known.surnames),
        default=0.0,
    )
    similarity = max(similarity, _typo_similarity(last_key, known.last_key))
    if similarity < _SURNAME_FUZZY_MIN:
        return 0.0
    return similarity * _SURNAME_FUZZY_FACTOR


def _typo_similarity(word: str, other: str) -> float:
    """Score two words that may differ by a typing slip, from 0 to 1.

    The score is the Jaro-Winkler similarity, raised to _SURNAME_FUZZY_MIN
    when the words are five letters or longer and one edit apart (a letter
    added, dropped or replaced, or two letters swapped).  Jaro-Winkler
    scores an early slip in a short word low ("Daois" and "Davis" score
    0.89, under the minimum of 0.9).  Words under four letters score 0,
    since one slip changes them too much.
    """
    if min(len(word), len(other)) < 4:
        return 0.0
    similarity = JaroWinkler.normalized_similarity(word, other)
    if similarity < _SURNAME_FUZZY_MIN and min(len(word), len(other)) >= 5:
        if OSA.distance(word, other, score_cutoff=1) <= 1:
            return _SURNAME_FUZZY_MIN
    return similarity


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
    similarity = _typo_similarity(first, known.first)
    if similarity >= _SURNAME_FUZZY_MIN:
        return similarity * _GIVEN_FUZZY_FACTOR
    return _GIVEN_CONFLICT


@functools.lru_cache(maxsize=65_536)
def given_name_family(first: str) -> frozenset[str]:
    """Return a folded given name with its nicknames and the names it
    shortens, as the nicknames package lists them."""
    namer = _nicknamer()
    return frozenset({first, *namer.nicknames_of(first), *namer.canonicals_of(first)})


def given_names_may_agree(query: PersonName, known: PersonName) -> bool:
    """Tell cheaply whether `compare_names` could score the given names above
    a conflict.

    False means the given names conflict both as written and in swapped
    order, so the whole comparison can be skipped.  A given name that
    starts with the same letter, appears among the other's middle names,
    or is a nickname of the other may agree.
    """
    if not known.first:
        return True
    for given in (query.first, query.last_key):
        if not given or given[0] == known.first[0]:
            return True
        if given in known.middle or known.first in query.middle:
            return True
        if known.first in given_name_family(given):
            return True
        if given in given_name_family(known.first):
            return True
    nicknames = {query.nickname, known.nickname} - {""}
    return bool(nicknames & {query.first, known.first})


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
