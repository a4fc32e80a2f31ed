"""Batch writes of activities, sightings, quarantined items and touchpoints.

Every write is an upsert on a stable key, so a batch can be written any
number of times with the same result:
- activity: (workspace, kind, external id, occurrence key);
- account_activity: (account, provider key);
- quarantined_item: (account, provider key);
- touchpoint: (activity, practice); a touchpoint a person decided is never
  changed by the matcher.
Inserts use INSERT ... ON CONFLICT DO NOTHING followed by a select, so two
writers racing on the same key both end with the one row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.dml import Insert

from connectors.records import Activity as ActivityRecord
from connectors.records import Quarantined, ScopeListed
from matcher.records import Link, Reason, Signal
from matcher.records import Status as LinkStatus
from warmline import last_touch, touch_counts
from warmline.db import chunks, insert_for
from warmline.models import (
    AccountActivity,
    Activity,
    ActivityParticipant,
    Base,
    QuarantinedItem,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    utcnow,
)
from warmline.web_models import TouchpointDecision

ActivityKey = tuple[str, str, str]

# Columns an upsert of an existing activity may change: a moved meeting
# changes its time, an edited event its subject or location.
UPDATABLE = (
    "occurred_at",
    "ends_at",
    "subject",
    "location",
    "flags",
    "defects",
    "dropped",
    "thread_id",
    "in_reply_to",
    "references",
)


@dataclasses.dataclass
class PreparedActivity:
    """A connector's activity with what the core decided about it."""

    record: ActivityRecord
    subject: str | None
    direction: str | None
    staff_member_id: int
    dropped: str | None = None
    links: tuple[Link, ...] = ()

    @property
    def key(self) -> ActivityKey:
        return activity_key(self.record)


def activity_key(record: ActivityRecord) -> ActivityKey:
    return (record.kind.value, record.external_id, occurrence_key(record.occurrence))


def occurrence_key(occurrence: dt.datetime | None) -> str:
    if occurrence is None:
        return ""
    return occurrence.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def insert_ignoring_conflicts(session: Session, model: type[Base]) -> Insert:
    """Return INSERT ... ON CONFLICT DO NOTHING for the session's database."""
    return insert_for(session, model).on_conflict_do_nothing()


def upsert_activities(
    session: Session, workspace_id: int, batch: Sequence[PreparedActivity]
) -> tuple[dict[ActivityKey, int], set[int]]:
    """Insert new activities and update changed ones.

    Returns the id of every key in the batch and the set of ids that were
    created by this call.
    """
    unique = {item.key: item for item in batch}
    existing = _activity_rows(session, workspace_id, unique)
    rows = [
        _activity_values(workspace_id, item)
        for key, item in unique.items()
        if key not in existing
    ]
    if rows:
        session.execute(insert_ignoring_conflicts(session, Activity), rows)
    ids = {key: row["id"] for key, row in existing.items()}
    created = _activity_rows(session, workspace_id, [k for k in unique if k not in ids])
    ids.update({key: row["id"] for key, row in created.items()})
    _update_changed(session, existing, unique)
    return ids, {row["id"] for row in created.values()}


def _activity_rows(
    session: Session, workspace_id: int, keys: Iterable[ActivityKey]
) -> dict[ActivityKey, dict[str, Any]]:
    keys = list(keys)
    if not keys:
        return {}
    columns = [
        Activity.id,
        Activity.kind,
        Activity.external_id,
        Activity.occurrence_key,
    ]
    columns += [getattr(Activity, name) for name in UPDATABLE]
    result = session.execute(
        select(*columns).where(
            Activity.workspace_id == workspace_id,
            tuple_(Activity.kind, Activity.external_id, Activity.occurrence_key).in_(
                keys
            ),
        )
    )
    rows = {}
    for row in result.mappings():
        rows[(row["kind"], row["external_id"], row["occurrence_key"])] = dict(row)
    return rows


def _activity_values(workspace_id: int, item: PreparedActivity) -> dict[str, Any]:
    record = item.record
    return {
        "workspace_id": workspace_id,
        "kind": record.kind.value,
        "external_id": record.external_id,
        "occurrence_key": occurrence_key(record.occurrence),
        "occurrence": record.occurrence,
        "direction": item.direction,
        "staff_member_id": item.staff_member_id,
        "created_at": utcnow(),
        **_updatable_values(item),
    }


def _updatable_values(item: PreparedActivity) -> dict[str, Any]:
    record = item.record
    return {
        "occurred_at": record.occurred_at,
        "ends_at": record.ends_at,
        "subject": item.subject,
        "location": record.location,
        "flags": sorted(flag.value for flag in record.flags),
        "defects": list(record.defects),
        "dropped": item.dropped,
        "thread_id": record.thread_id,
        "in_reply_to": record.in_reply_to,
        "references": list(record.references),
    }


