"""Referral sources for the site: search, and one source with its people,
cadence and timeline."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from warmline.models import ReferralSource, SourceKind, StaffMember, Workspace
from warmline.relationships import last_touches, relationships
from web.text import like_pattern


@dataclasses.dataclass(frozen=True)
class Health:
    """A source's cadence and last confirmed touch, as of one moment."""

    cadence_days: int | None
    last_touch: dt.datetime | None
    as_of: dt.datetime

    @property
    def days_since(self) -> int | None:
        if self.last_touch is None:
            return None
        return (self.as_of - self.last_touch).days

    @property
    def cold(self) -> bool:
        """Past its cadence or never touched; a source without a cadence is not."""
        if self.cadence_days is None:
            return False
        days = self.days_since
        return days is None or days > self.cadence_days


@dataclasses.dataclass(frozen=True)
class SourceSummary:
    id: int
    kind: SourceKind
    name: str
    practice_id: int | None
    practice_name: str | None
    title: str | None
    owner_email: str | None
    health: Health


@dataclasses.dataclass(frozen=True)
class SourceSearch:
    """Search text (name, address or domain) and filters; None or '' means any."""

    text: str = ""
    owner_id: int | None = None
    kind: SourceKind | None = None


def workspace_health(
    session: Session, workspace_id: int, as_of: dt.datetime
) -> dict[int, Health]:
    """Map every source id to its health.

    Cadences come from warmline.relationships, which gives a contact one only
    when the contact has its own; other contacts count toward their practice.
    """
    workspace = session.get_one(Workspace, workspace_id)
    cadences = {
        row.source_id: row.cadence_days
        for row in relationships(session, workspace, as_of)
    }
    touches = last_touches(session, workspace, as_of)
    ids = session.scalars(
        select(ReferralSource.id).where(ReferralSource.workspace_id == workspace_id)
    )
    return {
        source_id: Health(cadences.get(source_id), touches.get(source_id), as_of)
        for source_id in ids
    }


def search_sources(
    session: Session,
    workspace_id: int,
    search: SourceSearch,
    as_of: dt.datetime,
    limit: int = 100,
    offset: int = 0,
) -> list[SourceSummary]:
    practice = aliased(ReferralSource)
    query = (
        select(ReferralSource, practice.name, StaffMember.email)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(StaffMember, StaffMember.id == ReferralSource.owner_id)
        .where(ReferralSource.workspace_id == workspace_id)
    )
    if search.text:
        pattern = like_pattern(search.text.lower())
        query = query.where(
            or_(
                ReferralSource.name.ilike(pattern, escape="\\"),
                cast(ReferralSource.emails, String).ilike(pattern, escape="\\"),
                cast(ReferralSource.domains, String).ilike(pattern, escape="\\"),
                practice.name.ilike(pattern, escape="\\"),
            )
        )
    if search.owner_id is not None:
        query = query.where(ReferralSource.owner_id == search.owner_id)
    if search.kind is not None:
        query = query.where(ReferralSource.kind == search.kind)
    # People follow their practice, as in `warmline sources list`.
    query = query.order_by(
        func.lower(func.coalesce(practice.name, ReferralSource.name)),
        ReferralSource.practice_id.is_not(None),
        func.lower(ReferralSource.name),
        ReferralSource.id,
    )
    rows = session.execute(query.limit(limit).offset(offset)).all()
    health = workspace_health(session, workspace_id, as_of)
    return [
        _summary(source, practice_name, owner, health[source.id])
        for source, practice_name, owner in rows
    ]


def _summary(
    source: ReferralSource,
    practice_name: str | None,
    owner: str | None,
    health: Health,
) -> SourceSummary:
    return SourceSummary(
        id=source.id,
        kind=source.kind,
        name=source.name,
        practice_id=source.practice_id,
        practice_name=practice_name,
        title=source.title,
        owner_email=owner,
        health=health,
    )


@dataclasses.dataclass(frozen=True)
class SourceDetail:
    source: ReferralSource
    summary: SourceSummary
    people: list[SourceSummary]
    """For a practice, its providers and contacts; for a person, their colleagues."""


def get_source(
    session: Session, workspace_id: int, source_id: int, as_of: dt.datetime
) -> SourceDetail | None:
    source = session.scalar(
        select(ReferralSource).where(
            ReferralSource.workspace_id == workspace_id,
            ReferralSource.id == source_id,
        )
    )
    if source is None:
        return None
    health = workspace_health(session, workspace_id, as_of)
    practice_id = source.practice_id or source.id
    colleagues = session.scalars(
        select(ReferralSource)
        .where(
            ReferralSource.workspace_id == workspace_id,
            ReferralSource.practice_id == practice_id,
            ReferralSource.id != source.id,
        )
        .order_by(ReferralSource.name, ReferralSource.id)
    ).all()
    practice_name = source.practice.name if source.practice else None
    owner = source.owner.email if source.owner else None
    return SourceDetail(
        source=source,
        summary=_summary(source, practice_name, owner, health[source.id]),
        people=[
            _summary(
                person,
                practice_name or source.name,
                person.owner.email if person.owner else None,
                health[person.id],
            )
            for person in colleagues
        ],
    )


def owners(session: Session, workspace_id: int) -> list[StaffMember]:
    return list(
        session.scalars(
            select(StaffMember)
            .where(StaffMember.workspace_id == workspace_id)
            .order_by(StaffMember.name)
        )
    )
