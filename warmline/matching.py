"""What the matcher needs from the database, and matching stored activities again.

`matcher_inputs` builds the source index and settings of a workspace, for
the sync pipeline and for rematching alike.  The sync pipeline matches an
activity once, from the connector's record.  `rematch_activities` rebuilds
such a record from the stored metadata and runs the same matcher over it
with the workspace's current sources, settings and exclusions, then
rewrites the touchpoints as a sync would.  Touchpoints a person decided on
are kept, as `store.write_touchpoints` keeps them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from connectors.records import Activity as ActivityRecord
from connectors.records import ActivityKind, Flag, Participant, ParticipantRole
from matcher import Link, MatchSettings, SourceIndex, collector_paused, match_activity
from warmline import store
from warmline.models import AccountActivity, Activity, Workspace
from warmline.review_models import MatchExclusion
from warmline.sources import source_records
from warmline.workspaces import staff_addresses, workspace_settings


@dataclasses.dataclass
class RematchReport:
    """Counts of one batch matched again."""

    workspace_id: int
    activities: int = 0
    linked: int = 0
    dropped: int = 0

    def add(self, other: RematchReport) -> None:
        self.activities += other.activities
        self.linked += other.linked
        self.dropped += other.dropped


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
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, workspace_id)
        return rematch_in_session(session, workspace, activity_ids)


def rematch_in_session(
    session: Session,
    workspace: Workspace,
    activity_ids: Sequence[int],
    inputs: tuple[SourceIndex, MatchSettings] | None = None,
) -> RematchReport:
    """Match the given activities again inside the caller's transaction."""
    report = RematchReport(workspace_id=workspace.id)
    index, settings = inputs or matcher_inputs(session, workspace)
    activities = session.scalars(
        select(Activity)
        .where(Activity.workspace_id == workspace.id, Activity.id.in_(activity_ids))
        .options(selectinload(Activity.participants))
        .order_by(Activity.occurred_at, Activity.id)
    ).all()
    sightings = _first_sightings(session, [activity.id for activity in activities])
    prepared = [
        prepared_activity(activity, sightings.get(activity.id))
        for activity in activities
    ]
    wanted = {ref for item in prepared for ref in _thread_ids(item.record)}
    known = store.thread_links(session, workspace.id, wanted)
    ids: dict[store.ActivityKey, int] = {}
    with collector_paused():
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
    store.write_touchpoints(session, workspace.id, prepared, ids)
    report.activities = len(prepared)
    return report


def matcher_inputs(
    session: Session, workspace: Workspace
) -> tuple[SourceIndex, MatchSettings]:
    """Return the workspace's source index and match settings, exclusions included."""
    settings = workspace_settings(session, workspace)
    by_address = staff_addresses(session, workspace)
    exclusions = session.execute(
        select(MatchExclusion.key, MatchExclusion.practice_id).where(
            MatchExclusion.workspace_id == workspace.id
        )
    )
    match_settings = MatchSettings(
        own_domains=frozenset(settings["own_domains"]),
        staff_addresses=frozenset(by_address),
        confirm_threshold=settings["confirm_threshold"],
        review_threshold=settings["review_threshold"],
        exclusions=frozenset((key, practice_id) for key, practice_id in exclusions),
    )
    return SourceIndex(source_records(session, workspace)), match_settings


def rematch_workspace(
    sessions: sessionmaker[Session],
    workspace_id: int,
    batch_size: int = 500,
    activity_ids: Sequence[int] | None = None,
    progress: Callable[[RematchReport], None] | None = None,
) -> RematchReport:
    """Match every stored activity of a workspace again, oldest first.

    With `activity_ids`, only those.  Each batch commits on its own, so a
    long run can stop and start again.  Replies inherit the links of
    messages in earlier batches, which are committed by then.
    """
    total = RematchReport(workspace_id=workspace_id)
    for batch in _batches(sessions, workspace_id, batch_size, activity_ids):
        total.add(rematch_activities(sessions, workspace_id, batch))
        if progress is not None:
            progress(total)
    return total


def _batches(
    sessions: sessionmaker[Session],
    workspace_id: int,
    batch_size: int,
    activity_ids: Sequence[int] | None,
) -> Iterator[list[int]]:
    with sessions() as session:
        query = select(Activity.id).where(Activity.workspace_id == workspace_id)
        if activity_ids is not None:
            query = query.where(Activity.id.in_(activity_ids))
        ids = list(session.scalars(query.order_by(Activity.occurred_at, Activity.id)))
    for start in range(0, len(ids), batch_size):
        yield ids[start : start + batch_size]


def count_activities(session: Session, workspace_id: int) -> int:
    count = session.scalar(
        select(func.count(Activity.id)).where(Activity.workspace_id == workspace_id)
    )
    return count or 0


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


def prepared_activity(
    activity: Activity, sighting: AccountActivity | None = None
) -> store.PreparedActivity:
    """Rebuild the connector's record of a stored activity, for the matcher."""
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