def _update_changed(
    session: Session,
    existing: dict[ActivityKey, dict[str, Any]],
    unique: dict[ActivityKey, PreparedActivity],
) -> None:
    changes = []
    for key, row in existing.items():
        values = _updatable_values(unique[key])
        if any(row[name] != value for name, value in values.items()):
            changes.append({"id": row["id"], **values})
    if changes:
        session.execute(update(Activity), changes)
    moved = [
        row["id"]
        for key, row in existing.items()
        if row["occurred_at"] != unique[key].record.occurred_at
    ]
    if moved:
        # Touchpoints carry a copy of their activity's time (models.Touchpoint).
        session.execute(
            update(Touchpoint)
            .where(Touchpoint.activity_id.in_(moved))
            .values(
                occurred_at=select(Activity.occurred_at)
                .where(Activity.id == Touchpoint.activity_id)
                .scalar_subquery()
            )
        )


def write_participants(
    session: Session, batch: Sequence[PreparedActivity], ids: dict[ActivityKey, int]
) -> None:
    """Make each activity's stored participants equal to the connector's."""
    wanted: dict[int, dict[tuple[str, str], dict[str, Any]]] = {}
    for item in batch:
        activity_id = ids[item.key]
        rows = wanted.setdefault(activity_id, {})
        for participant in item.record.participants:
            rows[(participant.role.value, participant.address)] = {
                "activity_id": activity_id,
                "role": participant.role.value,
                "address": participant.address,
                "name": participant.name,
                "response": participant.response,
            }
    stored = session.execute(
        select(
            ActivityParticipant.id,
            ActivityParticipant.activity_id,
            ActivityParticipant.role,
            ActivityParticipant.address,
            ActivityParticipant.name,
            ActivityParticipant.response,
        ).where(ActivityParticipant.activity_id.in_(wanted))
    ).mappings()
    stale = []
    for row in stored:
        rows = wanted[row["activity_id"]]
        current = rows.get((row["role"], row["address"]))
        if current is not None and (current["name"], current["response"]) == (
            row["name"],
            row["response"],
        ):
            del rows[(row["role"], row["address"])]
        else:
            stale.append(row["id"])
    if stale:
        session.execute(
            delete(ActivityParticipant).where(ActivityParticipant.id.in_(stale))
        )
    inserts = [row for rows in wanted.values() for row in rows.values()]
    if inserts:
        session.execute(insert(ActivityParticipant), inserts)


def record_sightings(
    session: Session,
    account_id: int,
    batch: Sequence[PreparedActivity],
    ids: dict[ActivityKey, int],
) -> None:
    """Insert or refresh this account's sighting of each activity."""
    rows = {
        item.record.provider_key: {
            "account_id": account_id,
            "activity_id": ids[item.key],
            "provider_key": item.record.provider_key,
            "labels": list(item.record.labels),
            "seen_at": utcnow(),
        }
        for item in batch
    }
    if not rows:
        return
    statement = insert_for(session, AccountActivity)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "provider_key"],
        set_={
            name: statement.excluded[name]
            for name in ("activity_id", "labels", "seen_at")
        },
    )
    session.execute(statement, list(rows.values()))


