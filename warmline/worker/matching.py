"""Match stored activities again, for instance after sources were imported.

The sync pipeline matches an activity once, from the connector's record.
This module rebuilds such a record from the stored metadata and runs the
same matcher over it with the workspace's current sources and settings, then
rewrites the touchpoints as a sync would.  Touchpoints a person decided on
are kept, as `store.write_touchpoints` keeps them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from connectors.records import Activity as ActivityRecord
from connectors.records import ActivityKind, Flag, Participant, ParticipantRole
from matcher import Link, MatchSettings, SourceIndex, match_activity
from warmline import store
from warmline.models import AccountActivity, Activity, Workspace
from warmline.sources import source_records
from warmline.workspaces import staff_addresses, workspace_settings


@dataclasses.dataclass
class RematchReport:
    """Counts of one batch matched again."""

    workspace_id: int
    activities: int = 0
    linked: int = 0
    dropped: int = 0


def rematch_activities(
    sessions: sessionmaker[Session], workspace_id: int, activity_ids: Sequence[int]
) -> RematchReport:
    """Match the given activities of a workspace again, in one transaction.

    Ids of other workspaces or of deleted activities are ignored.
    NOTE: the record is rebuilt from what is stored, so signals the sync saw
    but did not keep are missing.  A subject stored redacted or not at all
    (subject_mode) gives no phone or meeting-title evidence.  A name read
    from an address comment is weighed as a display name.
    """
    report = RematchReport(workspace_id=workspace_id)
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, workspace_id)
        index, settings = _matcher_inputs(session, workspace)
        activities = session.scalars(
            select(Activity)
            .where(Activity.workspace_id == workspace_id, Activity.id.in_(activity_ids))
            .options(selectinload(Activity.participants))
            .order_by(Activity.occurred_at, Activity.id)
        ).all()
        sightings = _first_sightings(session, [activity.id for activity in activities])
        prepared = [
            _prepared(activity, sightings.get(activity.id)) for activity in activities
        ]
        wanted = {ref for item in prepared for ref in _thread_ids(item.record)}
        known = store.thread_links(session, workspace_id, wanted)
        ids: dict[store.ActivityKey, int] = {}
        for activity, item in zip(activities, prepared, strict=True):
            inherited = _inherited(item.record, known)
            result = match_activity(item.record, index, settings, inherited)
            item.links = result.links
            activity.dropped = result.dropped.value if result.dropped else None
            ids[item.key] = activity.id
            if item.record.kind is ActivityKind.EMAIL and result.links:
                known[item.record.external_id] = store.canonical_links(result.links)
            report.linked += bool(result.links)
            report.dropped += result.dropped is not None
        store.write_touchpoints(session, workspace_id, prepared, ids)
        report.activities = len(prepared)
    return report


def _matcher_inputs(
    session: Session, workspace: Workspace
) -> tuple[SourceIndex, MatchSettings]:
    # The same inputs as the pipeline's SyncContext.
    settings = workspace_settings(session, workspace)
    by_address = staff_addresses(session, workspace)
    match_settings = MatchSettings(
        own_domains=frozenset(settings["own_domains"]),
        staff_addresses=frozenset(by_address),
        confirm_threshold=settings["confirm_threshold"],
        review_threshold=settings["review_threshold"],
    )
    return SourceIndex(source_records(session, workspace)), match_settings


def _first_sightings(
    session: Session, activity_ids: list[int]
) -> dict[int, AccountActivity]:
    rows = session.scalars(
        select(AccountActivity)
        .where(AccountActivity.activity_id.in_(activity_ids))
        .order_by(AccountActivity.id)
    )
    first: dict[int, AccountActivity] = {}
    for row in rows:
        first.setdefault(row.activity_id, row)
    return first


def _prepared(
    activity: Activity, sighting: AccountActivity | None
) -> store.PreparedActivity:
    participants = tuple(
        Participant(
            address=participant.address,
            role=ParticipantRole(participant.role),
            name=participant.name,
            response=participant.response,
        )
        for participant in activity.participants
    )
    record = ActivityRecord(
        kind=ActivityKind(activity.kind),
        provider_key=sighting.provider_key if sighting else f"activity:{activity.id}",
        external_id=activity.external_id,
        occurred_at=activity.occurred_at,
        participants=participants,
        subject=activity.subject,
        occurrence=activity.occurrence,
        ends_at=activity.ends_at,
        location=activity.location,
        thread_id=activity.thread_id,
        in_reply_to=activity.in_reply_to,
        references=tuple(activity.references),
        labels=tuple(sighting.labels) if sighting else (),
        flags=frozenset(Flag(flag) for flag in activity.flags),
        defects=tuple(activity.defects),
    )
    return store.PreparedActivity(
        record=record,
        subject=activity.subject,
        direction=activity.direction,
        staff_member_id=activity.staff_member_id,
    )


def _thread_ids(record: ActivityRecord) -> list[str]:
    if record.kind is not ActivityKind.EMAIL:
        return []
    return [*record.references, *([record.in_reply_to] if record.in_reply_to else [])]


def _inherited(
    record: ActivityRecord, known: dict[str, tuple[Link, ...]]
) -> tuple[Link, ...]:
    for message_id in [record.in_reply_to, *reversed(record.references)]:
        if message_id and message_id in known:
            return known[message_id]
    return ()
