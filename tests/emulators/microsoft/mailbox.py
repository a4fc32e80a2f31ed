"""One user's mailbox in the emulator: mail folders, messages and change history.

Every change takes the next number of a mailbox-wide sequence.  A message
delta token stores the sequence number its round started at, so the next
round returns the messages of the folder changed since then and a
`@removed` entry for each message that left the folder (deleted or moved).

Message ids are immutable ids.  A request without `Prefer:
IdType="ImmutableId"` gets mutable ids instead, derived from the immutable id
and the current folder, so they change when a message moves, as Outlook's do.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import secrets
import threading
from typing import Any

from tests.emulators.microsoft.calendars import CalendarStore
from tests.emulators.microsoft.identity import User

IMMUTABLE_PREFIX = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A"
MUTABLE_PREFIX = "AAMkAGI2TG93AAA-"

WELL_KNOWN_FOLDERS = (
    ("inbox", "Inbox"),
    ("sentitems", "Sent Items"),
    ("drafts", "Drafts"),
    ("deleteditems", "Deleted Items"),
    ("archive", "Archive"),
)

MESSAGE_FIELDS = (
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "internetMessageId",
    "conversationId",
    "sentDateTime",
    "receivedDateTime",
    "isRead",
    "isDraft",
    "parentFolderId",
    "bodyPreview",
)


def new_id(prefix: str = IMMUTABLE_PREFIX) -> str:
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode()


def address(name: str | None, mail: str) -> dict[str, Any]:
    """Return a Graph recipient: {"emailAddress": {"name": ..., "address": ...}}."""
    value: dict[str, Any] = {"address": mail}
    if name is not None:
        value["name"] = name
    return {"emailAddress": value}


@dataclasses.dataclass
class Folder:
    id: str
    display_name: str
    well_known: str | None = None


@dataclasses.dataclass
class Message:
    id: str
    folder_id: str
    fields: dict[str, Any]
    seq: int


@dataclasses.dataclass
class Tombstone:
    seq: int
    folder_id: str
    message_id: str


class Mailbox:
    """Mail folders and calendars of one user; thread-safe through `lock`."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.lock = threading.RLock()
        self.seq = 0
        self.folders: dict[str, Folder] = {}
        self.messages: dict[str, Message] = {}
        self.tombstones: list[Tombstone] = []
        self._mutable: dict[str, str] = {}
        for well_known, display_name in WELL_KNOWN_FOLDERS:
            self.add_folder(display_name, well_known)
        self.calendars = CalendarStore(self)
        self.sent: list[bytes | dict[str, Any]] = []
        """Messages received by sendMail: MIME bytes, or the JSON message."""

    def next_seq(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq

    # --- folders and ids -------------------------------------------------

    def add_folder(self, display_name: str, well_known: str | None = None) -> Folder:
        folder = Folder(new_id("AAMkAFolder"), display_name, well_known)
        self.folders[folder.id] = folder
        return folder

    def folder(self, key: str) -> Folder | None:
        """Find a folder by id or well-known name (case-insensitive)."""
        if key in self.folders:
            return self.folders[key]
        for folder in self.folders.values():
            if folder.well_known == key.lower():
                return folder
        return None

    def mutable_id(self, message_id: str, folder_id: str) -> str:
        digest = hashlib.sha256(f"{message_id}/{folder_id}".encode()).digest()
        mutable = MUTABLE_PREFIX + base64.urlsafe_b64encode(digest).decode()
        self._mutable[mutable] = message_id
        return mutable

    def resolve_message_id(self, key: str) -> str:
        return self._mutable.get(key, key)

    # --- messages ---------------------------------------------------------

    def add_message(
        self,
        folder: str,
        *,
        subject: str,
        sender: dict[str, Any] | None,
        to: list[dict[str, Any]],
        sent: dt.datetime,
        internet_message_id: str | None = None,
        cc: list[dict[str, Any]] | None = None,
        bcc: list[dict[str, Any]] | None = None,
        conversation_id: str | None = None,
        is_draft: bool = False,
        **extra: Any,
    ) -> Message:
        with self.lock:
            target = self._require_folder(folder)
            stamp = sent.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            fields: dict[str, Any] = {
                "subject": subject,
                "from": sender,
                "sender": sender,
                "toRecipients": to,
                "ccRecipients": cc or [],
                "bccRecipients": bcc or [],
                "replyTo": [],
                "internetMessageId": internet_message_id,
                "conversationId": conversation_id or new_id("AAQkAConv"),
                "sentDateTime": stamp,
                "receivedDateTime": stamp,
                "isRead": False,
                "isDraft": is_draft,
                "bodyPreview": "Body text that Mail.ReadBasic hides.",
                **extra,
            }
            message = Message(new_id(), target.id, fields, self.next_seq())
            self.messages[message.id] = message
            return message

    def update_message(self, message_id: str, **fields: Any) -> None:
        with self.lock:
            message = self.messages[message_id]
            message.fields.update(fields)
            message.seq = self.next_seq()

    def move_message(self, message_id: str, folder: str) -> None:
        with self.lock:
            message = self.messages[message_id]
            target = self._require_folder(folder)
            seq = self.next_seq()
            self.tombstones.append(Tombstone(seq, message.folder_id, message_id))
            message.folder_id = target.id
            message.seq = seq

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            message = self.messages.pop(message_id)
            self.tombstones.append(
                Tombstone(self.next_seq(), message.folder_id, message_id)
            )

    def _require_folder(self, key: str) -> Folder:
        folder = self.folder(key)
        if folder is None:
            raise KeyError(f"no folder {key!r} in the mailbox of {self.user.upn}")
        return folder

    def render_message(
        self, message: Message, select: list[str] | None, immutable: bool
    ) -> dict[str, Any]:
        names = select or list(MESSAGE_FIELDS)
        fields = dict(message.fields, parentFolderId=message.folder_id)
        item: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.message",
            "@odata.etag": f'W/"{message.seq}"',
        }
        for name in names:
            if name in fields:
                item[name] = fields[name]
        item["id"] = (
            message.id if immutable else self.mutable_id(message.id, message.folder_id)
        )
        return item

    def message_changes(
        self, folder_id: str, since: int | None
    ) -> list[tuple[str, str]]:
        """Return ("message", id) and ("removed", id) entries of a delta round.

        A full round (`since` None) lists the folder's messages.  Otherwise it
        lists messages of the folder changed after `since` and the messages
        that left the folder after `since` and are not back in it.
        """
        with self.lock:
            start = since or 0
            current = sorted(
                (
                    m
                    for m in self.messages.values()
                    if m.folder_id == folder_id and m.seq > start
                ),
                key=lambda m: m.seq,
            )
            entries = [("message", m.id) for m in current]
            if since is None:
                return entries
            removed = []
            for tombstone in self.tombstones:
                if tombstone.folder_id != folder_id or tombstone.seq <= since:
                    continue
                message = self.messages.get(tombstone.message_id)
                if message is None or message.folder_id != folder_id:
                    removed.append(("removed", tombstone.message_id))
            return entries + list(dict.fromkeys(removed))
