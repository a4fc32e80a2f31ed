"""What the emulator holds: users with a Gmail mailbox and calendars.

A mailbox keeps its messages and a history log.  Every change (message
added or deleted, label added or removed) gets the next history id, as in
Gmail, and the message's `historyId` moves with it.  `expire_history`
clears the log, so that any older `startHistoryId` gets 404.

A calendar keeps event resources as Calendar v3 returns them with
singleEvents=true (instances already expanded) and a change counter.  Each
change stamps the event with the counter; a sync token names the counter
value it was issued at and the calendar's token generation, which
`invalidate_sync_tokens` moves on.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
import threading
from collections.abc import Iterable, Sequence
from typing import Any

SPAM_TRASH = frozenset({"SPAM", "TRASH"})


@dataclasses.dataclass
class Message:
    id: str
    thread_id: str
    label_ids: list[str]
    internal_date: int
    headers: list[tuple[str, str]]
    history_id: int
    size_estimate: int = 2048

    def sort_key(self) -> tuple[int, str]:
        return (self.internal_date, self.id)


@dataclasses.dataclass(frozen=True)
class HistoryRecord:
    id: int
    kind: str
    message_id: str
    thread_id: str
    label_ids: tuple[str, ...]
    changed_labels: tuple[str, ...] = ()


class Mailbox:
    """One user's Gmail mailbox; safe to change while the server runs."""

    def __init__(self, email: str, first_history_id: int = 884_000) -> None:
        self.email = email
        self.lock = threading.RLock()
        self.messages: dict[str, Message] = {}
        self.history: list[HistoryRecord] = []
        self.history_id = first_history_id
        self.history_floor = first_history_id
        self._ids = itertools.count(0x18E0000000000000)
        self._sorted: list[Message] | None = None
        self.sent: list[bytes] = []
        """Raw RFC 822 messages received by users.messages.send, in order."""

    def add_message(
        self,
        headers: Sequence[tuple[str, str]],
        label_ids: Iterable[str] = ("INBOX",),
        internal_date: dt.datetime | None = None,
        message_id: str | None = None,
        thread_id: str | None = None,
        record_history: bool = True,
    ) -> Message:
        """Add a message; `record_history=False` loads a mailbox quietly."""
        with self.lock:
            new_id = message_id or f"{next(self._ids):016x}"
            moment = internal_date or dt.datetime.now(dt.UTC)
            self.history_id += 1
            message = Message(
                id=new_id,
                thread_id=thread_id or new_id,
                label_ids=list(label_ids),
                internal_date=int(moment.timestamp() * 1000),
                headers=list(headers),
                history_id=self.history_id,
            )
            self.messages[new_id] = message
            self._sorted = None
            if record_history:
                self._record("messagesAdded", message)
            else:
                self.history_floor = self.history_id
            return message

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            message = self.messages.pop(message_id)
            self._sorted = None
            self.history_id += 1
            self._record("messagesDeleted", message)

    def add_labels(self, message_id: str, labels: Iterable[str]) -> None:
        with self.lock:
            message = self.messages[message_id]
            added = tuple(label for label in labels if label not in message.label_ids)
            message.label_ids.extend(added)
            self.history_id += 1
            message.history_id = self.history_id
            self._record("labelsAdded", message, added)

    def remove_labels(self, message_id: str, labels: Iterable[str]) -> None:
        with self.lock:
            message = self.messages[message_id]
            removed = tuple(label for label in labels if label in message.label_ids)
            message.label_ids = [
                label for label in message.label_ids if label not in removed
            ]
            self.history_id += 1
            message.history_id = self.history_id
            self._record("labelsRemoved", message, removed)

    def expire_history(self) -> None:
        """Forget the history log: older start ids now get 404."""
        with self.lock:
            self.history.clear()
            self.history_floor = self.history_id

    def listed(self, include_spam_trash: bool) -> list[Message]:
        """Return the messages as messages.list orders them: newest first."""
        with self.lock:
            if self._sorted is None:
                self._sorted = sorted(
                    self.messages.values(), key=Message.sort_key, reverse=True
                )
            if include_spam_trash:
                return list(self._sorted)
            return [m for m in self._sorted if not SPAM_TRASH & set(m.label_ids)]

    def _record(
        self, kind: str, message: Message, changed: tuple[str, ...] = ()
    ) -> None:
        self.history.append(
            HistoryRecord(
                id=self.history_id,
                kind=kind,
                message_id=message.id,
                thread_id=message.thread_id,
                label_ids=tuple(message.label_ids),
                changed_labels=changed,
            )
        )


class Calendar:
    """One calendar's event resources and change counter."""

    def __init__(self, calendar_id: str, time_zone: str = "UTC") -> None:
        self.id = calendar_id
        self.time_zone = time_zone
        self.lock = threading.RLock()
        self.events: dict[str, dict[str, Any]] = {}
        self.changed_at: dict[str, int] = {}
        self.sequence = 1
        self.generation = 1
        self.invalidation_has_reason = True

    def put(self, event: dict[str, Any]) -> None:
        """Add or replace an event resource (an instance for recurring ones)."""
        with self.lock:
            self.sequence += 1
            stored = copy.deepcopy(event)
            stored.setdefault("kind", "calendar#event")
            stored.setdefault("status", "confirmed")
            stored["etag"] = f'"{self.sequence}"'
            stored["updated"] = dt.datetime.now(dt.UTC).isoformat()
            self.events[stored["id"]] = stored
            self.changed_at[stored["id"]] = self.sequence

    def cancel(self, event_id: str) -> None:
        """Mark an event or instance cancelled, as deleting it in Google does."""
        with self.lock:
            event = self.events[event_id]
            self.sequence += 1
            event["status"] = "cancelled"
            self.changed_at[event_id] = self.sequence

    def invalidate_sync_tokens(self, with_reason: bool = True) -> None:
        """Make every sync token issued so far fail with 410."""
        with self.lock:
            self.generation += 1
            self.invalidation_has_reason = with_reason


@dataclasses.dataclass
class User:
    email: str
    mailbox: Mailbox
    calendars: dict[str, Calendar]

    def calendar(self, calendar_id: str) -> Calendar | None:
        if calendar_id == "primary" or calendar_id == self.email:
            return self.calendars.get("primary")
        return self.calendars.get(calendar_id)


def new_user(email: str, time_zone: str = "UTC") -> User:
    return User(email, Mailbox(email), {"primary": Calendar(email, time_zone)})
