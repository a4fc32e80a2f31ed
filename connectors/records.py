"""Plain records that every connector produces and the core pipeline consumes.

A connector turns an account's changes since its cursor into a stream of
`Item`s: an `Activity` it could read, or a `Quarantined` item it could not.
Each item carries the cursor `position` that is safe to store once that item
and everything before it are committed.  The records hold metadata only; a
message body never reaches them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class ActivityKind(enum.StrEnum):
    EMAIL = "email"
    MEETING = "meeting"


class ParticipantRole(enum.StrEnum):
    FROM = "from"
    SENDER = "sender"
    REPLY_TO = "reply_to"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ORGANIZER = "organizer"
    ATTENDEE = "attendee"


class Flag(enum.StrEnum):
    """Facts a connector reads off an item that decide whether it counts."""

    BULK = "bulk"  # List-Unsubscribe, List-Id or Precedence: bulk/list/junk
    AUTO_REPLY = "auto_reply"  # Auto-Submitted, X-Autoreply, out-of-office
    SENT = "sent"  # the provider files it as sent (Gmail SENT label, Sent folder)
    CANCELLED = "cancelled"  # a cancelled meeting or occurrence
    DECLINED = "declined"  # the staff member declined the meeting
    ALL_DAY = "all_day"  # a meeting with DATE values, not DATE-TIME


@dataclasses.dataclass(frozen=True, slots=True)
class Participant:
    """One person on an activity.

    `address` is a lower-cased addr-spec.  `name` is the display name as
    decoded, or None when there is none or it only repeats the address.
    `name_from_comment` marks a name read from an RFC 5322 comment, such as
    `dana@x.example (Dana Wu)`, which the matcher weighs below a display name.
    `response` is an attendee's PARTSTAT in lower case (accepted, declined...).
    """

    address: str
    role: ParticipantRole
    name: str | None = None
    name_from_comment: bool = False
    response: str | None = None


@dataclasses.dataclass(slots=True)
class Activity:
    """One email or one meeting occurrence, as metadata.

    `external_id` is the Message-ID without angle brackets, or the event UID.
    `occurrence` is the original start (UTC) of one occurrence of a recurring
    event, and stays the same when that occurrence is moved, while
    `occurred_at` follows the move.  Together with `kind` they identify the
    activity across accounts.  `provider_key` identifies it within one
    account (a Gmail id, a file offset, UID plus occurrence).
    """

    kind: ActivityKind
    provider_key: str
    external_id: str
    occurred_at: dt.datetime
    participants: tuple[Participant, ...]
    subject: str | None = None
    occurrence: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: str | None = None
    thread_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    flags: frozenset[Flag] = frozenset()
    defects: tuple[str, ...] = ()
    position: str | None = None

    def __post_init__(self) -> None:
        for value in (self.occurred_at, self.occurrence, self.ends_at):
            if value is not None and value.utcoffset() != dt.timedelta(0):
                raise ValueError(
                    f"activity {self.provider_key!r} has a datetime {value!r} "
                    "that is not aware UTC; convert it with astimezone(UTC)"
                )

    def addresses(self, *roles: ParticipantRole) -> list[str]:
        """List participant addresses, only those of `roles` when given."""
        return [p.address for p in self.participants if not roles or p.role in roles]


@dataclasses.dataclass(frozen=True, slots=True)
class Quarantined:
    """An item that could not be read, kept with the reason for a person."""

    provider_key: str
    reason: str
    position: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Removed:
    """The provider deleted or moved out the item with this key.

    The pipeline drops this account's sighting of it, and the activity itself
    once no account or folder holds it any more.
    """

    provider_key: str
    position: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ScopeListed:
    """Everything under a key prefix has been listed again since `since`.

    A connector yields it after a full listing of one scope, such as a folder
    after a UIDVALIDITY change or a mailbox after an expired history id.  The
    pipeline then drops the account's sightings whose provider key starts with
    `prefix` and that were last seen before `since`.  `since` is when the
    listing began, kept in the connector's cursor so that a listing resumed
    after a crash still counts the items the crashed run saw.
    """

    prefix: str
    since: dt.datetime
    position: str | None = None

    @property
    def provider_key(self) -> str:
        return self.prefix


Item = Activity | Quarantined | Removed | ScopeListed
