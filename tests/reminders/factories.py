"""Rows for the reminder tests that use the database: staff, sources, touches."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from warmline import last_touch
from warmline.models import (
    Activity,
    Contact,
    Practice,
    Provider,
    Referral,
    ReferralSource,
    StaffAddress,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.workspaces import get_or_create_workspace

_ids = itertools.count(1)


class World:
    """Builds rows in one workspace through one session."""

    def __init__(self, session: Session, name: str = "default") -> None:
        self.session = session
        self.workspace: Workspace = get_or_create_workspace(session, name)

    def staff(
        self, email: str, name: str, timezone: str = "America/Chicago"
    ) -> StaffMember:
        member = StaffMember(
            workspace_id=self.workspace.id, email=email, name=name, timezone=timezone
        )
        member.addresses = [StaffAddress(workspace_id=self.workspace.id, address=email)]
        self.session.add(member)
        self.session.flush()
        return member

    def practice(
        self,
        name: str,
        owner: StaffMember | None = None,
        cadence: int | None = None,
        **fields: object,
    ) -> ReferralSource:
        return self._source(Practice, name, None, owner, cadence, **fields)

    def provider(
        self,
        name: str,
        practice: ReferralSource,
        owner: StaffMember | None = None,
        cadence: int | None = None,
        **fields: object,
    ) -> ReferralSource:
        return self._source(Provider, name, practice, owner, cadence, **fields)

    def contact(self, name: str, practice: ReferralSource) -> ReferralSource:
        return self._source(Contact, name, practice, None, None)

    def _source(
        self,
        model: type[ReferralSource],
        name: str,
        practice: ReferralSource | None,
        owner: StaffMember | None,
        cadence: int | None,
        **fields: object,
    ) -> ReferralSource:
        source = model(
            workspace_id=self.workspace.id,
            name=name,
            practice_id=practice.id if practice else None,
            owner_id=owner.id if owner else None,
            cadence_days=cadence,
            import_key=f"test|{next(_ids)}",
            **fields,
        )
        self.session.add(source)
        self.session.flush()
        return source

    def touch(
        self,
        practice: ReferralSource,
        at: dt.datetime,
        staff: StaffMember,
        *,
        kind: str = "email",
        direction: str | None = "outbound",
        person: ReferralSource | None = None,
        through_contact: tuple[ReferralSource, ...] = (),
        status: TouchpointStatus = TouchpointStatus.CONFIRMED,
        recurring: bool = False,
        flags: tuple[str, ...] = (),
        subject: str = "Lunch and learn",
    ) -> Touchpoint:
        """Add an activity with one touchpoint for `practice` and its people.

        `through_contact` lists providers the touch counts for because their
        office staff took part (TouchpointPerson.direct is False).
        """
        activity = Activity(
            workspace_id=self.workspace.id,
            kind=kind,
            external_id=f"activity-{next(_ids)}@test.example",
            occurrence_key=at.strftime("%Y%m%dT%H%M%SZ") if recurring else "",
            occurrence=at if recurring else None,
            occurred_at=at,
            subject=subject,
            direction=None if kind == "meeting" else direction,
            staff_member_id=staff.id,
            flags=list(flags),
        )
        self.session.add(activity)
        self.session.flush()
        people = (
            []
            if person is None
            else [TouchpointPerson(person_id=person.id, direct=True)]
        )
        people += [
            TouchpointPerson(person_id=provider.id, direct=False)
            for provider in through_contact
        ]
        touchpoint = Touchpoint(
            workspace_id=self.workspace.id,
            activity_id=activity.id,
            practice_id=practice.id,
            person_id=person.id if person else None,
            confidence=0.95,
            status=status,
            reasons=[{"signal": "address", "detail": "test", "score": 0.95}],
            people=people,
        )
        self.session.add(touchpoint)
        self.session.flush()
        last_touch.refresh_last_touches(
            self.session, last_touch.touchpoint_sources([touchpoint])
        )
        return touchpoint

    def referral(
        self,
        source: ReferralSource,
        received_on: dt.date,
        count: int = 1,
        external_ref: str | None = None,
    ) -> Referral:
        referral = Referral(
            workspace_id=self.workspace.id,
            source_id=source.id,
            received_on=received_on,
            count=count,
            external_ref=external_ref,
        )
        self.session.add(referral)
        self.session.flush()
        return referral
