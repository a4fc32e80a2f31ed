"""Outlook mail over Microsoft Graph: message delta per mail folder.

Unit of sync: one mail folder of one mailbox, Inbox and Sent Items by
default plus folders named in the account's settings.  Each folder has its
own link in the cursor, and its state is one of:

- new: no link.  The next read starts a full round with
  GET /mailFolders/{id}/messages/delta?$select=<metadata fields>.
- in a round: the link is the round's newest @odata.nextLink.
- synced: the link is the round's @odata.deltaLink, and the next read
  starts an incremental round from it.

A page with @odata.nextLink keeps the folder in its round, even when its
`value` is empty; the page with @odata.deltaLink ends it.  What resets a
cursor: 410 Gone, or the codes syncStateNotFound or resyncRequired, on any
link of a folder (an expired deltaLink, or an older nextLink of a round
reused after a crash).  That folder alone goes back to new and starts a
full round at once; the other folders keep their links.

Identity: every request sends `Prefer: IdType="ImmutableId"`, and the
provider key is the immutable id alone, so a message keeps its key, its
sighting and its touchpoints when it moves between folders.  The external
id is the internetMessageId without brackets, or the immutable id when a
message has none.  A message lives in one folder at a time, and the cursor
records the ids each folder holds.  A `@removed` entry takes the id out of
its folder and queues it; once every folder has been read, each queued id
that no folder contains yields `Removed`.  So a message moved from Inbox to
Sent Items keeps its sighting whichever folder is read first.  When a full
round ends, the ids the folder held before and did not list again are
queued the same way.  ScopeListed cannot do this job, because a key
without a folder prefix leaves no prefix that names one folder's messages.

Partial items: a round may repeat a message with only its changed fields
(such as isRead).  Such items, and any item missing a metadata field, are
fetched whole in JSON batches before they are yielded, so a partial copy
never blanks a stored subject or participant list.

Positions: the cursor goes into an item's `position` when a round ends and
otherwise at most once per `checkpoint_items` items, because each copy
carries every folder's id set.  A crash replays at most that many items,
and upserts absorb the replay.  The reader holds no database transaction;
the pipeline commits each batch.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.errors import (
    CursorExpired,
    MalformedData,
    RemoteGone,
    SourceUnavailable,
)
from connectors.microsoft import fields
from connectors.microsoft.client import BatchRequest, GraphClient
from connectors.microsoft.state import pack_ids, unpack_ids
from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Item,
    Participant,
    ParticipantRole,
    Quarantined,
    Removed,
)

log = structlog.get_logger(__name__)

CURSOR_VERSION = 1
DEFAULT_FOLDERS = ("inbox", "sentitems")
# Folder names Graph accepts in place of an id.
WELL_KNOWN_FOLDERS = frozenset(
    {"inbox", "sentitems", "drafts", "deleteditems", "archive", "junkemail", "outbox"}
)
MESSAGE_FIELDS = (
    "internetMessageId",
    "conversationId",
    "subject",
    "sentDateTime",
    "receivedDateTime",
    "from",
    "sender",
    "replyTo",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "isDraft",
)
ADDRESS_FIELDS = (
    ("from", ParticipantRole.FROM),
    ("sender", ParticipantRole.SENDER),
    ("replyTo", ParticipantRole.REPLY_TO),
    ("toRecipients", ParticipantRole.TO),
    ("ccRecipients", ParticipantRole.CC),
    ("bccRecipients", ParticipantRole.BCC),
)
# Full rounds in a row that one read may start for a folder before it gives up.
MAX_RESTARTS = 2


@dataclasses.dataclass
class FolderState:
    """One folder's part of the cursor.

    `members` are the ids the folder held after its last finished round, and
    during an incremental round the changes so far.  A full round collects
    what it lists in `listed` and replaces `members` with it at its end.
    """

    name: str
    id: str | None = None
    display_name: str | None = None
    link: str | None = None
    full: bool = True
    members: set[str] = dataclasses.field(default_factory=set)
    listed: set[str] = dataclasses.field(default_factory=set)

    def restart(self) -> None:
        self.link = None
        self.full = True
        self.listed = set()

    def holds(self, message_id: str) -> bool:
        return message_id in self.members or message_id in self.listed

    def add(self, message_id: str) -> None:
        (self.listed if self.full else self.members).add(message_id)

    def discard(self, message_id: str) -> None:
        self.listed.discard(message_id)
        self.members.discard(message_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "link": self.link,
            "full": self.full,
            "members": pack_ids(self.members),
            "listed": pack_ids(self.listed),
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> FolderState:
        return cls(
            name=name,
            id=data.get("id"),
            display_name=data.get("display_name"),
            link=data.get("link"),
            full=bool(data.get("full", True)),
            members=unpack_ids(data.get("members")),
            listed=unpack_ids(data.get("listed")),
        )


@dataclasses.dataclass
class MailState:
    """The whole cursor: every folder's state and the ids queued for removal."""

    folders: dict[str, FolderState]
    pending: set[str]

    @classmethod
    def decode(cls, cursor: str | None) -> MailState:
        if not cursor:
            return cls({}, set())
        try:
            data = json.loads(cursor)
        except json.JSONDecodeError as error:
            raise CursorExpired(
                "the Outlook mail cursor is not JSON; a full sync follows"
            ) from error
        if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
            raise CursorExpired(
                "the Outlook mail cursor has another version; a full sync follows"
            )
        folders = {
            name: FolderState.from_json(name, value)
            for name, value in data.get("folders", {}).items()
        }
        return cls(folders, unpack_ids(data.get("pending")))

    def encode(self) -> str:
        return json.dumps(
            {
                "version": CURSOR_VERSION,
                "folders": {name: f.to_json() for name, f in self.folders.items()},
                "pending": pack_ids(self.pending),
            },
            separators=(",", ":"),
        )

    def held(self, message_id: str) -> bool:
        return any(folder.holds(message_id) for folder in self.folders.values())


