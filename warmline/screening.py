"""Subject screening: keep, drop or redact patient identifiers in subjects.

A clinic's mail subjects often name the patient a message is about.  The
workspace's subject mode decides what an activity stores: the subject with
patient identifiers replaced by ``[redacted]`` (the default), no subject at
all, or the subject as written.

Redaction applies the rules in ``RULES`` in order.  Each rule keeps its cue
and replaces only the identifier that follows it:

- ``birth date after cue``: DOB, D.O.B., "date of birth", "birth date",
  "birthday" or "born" followed by a date in any common form (04/12/1961,
  4-12-61, 4.12.61, 1961-04-12, Apr 12, 1961, 12 April 1961, 12-Apr-61,
  04121961) or by a year or month and year alone ("DOB: 1961").
- ``SSN after cue``: SSN, SS# or "social security (no|number|#)" followed
  by 9 digits, the last 4 digits, or a masked form such as xxx-xx-1234.
- ``SSN``: 123-45-6789 or 123 45 6789 anywhere.
- ``medical record number``: MRN, MR#, "MR No", "med rec" (optionally
  with no or #), "medical record (no|number|#)", "record (#|no|number)",
  "chart (#|no|number)", and "acct" or "account" (optionally with no,
  number or #) followed by an identifier with at least three digits in a
  row (MRN 00482913, acct 4412).
- ``insurance member id``: "member", "subscriber", "policy", "insurance",
  "ins", "Medicare", "Medicaid" or "beneficiary" with ID, # or number, and
  MBI, followed by an identifier that contains a digit (member ID
  ABC123456, Medicare ID 1EG4-TE5-MK73).
- ``bare birth date``: a full date with a year (forms as above, without
  the eight-digit one) and no cue, when its year is before 2010 or is a
  two-digit year from 30 to 99.  A later year reads as a visit or meeting
  date, and a date without a year ("Lunch 3/14") is never redacted.
- ``name after patient``: "patient", "patient name", "pt" or "pt." (with a
  lower-case t, because "PT" means physical therapy) followed by a name:
  one to four capitalised words or initials, or "Last, First".
- ``name after honorific``: Mr., Mrs., Ms., Mx. or Miss followed by a name,
  anywhere in the subject.  "Dr." is not an honorific here, so provider
  names stay.
- ``name after referral cue``: "re:", "ref:", "regarding", "referral:" or
  "referral -", or one of "referral", "ref", "eval", "evaluation", "appt",
  "appointment", "visit", "note", "notes", "plan of care", "POC",
  "summary", "auth", "authorization", "order", "rx", "script", "update",
  "follow-up" or "f/u" followed by "for", "on" or "re".  The name after
  the cue needs at least two words, or an initial and a surname.

A name ends at the first word in ``NOT_NAME_WORDS`` (common subject words,
weekdays, months, body parts, titles).  A name directly followed by a word
in ``PRACTICE_WORDS`` ("Maple Grove Pediatrics", "Lakeside Ortho") is a
practice, not a person, and is kept.

NOTE: names are recognised by capitalisation, so an all-lower-case or
all-capitals name is missed, and a bare two-word place name after "re:"
("Re: Prairie View") is redacted as if it were a person.  Letters outside
Latin-1 and Latin Extended-A are not treated as name letters.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable

REDACTED = "[redacted]"
"""Marker that replaces each redacted identifier."""

BIRTH_YEAR_CUTOFF = 2010
"""A bare four-digit-year date before this year is read as a birth date."""


class SubjectMode(enum.StrEnum):
    """Subject handling for stored activities: redact, drop or keep in full."""

    REDACT = "redact"
    DROP = "drop"
    FULL = "full"


def screen_subject(
    subject: str | None, mode: SubjectMode = SubjectMode.REDACT
) -> str | None:
    """Return the subject to store under `mode`.

    DROP returns None, FULL returns `subject` unchanged, and REDACT returns
    it with patient identifiers replaced by ``[redacted]``.  None stays None.
    """
    if subject is None or mode is SubjectMode.DROP:
        return None
    if mode is SubjectMode.FULL:
        return subject
    return redact_subject(subject)


def redact_subject(subject: str) -> str:
    """Replace patient identifiers in `subject` with ``[redacted]``."""
    for rule in RULES:
        subject = _apply_rule(rule, subject)
    return subject


def _apply_rule(rule: Rule, text: str) -> str:
    """Apply one rule everywhere in `text`, like `re.sub` but overlapping.

    When a rule keeps a match as it is, the search resumes one character
    after the match's start rather than after its end, so that in
    "Re: Plan of care for Jane Doe" the rejected "Re: Plan" does not hide
    the cue "Plan of care for".
    """
    pieces = []
    kept_until = 0
    search_from = 0
    while (match := rule.pattern.search(text, search_from)) is not None:
        replacement = rule.replace(match)
        if replacement == match.group(0):
            search_from = match.start() + 1
            continue
        pieces += [text[kept_until : match.start()], replacement]
        kept_until = search_from = max(match.end(), match.start() + 1)
    pieces.append(text[kept_until:])
    return "".join(pieces)


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
       |(?:record|chart)\s*(?:no\b\.?|number|\#)
       |acc(?:oun)?t\b\.?(?:\s*(?:no\b\.?|number|\#))?)
    \s*[:#.]?\s*
"""
_RECORD_VALUE = r"[a-z]{0,3}-?\d{3,}(?:-\d+)*\b"
_SSN_CUE = r"""
    \b(?:ssn|ss\s?\#|soc(?:ial)?\.?\s+sec(?:urity)?\.?(?:\s+(?:no\b\.?|number|\#))?)
    \s*[:#]?\s*
"""
_SSN_VALUE = r"(?:\d{3}-?\d{2}-?\d{4}|[x*]{3}-?[x*]{2}-?\d{4}|\d{4})\b"
_MEMBER_CUE = r"""
    \b(?:(?:member|subscriber|policy|insurance|ins\.?|medicare|medicaid
          |beneficiary)\s*(?:id\b|\#|no\b\.?|number)
       |mbi\b)
    \s*[:#.]?\s*
"""
_MEMBER_VALUE = r"(?=[a-z-]*\d)[a-z0-9][a-z0-9-]{4,}\b"

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿĀ-ſ"
# A capitalised word such as Doe, O'Brien, McDonald, DeLuca or Kim-Whitfield,
# or an initial such as "J." or "J" that is followed by a space.
_NAME_WORD = rf"""
    (?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)*
    (?:[-'’][{_UPPER}][{_LOWER}]+)*
  | [{_UPPER}]\.?(?=\s)
"""
_NAME = rf"(?P<name>(?:{_NAME_WORD})(?:(?:\s+|,\s*)(?:{_NAME_WORD})){{0,3}})"
_NAME_WORD_PATTERN = re.compile(_NAME_WORD, re.VERBOSE)

