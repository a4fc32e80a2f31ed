"""JSON shapes of the API, as they appear in /api/openapi.json."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from web.pages.common import MAX_ID

Id = Field(ge=1, le=MAX_ID)

UNAUTHORIZED: dict[int | str, dict[str, str]] = {401: {"description": "Not signed in"}}
"""The `responses` entry of every route that needs a signed-in user."""


class SignInIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class MeOut(BaseModel):
    email: str
    role: Literal["admin", "member"]
    workspace_id: int
    staff_member_id: int | None
    csrf_token: str = Field(description="Send it as X-CSRF-Token on unsafe requests.")


class HealthOut(BaseModel):
    cadence_days: int | None
    last_touch: dt.datetime | None
    days_since: int | None
    cold: bool


class SourceOut(BaseModel):
    id: int
    kind: Literal["practice", "provider", "contact"]
    name: str
    practice_id: int | None
    practice_name: str | None
    title: str | None
    owner: str | None
    health: HealthOut
    status: Literal["cold", "warm", "never"]
    referrals_year: int = Field(
        description="referrals in the last 365 days, a practice's people's included"
    )
    tier: Literal["1", "2", "3", "none"]


class SourceDetailOut(SourceOut):
    emails: list[str]
    domains: list[str]
    phones: list[str]
    address: str | None
    npi: str | None
    people: list[SourceOut]


class ReasonOut(BaseModel):
    signal: str
    detail: str
    score: float
    observed: str = Field(default="", description="the value found in the activity")
    known: str = Field(default="", description="the source's value it matched")


class DecisionOut(BaseModel):
    action: Literal["confirm", "reject", "reassign"]
    status: Literal["confirmed", "needs_review", "rejected"]
    user: str | None
    decided_at: dt.datetime


class ParticipantOut(BaseModel):
    role: str
    address: str
    name: str | None


class TouchpointOut(BaseModel):
    id: int
    occurred_at: dt.datetime
    kind: str
    direction: str | None
    subject: str | None
    staff: str
    practice_id: int
    practice: str
    person_id: int | None
    person: str | None
    confidence: float
    status: Literal["confirmed", "needs_review", "rejected"]
    reasons: list[ReasonOut]
    decided_by_staff: bool
    decision: DecisionOut | None
    participants: list[ParticipantOut]


class DecisionIn(BaseModel):
    touchpoint_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=500
    )
    action: Literal["confirm", "reject"]


class DecisionResultOut(BaseModel):
    decided: list[int]
    status: Literal["confirmed", "rejected"]
    learned: list[str] = Field(
        default_factory=list,
        description="what the decisions taught the matcher, one sentence each",
    )


class ReassignIn(BaseModel):
    practice_id: int = Id
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class AccountOut(BaseModel):
    id: int
    provider: str
    location: str
    staff: str
    status: Literal["active", "needs_reauth", "error", "disabled"]
    status_text: str
    last_sync_at: dt.datetime | None
    cursor_age_seconds: int | None
    has_cursor: bool
    last_error: str | None
    activities_stored: int
    activities_matched: int
    dropped: dict[str, int] = Field(
        description="Activities that gave no touchpoint, by reason: the matcher's "
        "(bulk, internal, auto_reply, cancelled, declined, no_match), and "
        "blocklisted, which are dropped before they are stored."
    )
    quarantined: int = Field(
        description="Unreadable items, kept in quarantine with their reason."
    )


class ColdOut(BaseModel):
    """One source going cold, ranked as `warmline cold` ranks it."""

    rank: int
    source_id: int
    kind: str
    name: str
    practice: str | None
    owner: str | None
    cadence_days: int
    cadence_basis: Literal["own", "practice", "learned", "default"]
    last_touch: dt.datetime | None
    days_since: int | None
    overdue_days: int | None
    referrals_year: int
    last_referral_on: dt.date | None
    notes: list[str]


class RowOut(BaseModel):
    line: int
    values: dict[str, str]
    error: str | None


class ImportSummaryOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class UploadOut(BaseModel):
    id: int
    kind: str = Field(description="sources or referrals")
    filename: str
    created_at: dt.datetime
    imported_at: dt.datetime | None
    ok: bool | None = Field(description="null once imported")
    file_errors: list[str]
    rows: list[RowOut]
    summary: ImportSummaryOut | None


class FollowUpOut(BaseModel):
    """An open follow-up: what a staff member should do about a source, and by when."""

    id: int
    due_on: dt.date
    overdue_days: int
    reason: str = Field(description="cold, close_loop, thank_you or drift")
    note: str
    source_id: int
    source: str
    practice: str | None
    staff_member_id: int
    staff_email: str


class FollowUpsOut(BaseModel):
    total: int = Field(description="open follow-ups due, of which `limit` are listed")
    follow_ups: list[FollowUpOut]


class SnoozeIn(BaseModel):
    period: Literal["2w", "1m", "3m"]
    due_on: dt.date | None = Field(
        default=None,
        description="the due date the client saw; with it, 409 if it has moved",
    )


class LoopOut(BaseModel):
    """A referral whose outcome has not been reported back to its source."""

    referral_id: int
    received_on: dt.date
    count: int
    external_ref: str | None = Field(description="the practice's referral id")
    source_id: int
    source: str
    practice: str | None
    due_on: dt.date
    overdue_days: int


class LoopsOut(BaseModel):
    total: int
    overdue: int
    loops: list[LoopOut]
