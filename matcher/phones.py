"""Phone numbers written in meeting locations and subjects, as E.164."""

from __future__ import annotations

import functools
import re

import phonenumbers

# NOTE: MatchSettings has no region yet, so numbers written without a
# country code are read as United States numbers.
DEFAULT_REGION = "US"

# A national number has at least seven digits, written together or split
# by spaces, dots, dashes or brackets.  Texts without such a run skip the
# phonenumbers matcher, which is slow (about 0.4 ms per call, measured on a
# test text).  A street address and a ZIP code ("3228 Fifth Pkwy, IL 62778")
# have seven digits but no such run.
_DIGIT_RUN = re.compile(r"(?:\d[\s().\-/]{0,3}){7}")


@functools.lru_cache(maxsize=16_384)
def find_phone_numbers(text: str, region: str = DEFAULT_REGION) -> tuple[str, ...]:
    """Return the valid phone numbers in a text, in E.164 and in order.

    Uses phonenumbers' matcher at its default leniency (VALID), so
    fictitious numbers such as 555-0100 and bare digit runs such as a
    meeting id are skipped.
    """
    if not _DIGIT_RUN.search(text):
        return ()
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        number = phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.E164
        )
        if number not in found:
            found.append(number)
    return tuple(found)


def normalize_phone_number(text: str, region: str = DEFAULT_REGION) -> str | None:
    """Return one phone number in E.164, or None when it cannot be parsed.

    Source records should already contain E.164, but any written form is
    accepted so that an index built from hand-entered data still works.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
