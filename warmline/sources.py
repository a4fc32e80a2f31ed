"""Referral sources: the CSV import and the matcher's view of them.

An import validates every row before it writes any, then writes all rows in
one transaction, so a bad row leaves the database as it was.  Rows are
matched to stored sources by NPI, else by kind, practice and name, so
re-importing a file changes nothing and an edited file updates in place.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from stdnum import luhn

from matcher.records import SourceKind as MatcherKind
from matcher.records import SourceRecord
from warmline.csvfile import CsvInputError, read_rows, split_list
from warmline.models import (
    Contact,
    Practice,
    Provider,
    ReferralSource,
    SourceKind,
    StaffMember,
    Workspace,
    utcnow,
)

COLUMN_ALIASES = {
    "type": "type",
    "kind": "type",
    "source_type": "type",
    "name": "name",
    "full_name": "name",
    "practice": "practice",
    "practice_name": "practice",
    "organization": "practice",
    "organisation": "practice",
    "title": "title",
    "specialty": "title",
    "role": "title",
    "emails": "emails",
    "email": "emails",
    "e_mail": "emails",
    "email_address": "emails",
    "e_mail_address": "emails",
    "email_addresses": "emails",
    "domains": "domains",
    "aliases": "aliases",
    "alias": "aliases",
    "other_names": "aliases",
    "domain": "domains",
    "email_domains": "domains",
    "phones": "phones",
    "phone": "phones",
    "phone_number": "phones",
    "phone_numbers": "phones",
    "telephone": "phones",
    "address": "address",
    "street_address": "address",
    "postal_address": "address",
    "npi": "npi",
    "owner": "owner",
    "owner_email": "owner",
    "cadence_days": "cadence_days",
    "cadence": "cadence_days",
}

KINDS = {
    "practice": SourceKind.PRACTICE,
    "provider": SourceKind.PROVIDER,
    "contact": SourceKind.CONTACT,
}
MODEL_FOR_KIND: dict[SourceKind, type[ReferralSource]] = {
    SourceKind.PRACTICE: Practice,
    SourceKind.PROVIDER: Provider,
    SourceKind.CONTACT: Contact,
}
FailFactory = Callable[[str, str], CsvInputError]
DOMAIN_PATTERN = re.compile(
    r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$"
)


@dataclasses.dataclass
class SourceRow:
    """One validated CSV row."""

    line: int
    kind: SourceKind
    name: str
    practice: str | None
    title: str | None
    emails: list[str]
    domains: list[str]
    phones: list[str]
    address: str | None
    npi: str | None
    aliases: list[str]
    owner: str | None
    cadence_days: int | None

    @property
    def import_key(self) -> str:
        return import_key(self.kind, self.practice, self.name)


@dataclasses.dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


def import_key(kind: SourceKind, practice: str | None, name: str) -> str:
    return f"{kind.value}|{fold(practice or '')}|{fold(name)}"


def import_sources(
    session: Session, workspace: Workspace, path: Path, phone_region: str = "US"
) -> ImportSummary:
    """Validate every row of `path`, then create or update the sources.

    Raises CsvInputError naming the file, line and value of the first bad
    row; nothing is written in that case.
    """
    rows = list(parse_rows(path, phone_region))
    _check_file(path, rows, session, workspace)
    owners = _resolve_owners(path, rows, session, workspace)
    summary = ImportSummary()
    practices: dict[str, ReferralSource] = {}
    ordered = sorted(rows, key=lambda row: row.kind != SourceKind.PRACTICE)
    for row in ordered:
        practice = None
        if row.practice is not None:
            practice = practices.get(fold(row.practice)) or _stored_practice(
                session, workspace, row.practice
            )
        source = _upsert(session, workspace, row, practice, owners, summary)
        if row.kind is SourceKind.PRACTICE:
            practices[fold(row.name)] = source
    session.flush()
    return summary


def parse_rows(path: Path, phone_region: str) -> Iterable[SourceRow]:
    for line, raw in read_rows(path, COLUMN_ALIASES, required=("type", "name")):
        yield parse_row(path, line, raw, phone_region)


def parse_row(path: Path, line: int, raw: dict[str, str], region: str) -> SourceRow:
    def fail(column: str, message: str) -> CsvInputError:
        return CsvInputError(path, line, f"{column} {message}")

    kind = KINDS.get(raw["type"].strip().lower())
    if kind is None:
        raise fail(
            "type", f"{raw['type']!r} is unknown; use practice, provider or contact"
        )
    if not raw["name"]:
        raise fail("name", "is empty; every source needs a name")
    practice = raw.get("practice") or None
    if kind is not SourceKind.PRACTICE and practice is None:
        raise fail(
            "practice", f"is empty; a {kind.value} needs the name of its practice"
        )
    domains = [_domain(value, fail) for value in split_list(raw.get("domains", ""))]
    if domains and kind is not SourceKind.PRACTICE:
        raise fail("domains", "are given for a person; put domains on the practice row")
    return SourceRow(
        line=line,
        kind=kind,
        name=raw["name"],
        practice=None if kind is SourceKind.PRACTICE else practice,
        title=raw.get("title") or None,
        emails=[_email(value, fail) for value in split_list(raw.get("emails", ""))],
        domains=domains,
        phones=[
            _phone(value, region, fail) for value in split_list(raw.get("phones", ""))
        ],
        address=raw.get("address") or None,
        npi=_npi(raw.get("npi", ""), fail),
        # Only ';' separates aliases, since a name may contain a comma.
        aliases=[
            part.strip() for part in raw.get("aliases", "").split(";") if part.strip()
        ],
        owner=_owner(raw.get("owner", ""), fail),
        cadence_days=_cadence(raw.get("cadence_days", ""), fail),
    )


def _aliases(value: str) -> list[str]:
    # Only ';' separates aliases, since a name may contain a comma.
    return [part.strip() for part in value.split(";") if part.strip()]


def _email(value: str, fail: FailFactory) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise fail("emails", f"{value!r} is not a valid address: {error}") from error
    return result.normalized.lower()


def _domain(value: str, fail: FailFactory) -> str:
    domain = value.lower().removeprefix("@").rstrip(".")
    if not DOMAIN_PATTERN.match(domain):
        raise fail("domains", f"{value!r} is not a domain name such as lakeside-fm.com")
    return domain


def _phone(value: str, region: str, fail: FailFactory) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        raise fail("phones", f"{value!r} is not a phone number: {error}") from error
    if not phonenumbers.is_possible_number(number):
        raise fail("phones", f"{value!r} has the wrong number of digits for {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _npi(value: str, fail: FailFactory) -> str | None:
    if not value:
        return None
    digits = value.replace(" ", "").replace("-", "")
    if not (len(digits) == 10 and digits.isdigit()):
        raise fail("npi", f"{value!r} is not 10 digits")
    # The NPI check digit is the Luhn digit of the number prefixed by 80840,
    # the card issuer prefix CMS assigned (CMS, "Requirements for NPI check
    # digit", 2007).
    if not luhn.is_valid("80840" + digits):
        raise fail("npi", f"{value!r} fails its check digit; correct the number")
    return digits


def _owner(value: str, fail: FailFactory) -> str | None:
    if not value:
        return None
    return _email(value, lambda _column, message: fail("owner", message))


def _cadence(value: str, fail: FailFactory) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) == 0:
        raise fail("cadence_days", f"{value!r} is not a positive whole number of days")
    return int(value)


def _check_file(
    path: Path, rows: list[SourceRow], session: Session, workspace: Workspace
) -> None:
    """Reject duplicates and providers or contacts whose practice is missing."""
    keys: dict[str, int] = {}
    emails: dict[str, int] = {}
    practices = {fold(row.name) for row in rows if row.kind is SourceKind.PRACTICE}
    for row in rows:
        if row.import_key in keys:
            raise CsvInputError(
                path, row.line, f"repeats the source on line {keys[row.import_key]}"
            )
        keys[row.import_key] = row.line
        for email in row.emails:
            if email in emails:
                raise CsvInputError(
                    path,
                    row.line,
                    f"emails {email!r} is already given on line {emails[email]}; "
                    "an address must belong to one source",
                )
            emails[email] = row.line
        if row.practice is None or fold(row.practice) in practices:
            continue
        if _stored_practice(session, workspace, row.practice) is None:
            raise CsvInputError(
                path,
                row.line,
                f"practice {row.practice!r} is not in the file or the database; "
                "add a practice row with that name",
            )


def _resolve_owners(
    path: Path, rows: list[SourceRow], session: Session, workspace: Workspace
) -> dict[str, StaffMember]:
    wanted = {row.owner for row in rows if row.owner}
    found = {
        staff.email: staff
        for staff in session.scalars(
            select(StaffMember).where(
                StaffMember.workspace_id == workspace.id, StaffMember.email.in_(wanted)
            )
        )
    }
    for row in rows:
        if row.owner and row.owner not in found:
            raise CsvInputError(
                path,
                row.line,
                f"owner {row.owner!r} is not a staff member; add them first with "
                f"'warmline staff add {row.owner} --name NAME'",
            )
    return found


def _stored_practice(
    session: Session, workspace: Workspace, name: str
) -> ReferralSource | None:
    return session.scalar(
        select(ReferralSource).where(
            ReferralSource.workspace_id == workspace.id,
            ReferralSource.import_key == import_key(SourceKind.PRACTICE, None, name),
        )
    )


def _find_existing(
    session: Session, workspace: Workspace, row: SourceRow
) -> ReferralSource | None:
    in_workspace = ReferralSource.workspace_id == workspace.id
    if row.npi:
        found = session.scalar(
            select(ReferralSource).where(in_workspace, ReferralSource.npi == row.npi)
        )
        if found is not None:
            return found
    return session.scalar(
        select(ReferralSource).where(
            in_workspace, ReferralSource.import_key == row.import_key
        )
    )


def _upsert(
    session: Session,
    workspace: Workspace,
    row: SourceRow,
    practice: ReferralSource | None,
    owners: dict[str, StaffMember],
    summary: ImportSummary,
) -> ReferralSource:
    values = {
        "name": row.name,
        "practice_id": practice.id if practice is not None else None,
        "title": row.title,
        "address": row.address,
        "npi": row.npi,
        "owner_id": owners[row.owner].id if row.owner else None,
        "cadence_days": row.cadence_days,
        "import_key": row.import_key,
        "emails": row.emails,
        "domains": row.domains,
        "phones": row.phones,
        "aliases": row.aliases,
    }
    source = _find_existing(session, workspace, row)
    if source is None:
        source = MODEL_FOR_KIND[row.kind](workspace_id=workspace.id, **values)
        session.add(source)
        session.flush()
        summary.created += 1
        return source
    changed = {
        key: value for key, value in values.items() if getattr(source, key) != value
    }
    if not changed:
        summary.unchanged += 1
        return source
    for key, value in changed.items():
        setattr(source, key, value)
    source.updated_at = utcnow()
    session.flush()
    summary.updated += 1
    return source


def source_records(session: Session, workspace: Workspace) -> list[SourceRecord]:
    """Return every source of the workspace as the matcher's plain records."""
    sources = session.scalars(
        select(ReferralSource).where(ReferralSource.workspace_id == workspace.id)
    )
    return [
        SourceRecord(
            id=source.id,
            kind=MatcherKind(source.kind.value),
            name=source.name,
            practice_id=source.practice_id,
            title=source.title,
            emails=tuple(source.known("emails")),
            domains=tuple(source.known("domains")),
            aliases=tuple(source.known("aliases")),
            phones=tuple(source.phones),
            address=source.address,
        )
        for source in sources
    ]


def list_sources(session: Session, workspace: Workspace) -> list[tuple[Any, ...]]:
    """Return (id, type, name, practice, title, owner) rows, people under practices."""
    practice = aliased(ReferralSource)
    rows = session.execute(
        select(ReferralSource, practice.name, StaffMember.email)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(StaffMember, StaffMember.id == ReferralSource.owner_id)
        .where(ReferralSource.workspace_id == workspace.id)
    ).all()
    ordered = sorted(
        rows,
        key=lambda row: (
            fold(row[1] or row[0].name),
            row[0].kind is not SourceKind.PRACTICE,
            fold(row[0].name),
        ),
    )
    return [
        (
            source.id,
            source.kind.value,
            source.name,
            practice_name or "",
            source.title or "",
            owner or "",
        )
        for source, practice_name, owner in ordered
    ]
