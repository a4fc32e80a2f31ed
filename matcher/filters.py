"""Decide which activities cannot be touchpoints, before any matching."""

from __future__ import annotations

import functools
import re

from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Participant,
    ParticipantRole,
)
from matcher.records import DropReason, MatchSettings
from matcher.text import domain_of, local_part_of

# Local parts of automated senders: no-reply@, do_not_reply@, mailer-daemon@,
# calendar-noreply@, notifications+abc@.  Separators are removed first, so
# "no.reply" and "no_reply" count too.
_AUTOMATED_ANYWHERE = ("noreply", "donotreply", "dontreply", "mailerdaemon")
_AUTOMATED_PREFIXES = (
    "postmaster",
    "notification",
    "notify",
    "bounce",
    "newsletter",
)
_SEPARATORS = re.compile(r"[-_.]")

_SENDER_ROLES = frozenset(
    {ParticipantRole.FROM, ParticipantRole.SENDER, ParticipantRole.ORGANIZER}
)
_ATTENDING_RESPONSES = frozenset({"accepted", "tentative"})


def classify(activity: Activity, settings: MatchSettings) -> DropReason | None:
    """Return why an activity can produce no touchpoint, or None.

    Checked in this order: a cancelled meeting, a meeting every staff
    attendee declined, an automatic reply, bulk or automated mail, and
    activity among staff only.
    """
    if Flag.CANCELLED in activity.flags:
        return DropReason.CANCELLED
    if activity.kind is ActivityKind.MEETING and _declined_by_staff(activity, settings):
        return DropReason.DECLINED
    if Flag.AUTO_REPLY in activity.flags:
        return DropReason.AUTO_REPLY
    if Flag.BULK in activity.flags or _sent_by_automated_address(activity):
        return DropReason.BULK
    if _is_internal(activity, settings):
        return DropReason.INTERNAL
    return None


def is_internal_address(address: str, settings: MatchSettings) -> bool:
    """Tell whether an address is a staff address or at one of our domains."""
    if address in settings.staff_addresses:
        return True
    own_domains = settings.own_domains
    domain = domain_of(address)
    # The domain and each parent of it, so that subdomains count too.
    while domain:
        if domain in own_domains:
            return True
        domain = domain.partition(".")[2]
    return False


@functools.lru_cache(maxsize=65_536)
def is_automated_address(address: str) -> bool:
    """Tell whether an address belongs to a no-reply or notification sender."""
    local = _SEPARATORS.sub("", local_part_of(address).split("+", 1)[0])
    if any(marker in local for marker in _AUTOMATED_ANYWHERE):
        return True
    return local.startswith(_AUTOMATED_PREFIXES)


def _sent_by_automated_address(activity: Activity) -> bool:
    for participant in activity.participants:
        if participant.role in _SENDER_ROLES and is_automated_address(
            participant.address
        ):
            return True
    return False


def _declined_by_staff(activity: Activity, settings: MatchSettings) -> bool:
    """Tell whether no staff member is going to the meeting.

    Flag.DECLINED marks that the account's own staff member declined.  A staff
    attendee who accepted or is tentative, or a staff organizer who has not
    declined, keeps the meeting.  Without the flag, the meeting counts as
    declined only when there are staff attendees and all of them declined.
    """
    staff = [
        participant
        for participant in activity.participants
        if participant.address in settings.staff_addresses
    ]
    if any(_attends(participant) for participant in staff):
        return False
    if Flag.DECLINED in activity.flags:
        return True
    return bool(staff) and all(
        participant.response == "declined" for participant in staff
    )


def _attends(participant: Participant) -> bool:
    if participant.response in _ATTENDING_RESPONSES:
        return True
    return (
        participant.role is ParticipantRole.ORGANIZER
        and participant.response != "declined"
    )


def _is_internal(activity: Activity, settings: MatchSettings) -> bool:
    """Tell whether only staff, or addresses at our own domains, take part.

    A meeting with at most one internal participant is a staff member's own
    calendar entry, such as "Drop off brochures - Lakeside Ortho".  It is not
    internal, so that its title and location are still matched.

    NOTE: a visit that two staff members put on one calendar entry, with no
    attendee from the practice, is dropped as internal.
    """
    addresses = {participant.address for participant in activity.participants}
    if not addresses:
        return False
    for address in addresses:
        if not is_internal_address(address, settings):
            return False
    return activity.kind is ActivityKind.EMAIL or len(addresses) >= 2
