"""Conversions from the services' views to the API's JSON shapes."""

from __future__ import annotations

import datetime as dt

from warmline.models import ReferralSource
from warmline.web_models import SourceUpload
from web.api import schemas
from web.services.accounts import AccountOverview
from web.services.imports import Preview
from web.services.sources import Health, SourceSummary
from web.services.tasks import FollowUpRow, LoopRow
from web.services.touchpoints import TouchpointView


def health_out(health: Health) -> schemas.HealthOut:
    return schemas.HealthOut(
        cadence_days=health.cadence_days,
        last_touch=health.last_touch,
        days_since=health.days_since,
        cold=health.cold,
    )


def source_out(summary: SourceSummary) -> schemas.SourceOut:
    return schemas.SourceOut(
        id=summary.id,
        kind=summary.kind.value,
        name=summary.name,
        practice_id=summary.practice_id,
        practice_name=summary.practice_name,
        title=summary.title,
        owner=summary.owner_email,
        health=health_out(summary.health),
        status=summary.status.value,
        referrals_year=summary.referrals_year,
        tier=summary.tier,
    )


def source_detail_out(
    source: ReferralSource, summary: SourceSummary, people: list[SourceSummary]
) -> schemas.SourceDetailOut:
    return schemas.SourceDetailOut(
        **source_out(summary).model_dump(),
        emails=list(source.emails),
        domains=list(source.domains),
        phones=list(source.phones),
        address=source.address,
        npi=source.npi,
        people=[source_out(person) for person in people],
    )


def touchpoint_out(view: TouchpointView) -> schemas.TouchpointOut:
    decision = None
    if view.decision is not None:
        decision = schemas.DecisionOut(
            action=view.decision.action.value,
            status=view.decision.status.value,
            user=view.decision.user_email,
            decided_at=view.decision.decided_at,
        )
    return schemas.TouchpointOut(
        id=view.id,
        occurred_at=view.occurred_at,
        kind=view.kind,
        direction=view.direction,
        subject=view.subject,
        staff=view.staff_email,
        practice_id=view.practice_id,
        practice=view.practice_name,
        person_id=view.person_id,
        person=view.person_name,
        confidence=view.confidence,
        status=view.status.value,
        reasons=[
            schemas.ReasonOut(
                signal=r.signal,
                detail=r.detail,
                score=r.score,
                observed=r.observed,
                known=r.known,
            )
            for r in view.reasons
        ],
        decided_by_staff=view.decided_by_staff,
        decision=decision,
        participants=[
            schemas.ParticipantOut(role=p.role, address=p.address, name=p.name)
            for p in view.participants
        ],
    )


def account_out(overview: AccountOverview) -> schemas.AccountOut:
    age = overview.cursor_age
    return schemas.AccountOut(
        id=overview.id,
        provider=overview.provider,
        location=overview.location,
        staff=overview.staff_email,
        status=overview.status.value,
        status_text=overview.status_text,
        last_sync_at=overview.last_sync_at,
        cursor_age_seconds=int(age.total_seconds()) if age is not None else None,
        has_cursor=overview.has_cursor,
        last_error=overview.last_error,
        activities_stored=overview.stored,
        activities_matched=overview.matched,
        dropped=overview.dropped,
        quarantined=overview.quarantined,
    )


def upload_out(upload: SourceUpload, preview: Preview | None) -> schemas.UploadOut:
    summary = None
    if preview is not None and preview.summary is not None:
        summary = schemas.ImportSummaryOut(**vars(preview.summary))
    elif upload.summary is not None:
        summary = schemas.ImportSummaryOut(**upload.summary)
    return schemas.UploadOut(
        id=upload.id,
        kind=upload.kind.value,
        filename=upload.filename,
        created_at=upload.created_at,
        imported_at=upload.imported_at,
        ok=preview.ok if preview is not None else None,
        file_errors=preview.file_errors if preview is not None else [],
        rows=[
            schemas.RowOut(line=row.line, values=row.values, error=row.error)
            for row in (preview.rows if preview is not None else [])
        ],
        summary=summary,
    )


def follow_up_out(row: FollowUpRow, today: dt.date) -> schemas.FollowUpOut:
    return schemas.FollowUpOut(
        id=row.id,
        due_on=row.due_on,
        overdue_days=row.overdue_days(today),
        reason=row.reason,
        note=row.note,
        source_id=row.source_id,
        source=row.source_name,
        practice=row.practice_name,
        staff_member_id=row.staff_member_id,
        staff_email=row.staff_email,
    )


def loop_out(row: LoopRow, today: dt.date) -> schemas.LoopOut:
    return schemas.LoopOut(
        referral_id=row.referral_id,
        received_on=row.received_on,
        count=row.count,
        external_ref=row.external_ref,
        source_id=row.source_id,
        source=row.source_name,
        practice=row.practice_name,
        due_on=row.due_on,
        overdue_days=row.overdue_days(today),
    )