class OutlookMailReader(Reader):
    """Reads the messages of an Outlook mailbox's folders through Graph delta.

    `folders` are well-known names (inbox, sentitems, archive, ...) or
    display names of top-level folders, matched without regard to case.
    """

    def __init__(
        self,
        client: GraphClient,
        folders: Sequence[str] = DEFAULT_FOLDERS,
    ) -> None:
        super().__init__()
        self._client = client
        self._names = [name.strip().lower() for name in folders if name.strip()]
        if not self._names:
            raise ValueError("no mail folder to read; name at least one")
        self._log = log.bind(mailbox=client.mailbox)
        self._since_checkpoint = 0

    @property
    def client(self) -> GraphClient:
        """The Graph client of this mailbox, also used for its subscriptions."""
        return self._client

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        try:
            state = MailState.decode(cursor)
        except CursorExpired as error:
            self._log.warning("mail cursor unreadable; full sync", error=str(error))
            state = MailState({}, set())
        state.folders = {
            name: state.folders.get(name) or FolderState(name) for name in self._names
        }
        try:
            self._resolve_folders(state)
            done = 0
            for name in self._names:
                for item in self._read_folder(state, state.folders[name]):
                    done += 1
                    yield item
                if progress is not None:
                    progress(done, None)
            yield from self._flush_removals(state)
        finally:
            self._client.close()
        self.final_cursor = state.encode()

    # --- folders -------------------------------------------------------------

    def _resolve_folders(self, state: MailState) -> None:
        """Find the id of each folder the cursor does not know yet."""
        missing = [f for f in state.folders.values() if f.id is None]
        if not missing:
            return
        by_name: dict[str, dict[str, Any]] = {}
        if any(f.name not in WELL_KNOWN_FOLDERS for f in missing):
            by_name = self._list_folders()
        for folder in missing:
            if folder.name in WELL_KNOWN_FOLDERS:
                url = self._client.url(
                    f"/mailFolders/{folder.name}", {"$select": "id,displayName"}
                )
                try:
                    found = self._client.get(url)
                except RemoteGone as error:
                    raise SourceUnavailable(
                        f"mail folder {folder.name!r} not found in "
                        f"{self._client.mailbox}"
                    ) from error
            else:
                found = by_name.get(folder.name) or {}
            if not found.get("id"):
                raise SourceUnavailable(
                    f"mail folder {folder.name!r} not found in {self._client.mailbox}; "
                    "check the account's mail folder names"
                )
            folder.id = str(found["id"])
            folder.display_name = str(found.get("displayName") or folder.name)

    def _list_folders(self) -> dict[str, dict[str, Any]]:
        url: str | None = self._client.url(
            "/mailFolders", {"$select": "id,displayName", "$top": "100"}
        )
        found: dict[str, dict[str, Any]] = {}
        while url:
            page = self._client.get(url)
            for folder in page.get("value", []):
                name = str(folder.get("displayName") or "").strip().lower()
                found.setdefault(name, folder)
            url = page.get("@odata.nextLink")
        return found

    # --- rounds --------------------------------------------------------------

    def _read_folder(self, state: MailState, folder: FolderState) -> Iterator[Item]:
        restarts = 0
        while True:
            try:
                yield from self._read_round(state, folder)
                return
            except CursorExpired as error:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise
                self._log.warning(
                    "mail folder delta expired; full round restarts",
                    folder=folder.display_name,
                    error=str(error),
                )
                folder.restart()

    def _read_round(self, state: MailState, folder: FolderState) -> Iterator[Item]:
        url = folder.link or self._initial_url(folder)
        prefer = [f"odata.maxpagesize={self._client.config.page_size}"]
        while True:
            page = self._client.get(url, prefer)
            value = page.get("value")
            next_link = page.get("@odata.nextLink")
            delta_link = page.get("@odata.deltaLink")
            if not isinstance(value, list) or bool(next_link) == bool(delta_link):
                raise MalformedData(
                    f"a message delta page of {folder.display_name!r} has no value "
                    "list or not exactly one of nextLink and deltaLink"
                )
            items = self._page_items(state, folder, value)
            folder.link = str(next_link or delta_link)
            if delta_link:
                self._end_round(state, folder)
            yield from self._with_position(state, items, bool(delta_link))
            if delta_link:
                self._log.info(
                    "mail folder round finished",
                    folder=folder.display_name,
                    members=len(folder.members),
                    queued_removals=len(state.pending),
                )
                return
            url = str(next_link)

    def _initial_url(self, folder: FolderState) -> str:
        assert folder.id is not None
        folder_id = urllib.parse.quote(folder.id, safe="")
        return self._client.url(
            f"/mailFolders/{folder_id}/messages/delta",
            {"$select": ",".join(MESSAGE_FIELDS)},
        )

    def _end_round(self, state: MailState, folder: FolderState) -> None:
        if folder.full:
            gone = folder.members - folder.listed
            state.pending |= gone
            folder.members = folder.listed
            folder.listed = set()
            folder.full = False

    def _with_position(
        self, state: MailState, items: list[Item], round_ended: bool
    ) -> Iterator[Item]:
        self._since_checkpoint += len(items)
        checkpoint = round_ended or (
            self._since_checkpoint >= self._client.config.checkpoint_items
        )
        if items and checkpoint:
            items[-1] = dataclasses.replace(items[-1], position=state.encode())
            self._since_checkpoint = 0
        yield from items

    def _page_items(
        self, state: MailState, folder: FolderState, value: list[Any]
    ) -> list[Item]:
        """Apply one page to the folder's ids and return its items to yield."""
        latest: dict[str, dict[str, Any] | None] = {}
        for raw in value:
            message_id = raw.get("id") if isinstance(raw, dict) else None
            if not isinstance(message_id, str) or not message_id:
                self._log.warning(
                    "message delta entry without id skipped", folder=folder.display_name
                )
                continue
            if "@removed" in raw:
                self._remove(state, folder, message_id)
                latest.pop(message_id, None)
                continue
            folder.add(message_id)
            latest.pop(message_id, None)
            latest[message_id] = raw if _is_complete(raw) else None
        partial = [message_id for message_id, raw in latest.items() if raw is None]
        fetched = self._fetch_whole(partial)
        items: list[Item] = []
        for message_id, raw in latest.items():
            raw = raw if raw is not None else fetched.get(message_id)
            if raw is None:
                self._remove(state, folder, message_id)
                continue
            item = message_item(
                raw, folder.display_name or folder.name, folder.name == "sentitems"
            )
            if item is not None:
                items.append(item)
        return items

    def _remove(self, state: MailState, folder: FolderState, message_id: str) -> None:
        folder.discard(message_id)
        state.pending.add(message_id)

    def _fetch_whole(self, message_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """GET whole messages in JSON batches; a message gone since maps to None."""
        if not message_ids:
            return {}
        select = ",".join(MESSAGE_FIELDS)
        requests = [
            BatchRequest(
                id=str(index),
                url=f"{self._client.user_path}/messages/"
                f"{urllib.parse.quote(message_id, safe='')}?$select={select}",
                headers={"Prefer": 'IdType="ImmutableId"'},
            )
            for index, message_id in enumerate(message_ids)
        ]
        responses = self._client.batch(requests)
        found: dict[str, dict[str, Any] | None] = {}
        for request, message_id in zip(requests, message_ids, strict=True):
            response = responses[request.id]
            if response.status == 404:
                found[message_id] = None
            elif response.status >= 300 or not isinstance(response.body, dict):
                raise response.error(f"GET of message {message_id}")
            else:
                found[message_id] = response.body
        return found

    def _flush_removals(self, state: MailState) -> Iterator[Item]:
        removals: list[Item] = [
            Removed(message_id)
            for message_id in sorted(state.pending)
            if not state.held(message_id)
        ]
        state.pending = set()
        if removals:
            removals[-1] = dataclasses.replace(removals[-1], position=state.encode())
            self._log.info("mail removals", count=len(removals))
        yield from removals


def _is_complete(raw: dict[str, Any]) -> bool:
    return all(name in raw for name in MESSAGE_FIELDS)


def message_item(raw: dict[str, Any], folder_name: str, sent: bool) -> Item | None:
    """Build the item of one whole Graph message; None for a draft.

    `sent` marks a message read from Sent Items, which gets Flag.SENT.
    """
    message_id = str(raw["id"])
    if raw.get("isDraft") is True:
        return None
    defects: list[str] = []
    try:
        occurred_at = fields.timestamp(raw.get("sentDateTime")) or fields.timestamp(
            raw.get("receivedDateTime")
        )
    except ValueError as error:
        return Quarantined(
            message_id, f"unreadable sentDateTime or receivedDateTime: {error}"
        )
    if occurred_at is None:
        return Quarantined(
            message_id, "message has neither sentDateTime nor receivedDateTime"
        )
    participants = _participants(raw, defects)
    if not participants:
        reason = "no valid address in from, sender, replyTo or the recipient lists"
        notes = "; ".join(defects[:3])
        return Quarantined(message_id, f"{reason} ({notes})" if notes else reason)
    external_id = fields.message_id(raw.get("internetMessageId"))
    if external_id is None:
        defects.append("internetMessageId is missing; the immutable id is used")
        external_id = message_id
    subject = raw.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        subject = None
    return Activity(
        kind=ActivityKind.EMAIL,
        provider_key=message_id,
        external_id=external_id,
        occurred_at=occurred_at,
        participants=tuple(participants),
        subject=subject.strip() if subject else None,
        thread_id=raw.get("conversationId") or None,
        labels=(folder_name,),
        flags=frozenset({Flag.SENT}) if sent else frozenset(),
        defects=tuple(defects),
    )


def _participants(raw: dict[str, Any], defects: list[str]) -> list[Participant]:
    found: list[Participant] = []
    from_addresses: set[str] = set()
    for field, role in ADDRESS_FIELDS:
        people = fields.recipients(raw.get(field), role, field, defects)
        if role is ParticipantRole.FROM:
            from_addresses = {p.address for p in people}
        elif role is ParticipantRole.SENDER:
            # Graph repeats From in sender; keep sender only when it differs.
            people = [p for p in people if p.address not in from_addresses]
        found.extend(people)
    return found