_PATIENT_CUE = r"(?:\b(?i:patient)(?:\s+(?i:name))?|\b[Pp]t\b\.?)\s*[:#-]?\s+"
_HONORIFIC_CUE = r"\b(?:Mr|Mrs|Ms|Mx|Miss)\b\.?\s+"
_REFERRAL_CUE = r"""
    (?i:
        \b(?:re|regarding|referral|ref)\s*:\s*
      | \breferral\s*[-–]\s*
      | \bregarding\s+
      | \b(?:referral|ref|eval(?:uation)?|appt|appointment|visit|notes?
           |plan\s+of\s+care|poc|summary|auth(?:orization)?|order|rx|script
           |update|follow[- ]?up|f/u)
        \s+(?:for|on|re)\s+
    )
"""

PRACTICE_WORDS = frozenset(
    """
    associates care center centre chiropractic clinic clinics family group
    health healthcare hospital im institute internal med medical medicine
    network neurology ortho orthopaedic orthopaedics orthopedic orthopedics
    partners pediatric pediatrics peds physicians podiatry practice primary
    rehab specialists spine sports surgery system therapy urgent university
    wellness geriatrics fm
    """.split()
)
"""Words that end a practice's name.  A name followed by one is kept."""

NOT_NAME_WORDS = PRACTICE_WORDS | frozenset(
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
    mr mrs ms mx miss prof md do np pa dpm pt ot
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
)
"""Words that never start or continue a name, compared in lower case."""


