"""Suggest new referral sources from frequent correspondents that match none.

Unmatched correspondents are staged from what a sync already stores: the
participants of activities dropped with no_match, within a window
(suggest_window_days, 90 by default).  A correspondent with no activity in
the window drops out, so staging expires by itself and no second copy of
any address is kept.

Suggestions are grouped by mail domain.  Free-mail domains, the workspace's
own domains, automated senders and domains a source already lists are left
out.  A domain is suggested when it had at least suggest_min_activities
activities and looks clinical: a correspondent's name carries "Dr." or a
clinical credential, or the domain or a display name has a practice word.
Words of another trade (law, insurance, supply) count against it unless a
name has credentials.

Accepting a suggestion creates the practice with the domain and a provider
for each correspondent whose name looks like a clinician's, then matches
the domain's past activities again so that they are linked.  A dismissed or
accepted suggestion is not shown again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import (
    is_automated_address,
    is_free_mail_domain,
    parse_person_name,
)
from matcher.orgnames import organisation_hints
from matcher.text import domain_of
from warmline import audit
from warmline.matching import RematchReport, rematch_in_session
from warmline.models import (
    Activity,
    ActivityParticipant,
    Practice,
    Provider,
    ReferralSource,
    SourceKind,
    Workspace,
    utcnow,
)
from warmline.review_models import SuggestionAction, SuggestionDecision
from warmline.sources import import_key
from warmline.store import like_escape
from warmline.workspaces import staff_addresses, workspace_settings

EXAMPLES = 3


class SuggestionError(ValueError):
    """A suggestion key names nothing that can be accepted or dismissed."""


@dataclasses.dataclass
class Correspondent:
    address: str
    name: str | None
    activities: int
    clinician: bool


@dataclasses.dataclass
class Suggestion:
    """A domain whose correspondents look like a practice that no source lists."""

    key: str
    domain: str
    activities: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    correspondents: list[Correspondent]
    reasons: list[str]
    examples: list[tuple[dt.datetime, str, str | None]]
    """(when, kind, subject as stored) of the latest activities."""

    @property
    def clinicians(self) -> list[Correspondent]:
        return [person for person in self.correspondents if person.clinician]


@dataclasses.dataclass
class _Staged:
    activity_ids: set[int] = dataclasses.field(default_factory=set)
    names: dict[str, Counter[str]] = dataclasses.field(
        default_factory=lambda: defaultdict(Counter)
    )
    per_address: Counter[str] = dataclasses.field(default_factory=Counter)
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


def suggest(
    session: Session, workspace: Workspace, now: dt.datetime
) -> list[Suggestion]:
    """Return suggested practices, the most active first."""
    settings = workspace_settings(session, workspace)
    since = now - dt.timedelta(days=settings["suggest_window_days"])
    staged = _stage(session, workspace, since, settings["own_domains"])
    answered = set(
        session.scalars(
            select(SuggestionDecision.key).where(
                SuggestionDecision.workspace_id == workspace.id
            )
        )
    )
    known = _known_domains(session, workspace)
    found = []
    for domain, group in staged.items():
        key = f"domain:{domain}"
        if key in answered or domain in known:
            continue
        if len(group.activity_ids) < settings["suggest_min_activities"]:
            continue
        suggestion = _judge(session, domain, group)
        if suggestion is not None:
            found.append(suggestion)
    found.sort(key=lambda item: (-item.activities, item.domain))
    return found


def _stage(
    session: Session, workspace: Workspace, since: dt.datetime, own: list[str]
) -> dict[str, _Staged]:
    staff = staff_addresses(session, workspace)
    own_domains = set(own)
    rows = session.execute(
        select(
            ActivityParticipant.address,
            ActivityParticipant.name,
            Activity.id,
            Activity.occurred_at,
        )
        .join(Activity, Activity.id == ActivityParticipant.activity_id)
        .where(
            Activity.workspace_id == workspace.id,
            Activity.dropped == "no_match",
            Activity.occurred_at >= since,
        )
    )
    staged: dict[str, _Staged] = defaultdict(_Staged)
    for address, name, activity_id, occurred_at in rows:
        domain = domain_of(address)
        if (
            not domain
            or address in staff
            or _is_own(domain, own_domains)
            or is_free_mail_domain(domain)
            or is_automated_address(address)
        ):
            continue
        group = staged[domain]
        if activity_id not in group.activity_ids:
            group.activity_ids.add(activity_id)
        group.per_address[address] += 1
        if name:
            group.names[address][name] += 1
        if group.first_seen is None or occurred_at < group.first_seen:
            group.first_seen = occurred_at
        if group.last_seen is None or occurred_at > group.last_seen:
            group.last_seen = occurred_at
    return staged


def _is_own(domain: str, own_domains: set[str]) -> bool:
    return any(domain == own or domain.endswith("." + own) for own in own_domains)


def _known_domains(session: Session, workspace: Workspace) -> set[str]:
    rows = session.scalars(
        select(ReferralSource).where(
            ReferralSource.workspace_id == workspace.id,
            ReferralSource.kind == SourceKind.PRACTICE,
        )
    )
    return {domain for practice in rows for domain in practice.known("domains")}


def _judge(session: Session, domain: str, group: _Staged) -> Suggestion | None:
    correspondents = []
    reasons: list[str] = []
    for address, count in group.per_address.most_common():
        names = group.names.get(address)
        name = names.most_common(1)[0][0] if names else None
        correspondents.append(Correspondent(address, name, count, _clinician(name)))
    clinicians = [person for person in correspondents if person.clinician]
    if clinicians:
        reasons.append(
            f"{len(clinicians)} correspondent(s) named as clinicians "
            f"(for example {clinicians[0].name})"
        )
    texts = [domain.split(".")[0], *(p.name for p in correspondents if p.name)]
    hints = [organisation_hints(text) for text in texts]
    if any(hint.clinical for hint in hints):
        reasons.append("practice words in the domain or the names")
    if not clinicians and (not reasons or any(hint.other for hint in hints)):
        return None
    assert group.first_seen is not None and group.last_seen is not None
    return Suggestion(
        key=f"domain:{domain}",
        domain=domain,
        activities=len(group.activity_ids),
        first_seen=group.first_seen,
        last_seen=group.last_seen,
        correspondents=correspondents,
        reasons=reasons,
        examples=_examples(session, group.activity_ids),
    )


def _clinician(name: str | None) -> bool:
    if not name:
        return False
    parsed = parse_person_name(name)
    return parsed is not None and (parsed.has_doctor_title or bool(parsed.credentials))


def _examples(
    session: Session, activity_ids: set[int]
) -> list[tuple[dt.datetime, str, str | None]]:
    rows = session.execute(
        select(Activity.occurred_at, Activity.kind, Activity.subject)
        .where(Activity.id.in_(activity_ids))
        .order_by(Activity.occurred_at.desc())
        .limit(EXAMPLES)
    )
    return [(when, kind, subject) for when, kind, subject in rows]


@dataclasses.dataclass
class Accepted:
    practice: ReferralSource
    providers: list[Provider]
    rematch: RematchReport


def accept(
    session: Session,
    workspace: Workspace,
    key: str,
    now: dt.datetime,
    actor: str,
    name: str | None = None,
) -> Accepted:
    """Create the suggested practice and its clinicians, then link past activity.

    Raises SuggestionError when `key` is not a current suggestion.
    """
    suggestion = _current(session, workspace, key, now)
    practice_name = (name or _default_name(suggestion.domain)).strip()
    practice = Practice(
        workspace_id=workspace.id,
        name=practice_name,
        import_key=import_key(SourceKind.PRACTICE, None, practice_name),
        domains=[suggestion.domain],
        emails=[],
        phones=[],
    )
    session.add(practice)
    session.flush()
    providers = []
    for person in suggestion.clinicians:
        assert person.name is not None
        provider = Provider(
            workspace_id=workspace.id,
            name=person.name,
            practice_id=practice.id,
            import_key=import_key(SourceKind.PROVIDER, practice_name, person.name),
            emails=[person.address],
            domains=[],
            phones=[],
        )
        session.add(provider)
        providers.append(provider)
    _decide(session, workspace, key, SuggestionAction.ACCEPTED, practice.id)
    audit.record(
        session,
        actor,
        "sources.suggestion_accept",
        f"source:{practice.id}",
        {"providers": len(providers), "activities": suggestion.activities},
        workspace=workspace,
    )
    session.flush()
    past = _past_activities(session, workspace, suggestion.domain)
    report = rematch_in_session(session, workspace, past)
    return Accepted(practice, providers, report)


def dismiss(
    session: Session, workspace: Workspace, key: str, now: dt.datetime, actor: str
) -> None:
    """Stop suggesting `key`; raises SuggestionError when it is not suggested."""
    _current(session, workspace, key, now)
    _decide(session, workspace, key, SuggestionAction.DISMISSED, None)
    audit.record(
        session,
        actor,
        "sources.suggestion_dismiss",
        key.split(":", 1)[0],
        {},
        workspace=workspace,
    )


def _current(
    session: Session, workspace: Workspace, key: str, now: dt.datetime
) -> Suggestion:
    for suggestion in suggest(session, workspace, now):
        if suggestion.key == key:
            return suggestion
    raise SuggestionError(
        f"{key!r} is not a current suggestion; run `warmline sources suggest` "
        "and copy a key from its list"
    )


def _decide(
    session: Session,
    workspace: Workspace,
    key: str,
    action: SuggestionAction,
    source_id: int | None,
) -> None:
    session.add(
        SuggestionDecision(
            workspace_id=workspace.id,
            key=key,
            action=action,
            source_id=source_id,
            decided_at=utcnow(),
        )
    )


def _past_activities(session: Session, workspace: Workspace, domain: str) -> list[int]:
    """Return every stored activity with a correspondent at `domain`."""
    return list(
        session.scalars(
            select(ActivityParticipant.activity_id)
            .join(Activity, Activity.id == ActivityParticipant.activity_id)
            .where(
                Activity.workspace_id == workspace.id,
                ActivityParticipant.address.like(
                    f"%@{like_escape(domain)}", escape="\\"
                ),
            )
            .distinct()
        )
    )


def _default_name(domain: str) -> str:
    return domain.split(".")[0].replace("-", " ").title()