def remove_sightings(
    session: Session,
    account_id: int,
    provider_keys: Sequence[str],
    scopes: Sequence[ScopeListed],
) -> int:
    """Delete sightings by key and by listed scope; return how many went.

    Activities that no sighting holds any more are deleted too, and their
    participants and touchpoints with them (ON DELETE CASCADE).
    """
    conditions: list[ColumnElement[bool]] = []
    if provider_keys:
        conditions.append(AccountActivity.provider_key.in_(provider_keys))
    for scope in scopes:
        pattern = like_escape(scope.prefix) + "%"
        conditions.append(
            and_(
                AccountActivity.provider_key.like(pattern, escape="\\"),
                AccountActivity.seen_at < scope.since,
            )
        )
    if not conditions:
        return 0
    gone = session.execute(
        select(AccountActivity.id, AccountActivity.activity_id).where(
            AccountActivity.account_id == account_id, or_(*conditions)
        )
    ).all()
    for chunk in chunks([row.id for row in gone]):
        session.execute(delete(AccountActivity).where(AccountActivity.id.in_(chunk)))
    affected = {row.activity_id for row in gone}
    touched = last_touch.confirmed_sources(session, affected)
    for chunk in chunks(sorted(affected)):
        held = select(AccountActivity.id).where(
            AccountActivity.activity_id == Activity.id
        )
        session.execute(delete(Activity).where(Activity.id.in_(chunk), ~held.exists()))
    last_touch.refresh_last_touches(session, touched)
    touch_counts.refresh_touch_counts(session, affected)
    return len(gone)


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards in `text`, for patterns with escape="\\"."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def record_quarantined(
    session: Session, account_id: int, items: Sequence[Quarantined]
) -> None:
    now = utcnow()
    for item in items:
        row = session.scalar(
            select(QuarantinedItem).where(
                QuarantinedItem.account_id == account_id,
                QuarantinedItem.provider_key == item.provider_key,
            )
        )
        if row is None:
            session.add(
                QuarantinedItem(
                    account_id=account_id,
                    provider_key=item.provider_key,
                    reason=item.reason,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        else:
            row.reason = item.reason
            row.last_seen_at = now
    session.flush()


def thread_links(
    session: Session, workspace_id: int, message_ids: Iterable[str]
) -> dict[str, tuple[Link, ...]]:
    """Return the stored links of earlier emails, by their Message-ID."""
    message_ids = set(message_ids)
    if not message_ids:
        return {}
    rows = session.execute(
        select(Activity.external_id, Touchpoint)
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(
            Activity.workspace_id == workspace_id,
            Activity.kind == "email",
            Activity.external_id.in_(message_ids),
            Touchpoint.status != TouchpointStatus.REJECTED,
        )
        .options(selectinload(Touchpoint.people))
    )
    links: dict[str, list[Link]] = {}
    for external_id, touchpoint in rows:
        links.setdefault(external_id, []).append(_link_from_touchpoint(touchpoint))
    return {key: canonical_links(value) for key, value in links.items()}


def canonical_links(links: Iterable[Link]) -> tuple[Link, ...]:
    """Order links and their people the same way wherever they come from.

    Rows come back from the database in physical order, which differs
    between runs (PostgreSQL reuses the space of rolled-back inserts), so a
    reply must not inherit links in whatever order they happen to be read.
    """
    ordered = sorted(links, key=lambda link: link.practice_id)
    return tuple(
        dataclasses.replace(link, also_person_ids=tuple(sorted(link.also_person_ids)))
        for link in ordered
    )


def _link_from_touchpoint(touchpoint: Touchpoint) -> Link:
    return Link(
        practice_id=touchpoint.practice_id,
        confidence=touchpoint.confidence,
        status=LinkStatus(touchpoint.status.value),
        reasons=tuple(
            Reason(
                Signal(reason["signal"]),
                reason["detail"],
                reason["score"],
                reason.get("observed", ""),
                reason.get("known", ""),
            )
            for reason in touchpoint.reasons
        ),
        person_id=touchpoint.person_id,
        also_person_ids=tuple(
            person.person_id
            for person in touchpoint.people
            if person.person_id != touchpoint.person_id
        ),
    )


def write_touchpoints(
    session: Session,
    workspace_id: int,
    batch: Sequence[PreparedActivity],
    ids: dict[ActivityKey, int],
) -> None:
    """Make each activity's touchpoints equal to its links.

    A touchpoint that a person confirmed or rejected (`decided_by` set, or a
    decision recorded by a web user who is not a staff member) is
    left as it is, whatever the matcher now says.
    """
    wanted = {
        ids[item.key]: {link.practice_id: link for link in item.links} for item in batch
    }
    # A sync has locked them by writing them; a rematch has not.
    touch_counts.lock_activities(session, wanted)
    stored = session.scalars(
        select(Touchpoint).where(Touchpoint.activity_id.in_(wanted))
    ).all()
    decided = _decided_in_web(session, [touchpoint.id for touchpoint in stored])
    # Sources that lose a touch, or whose activity moved in time.
    touched = last_touch.confirmed_sources(session, wanted.keys())
    for touchpoint in stored:
        link = wanted[touchpoint.activity_id].pop(touchpoint.practice_id, None)
        if touchpoint.decided_by is not None or touchpoint.id in decided:
            continue
        if link is None:
            session.delete(touchpoint)
        else:
            _apply_link(touchpoint, link)
    for activity_id, links in wanted.items():
        for link in links.values():
            touchpoint = Touchpoint(
                workspace_id=workspace_id,
                activity_id=activity_id,
                practice_id=link.practice_id,
            )
            _apply_link(touchpoint, link)
            session.add(touchpoint)
    session.flush()
    touched |= last_touch.confirmed_sources(session, wanted.keys())
    last_touch.refresh_last_touches(session, touched)
    touch_counts.refresh_touch_counts(session, wanted.keys())


def _decided_in_web(session: Session, touchpoint_ids: list[int]) -> set[int]:
    """Return the touchpoints a web user decided who is not a staff member."""
    if not touchpoint_ids:
        return set()
    return set(
        session.scalars(
            select(TouchpointDecision.touchpoint_id).where(
                TouchpointDecision.touchpoint_id.in_(touchpoint_ids)
            )
        )
    )


def _apply_link(touchpoint: Touchpoint, link: Link) -> None:
    reasons = [
        {
            "signal": reason.signal.value,
            "detail": reason.detail,
            "score": reason.score,
            "observed": reason.observed,
            "known": reason.known,
        }
        for reason in link.reasons
    ]
    status = TouchpointStatus(link.status.value)
    if (touchpoint.confidence, touchpoint.status, touchpoint.reasons) != (
        link.confidence,
        status,
        reasons,
    ):
        touchpoint.confidence = link.confidence
        touchpoint.status = status
        touchpoint.reasons = reasons
    touchpoint.person_id = link.person_id
    people = {}
    if link.person_id is not None:
        people[link.person_id] = True
    for person_id in link.also_person_ids:
        people.setdefault(person_id, False)
    current = {person.person_id: person for person in touchpoint.people}
    touchpoint.people = [
        current.get(person_id) or TouchpointPerson(person_id=person_id, direct=direct)
        for person_id, direct in people.items()
    ]
    for person in touchpoint.people:
        person.direct = people[person.person_id]