# Replacement functions.


def _redact_value(match: re.Match[str]) -> str:
    return match.group("cue") + REDACTED


def _redact_whole(match: re.Match[str]) -> str:
    return REDACTED


_YEAR_GROUPS = ("year1", "year2", "year3", "year4")


def _redact_old_date(match: re.Match[str]) -> str:
    year = next(value for value in match.group(*_YEAR_GROUPS) if value)
    if _is_birth_year(year):
        return REDACTED
    return match.group(0)


def _is_birth_year(year: str) -> bool:
    digits = year.lstrip("'")
    if len(digits) == 2:
        return int(digits) >= 30
    return int(digits) < BIRTH_YEAR_CUTOFF


def _name_redactor(min_words: int) -> Callable[[re.Match[str]], str]:
    """Make a replacement that redacts the leading name words of a match.

    The candidate in group ``name`` is cut at the first word that is not a
    name word.  A candidate left with fewer than `min_words` words, or
    followed by a practice word, stays as it was.
    """

    def replace(match: re.Match[str]) -> str:
        candidate = match.group("name")
        words = list(_NAME_WORD_PATTERN.finditer(candidate))
        name_length = 0
        while name_length < len(words) and not _is_common_word(
            words[name_length].group()
        ):
            name_length += 1
        if name_length < min_words:
            return match.group(0)

        next_word = words[name_length].group() if name_length < len(words) else ""
        if _is_practice_word(next_word):
            return match.group(0)

        end = words[name_length - 1].end()
        return match.group("cue") + REDACTED + candidate[end:]

    return replace


def _is_common_word(word: str) -> bool:
    return word.rstrip(".").casefold() in NOT_NAME_WORDS


def _is_practice_word(word: str) -> bool:
    return word.rstrip(".").casefold() in PRACTICE_WORDS


@dataclasses.dataclass(frozen=True)
class Rule:
    """One kind of patient identifier: its pattern and its replacement."""

    name: str
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str]


def _rule(
    name: str, pattern: str, replace: Callable[[re.Match[str]], str], flags: int = 0
) -> Rule:
    return Rule(name, re.compile(pattern, re.VERBOSE | flags), replace)


_I = re.IGNORECASE

# Identifiers with a cue run first, so a date after "DOB" is redacted even
# when its year is recent.  Names run last, so a redacted identifier never
# looks like part of a name.
RULES: tuple[Rule, ...] = (
    _rule(
        "birth date after cue",
        rf"(?P<cue>{_BIRTH_CUE}){_BIRTH_VALUE}",
        _redact_value,
        _I,
    ),
    _rule("SSN after cue", rf"(?P<cue>{_SSN_CUE}){_SSN_VALUE}", _redact_value, _I),
    _rule("SSN", r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])", _redact_whole),
    _rule(
        "medical record number",
        rf"(?P<cue>{_RECORD_CUE}){_RECORD_VALUE}",
        _redact_value,
        _I,
    ),
    _rule(
        "insurance member id",
        rf"(?P<cue>{_MEMBER_CUE}){_MEMBER_VALUE}",
        _redact_value,
        _I,
    ),
    _rule("bare birth date", _FULL_DATE, _redact_old_date, _I),
    _rule("name after patient", rf"(?P<cue>{_PATIENT_CUE}){_NAME}", _name_redactor(1)),
    _rule(
        "name after honorific", rf"(?P<cue>{_HONORIFIC_CUE}){_NAME}", _name_redactor(1)
    ),
    _rule(
        "name after referral cue",
        rf"(?P<cue>{_REFERRAL_CUE}){_NAME}",
        _name_redactor(2),
    ),
)
"""The redaction rules in the order they apply; the module docstring lists them."""
