"""Rows of a referrals file: patient-data columns, values and source look-up.

A referrals file carries dates, referring sources, counts and opaque referral
ids, never patient details.  `patient_column` recognises a header that looks
like patient data so the import can reject the whole file before reading a
row.  `SourceDirectory` finds the referring source by NPI, by provider or
practice name, or by the practice's postal address.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable

from anyascii import anyascii

# Words that mark a header as patient data, with what it seems to hold.
# Headers are compared word by word after folding to lower case and
# splitting on anything that is not a letter or a digit.
PATIENT_WORDS = {
    "patient": "a patient's details",
    "patients": "a patient's details",
    "pt": "a patient's details",
    "dob": "a date of birth",
    "birth": "a date of birth",
    "birthdate": "a date of birth",
    "birthday": "a date of birth",
    "age": "a patient's age",
    "sex": "a patient's sex",
    "gender": "a patient's gender",
    "mrn": "a medical record number",
    "chart": "a medical record number",
    "ssn": "a social security number",
    "social": "a social security number",
    "diagnosis": "a diagnosis",
    "diagnoses": "a diagnosis",
    "dx": "a diagnosis",
    "icd": "a diagnosis code",
    "icd10": "a diagnosis code",
    "insurance": "insurance details",
    "insurer": "insurance details",
    "member": "an insurance member id",
    "subscriber": "an insurance member id",
    "policy": "an insurance policy number",
    "medicaid": "insurance details",
    "medicare": "insurance details",
}
PATIENT_PHRASES = {
    ("medical", "record"): "a medical record number",
    ("date", "of", "birth"): "a date of birth",
}
# A bare name column says nothing of whose name it holds.
NAME_HEADERS = {"name", "first_name", "last_name", "full_name", "surname"}

CREDENTIALS = {
    "md", "do", "np", "pa", "pac", "c", "dpm", "cpnp", "fnp", "rn", "phd", "dc",
    "dr", "mr", "mrs", "ms", "jr", "sr",
}  # fmt: skip
STREET_WORDS = {
    "street": "st",
    "drive": "dr",
    "avenue": "ave",
    "boulevard": "blvd",
    "road": "rd",
    "suite": "ste",
    "parkway": "pkwy",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "plaza": "plz",
    "way": "way",
}
# Header variants (after csvfile.normalize_header) and the column each names.
REFERRAL_COLUMNS = {
    "date": "date",
    "received": "date",
    "received_on": "date",
    "date_received": "date",
    "received_date": "date",
    "referral_date": "date",
    "practice": "practice",
    "practice_name": "practice",
    "referring_practice": "practice",
    "clinic": "practice",
    "provider": "provider",
    "provider_name": "provider",
    "referring_provider": "provider",
    "physician": "provider",
    "referring_physician": "provider",
    "doctor": "provider",
    "source": "source",
    "referring_source": "source",
    "referral_source": "source",
    "referred_by": "source",
    "npi": "npi",
    "provider_npi": "npi",
    "referring_npi": "npi",
    "address": "address",
    "practice_address": "address",
    "count": "count",
    "referrals": "count",
    "referral_count": "count",
    "number": "count",
    "referral_id": "referral_id",
    "id": "referral_id",
    "ref": "referral_id",
    "reference": "referral_id",
    "external_id": "referral_id",
    "referral_number": "referral_id",
}
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def patient_column(header: str) -> str | None:
    """Return what a header seems to hold if it looks like patient data, else None."""
    words = _words(header)
    joined = "_".join(words)
    if joined in NAME_HEADERS:
        return "a person's name, maybe a patient's"
    compact = "".join(words)  # "D.O.B." and "S.S.N." as one word
    if compact in PATIENT_WORDS:
        return PATIENT_WORDS[compact]
    for word in words:
        if word in PATIENT_WORDS:
            return PATIENT_WORDS[word]
    for phrase, meaning in PATIENT_PHRASES.items():
        size = len(phrase)
        if any(tuple(words[i : i + size]) == phrase for i in range(len(words))):
            return meaning
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", anyascii(text).lower())


def parse_date(text: str, today: dt.date) -> dt.date:
    """Parse YYYY-MM-DD or M/D/YYYY; raise ValueError for other or future dates."""
    value = text.strip()
    us_date = US_DATE.match(value)
    try:
        if us_date:
            month, day, year = (int(part) for part in us_date.groups())
            parsed = dt.date(year, month, day)
        else:
            parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"date {text!r} is not a date; write it as YYYY-MM-DD or M/D/YYYY"
        ) from None
    if parsed > today:
        raise ValueError(f"date {text!r} is in the future; correct the date")
    return parsed


def parse_count(text: str) -> int:
    """Parse the referral count; an empty cell means one referral."""
    value = text.strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) == 0:
        raise ValueError(f"count {text!r} is not a positive whole number")
    return int(value)


@dataclasses.dataclass(frozen=True)
class DirectoryEntry:
    """A referral source as the referral import looks it up."""

    source_id: int
    kind: str
    name: str
    practice_id: int | None
    practice: str | None
    npi: str | None
    address: str | None


@dataclasses.dataclass(frozen=True)
class SourceQuery:
    """The cells of one row that name the referring source."""

    practice: str = ""
    provider: str = ""
    source: str = ""
    npi: str = ""
    address: str = ""


def person_key(name: str) -> tuple[str, str] | None:
    """Reduce a person's name to (first, last) word, without titles or degrees.

    "Maria L. Lopez, MD", "Dr. Maria Lopez" and "Lopez, Maria" give the same
    key.  Returns None for a name with fewer than two words.
    """
    parts = [part.strip() for part in anyascii(name).lower().split(",")]
    while len(parts) > 1 and _only_credentials(parts[-1]):
        parts.pop()
    text = f"{parts[1]} {parts[0]}" if len(parts) == 2 else " ".join(parts)
    words = [w for w in _plain_words(text) if w not in CREDENTIALS]
    if len(words) < 2:
        return None
    return words[0], words[-1]


def _only_credentials(text: str) -> bool:
    return all(word in CREDENTIALS for word in _plain_words(text))


def _plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.replace("-", " "))


def practice_key(name: str) -> str:
    return " ".join(_words(name))


def address_keys(address: str) -> tuple[str, str]:
    """Return (whole address, street line) reduced to comparable words."""
    whole = " ".join(STREET_WORDS.get(w, w) for w in _words(address))
    street = " ".join(STREET_WORDS.get(w, w) for w in _words(address.split(",")[0]))
    return whole, street


class SourceDirectory:
    """Finds the referring source of a row; raises ValueError naming the column."""

    def __init__(self, entries: Iterable[DirectoryEntry]) -> None:
        self._entries = list(entries)
        self._practices = [e for e in self._entries if e.kind == "practice"]
        self._people = [e for e in self._entries if e.kind != "practice"]

    def resolve(self, query: SourceQuery) -> int:
        """Return the source id: by NPI, provider, source, practice, then address."""
        if query.npi:
            return self._by_npi(query.npi)
        if query.provider:
            return self._by_person("provider", query.provider, query.practice)
        if query.source:
            return self._by_any(query.source, query.practice)
        if query.practice:
            return self._by_practice("practice", query.practice).source_id
        if query.address:
            return self._by_address(query.address)
        raise ValueError(
            "names no referring source; fill in practice, provider, npi or address"
        )

    def _by_npi(self, npi: str) -> int:
        digits = npi.replace(" ", "").replace("-", "")
        found = [e for e in self._entries if e.npi and e.npi == digits]
        if not found:
            raise ValueError(
                f"npi {npi!r} matches no referral source; add the source first "
                "with 'warmline sources import'"
            )
        return self._accepted("npi", found[0]).source_id

    def _by_person(self, column: str, name: str, practice: str) -> int:
        key = person_key(name)
        found = [e for e in self._people if key and person_key(e.name) == key]
        if practice:
            practice_id = self._by_practice("practice", practice).source_id
            found = [e for e in found if e.practice_id == practice_id]
        where = f" at {practice!r}" if practice else ""
        if not found:
            raise ValueError(f"{column} {name!r} matches no provider{where}")
        if len(found) > 1:
            raise ValueError(self._ambiguous(column, name, found))
        return self._accepted(column, found[0]).source_id

    def _by_any(self, name: str, practice: str) -> int:
        key = practice_key(name)
        practices = [e for e in self._practices if practice_key(e.name) == key]
        if practices and not practice:
            return practices[0].source_id
        return self._by_person("source", name, practice)

    def _by_practice(self, column: str, name: str) -> DirectoryEntry:
        key = practice_key(name)
        for entry in self._practices:
            if practice_key(entry.name) == key:
                return entry
        raise ValueError(f"{column} {name!r} matches no practice")

    def _by_address(self, address: str) -> int:
        """Match the whole address, else a leading part of it, else its street line.

        A leading part lets a file leave out the city and ZIP code.
        """
        whole, street = address_keys(address)
        keyed = [(e, address_keys(e.address)) for e in self._practices if e.address]
        found = [entry for entry, keys in keyed if keys[0] == whole]
        if not found and " " in whole:
            found = [entry for entry, keys in keyed if keys[0].startswith(whole + " ")]
        if not found:
            found = [entry for entry, keys in keyed if keys[1] == street]
        if not found:
            raise ValueError(f"address {address!r} matches no practice's address")
        if len(found) > 1:
            raise ValueError(self._ambiguous("address", address, found))
        return found[0].source_id

    @staticmethod
    def _accepted(column: str, entry: DirectoryEntry) -> DirectoryEntry:
        if entry.kind == "contact":
            raise ValueError(
                f"{column} names {entry.name!r}, a contact at {entry.practice}; "
                "name the referring provider or the practice"
            )
        return entry

    @staticmethod
    def _ambiguous(column: str, value: str, found: list[DirectoryEntry]) -> str:
        places = ", ".join(sorted(e.practice or e.name for e in found))
        return (
            f"{column} {value!r} matches {len(found)} sources ({places}); "
            "add a practice or npi column to tell them apart"
        )
