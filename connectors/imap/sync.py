"""IMAP mail sync: new message headers, deletions and folder resets.

Unit of sync: one account, folder by folder, with per-folder state in the
JSON cursor (see connectors.imap.cursor).  Only header blocks are fetched
(BODY.PEEK, so nothing is marked read), with FLAGS and INTERNALDATE, and on
Gmail X-GM-MSGID, X-GM-THRID and X-GM-LABELS, in chunks of `chunk_size`.

States of a folder:

- new: no state.  EXAMINE, then a full listing starts: `listing_started`
  is set and every UID is fetched.
- listing: `listing_started` is set.  Chunks are fetched from `last_uid`
  up.  When the last chunk is done the reader yields
  ScopeListed(prefix, since=listing_started), which drops this account's
  sightings under the folder's key prefix that the listing did not see,
  and the folder becomes synced.  A crash resumes the listing with the same
  `listing_started`, so what the crashed run saw still counts.
- synced: each run EXAMINEs the folder.  It is skipped with no further
  command when EXISTS equals the number of known UIDs, UIDNEXT is at most
  `last_uid` + 1, and, with CONDSTORE, HIGHESTMODSEQ is unchanged.
  Otherwise new UIDs come from UID SEARCH above `last_uid` and are
  fetched in chunks.  With QRESYNC enabled, deletions come from the
  VANISHED modifier of UID FETCH (RFC 7162).  Without it, the known range
  is compared with UID SEARCH in chunks, but only when EXISTS minus the
  new UIDs differs from the number of known UIDs.  Each UID that went
  yields Removed.

NOTE: flags and Gmail labels of messages already fetched are not read
again, so a label added later (Sent, or a Gmail draft label) does not
change the stored activity.  CONDSTORE's CHANGEDSINCE could find them.

What resets a folder's cursor: a changed UIDVALIDITY, after which every
cached UID is invalid (RFC 3501 section 2.3.1.1).  It starts a new full
listing.  Activities already stored are matched again by Message-ID
downstream, so nothing is duplicated.  A cursor this version cannot read
raises CursorExpired.  A folder in the cursor that is no longer synced
(deleted, or taken out of the account's folder list) yields
ScopeListed(prefix, since=now), which drops all of its sightings.

Positions: the last item of each chunk carries the whole cursor as it
stands after that chunk, so a crash loses at most one chunk.  The reader
opens no database transaction; the pipeline writes each batch of items in
one short transaction.

Failures: a TransientError (dropped connection, timeout, throttling reply)
closes the connection, waits as connectors.imap.retry decides, reconnects
and resumes from the in-memory state of the last chunk done.  A message
that parse_message rejects becomes a Quarantined item and the sync goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.errors import MalformedData, TransientError
from connectors.imap.client import (
    FetchedMessage,
    FolderInfo,
    ImapSession,
    MailboxStatus,
)
from connectors.imap.config import ImapConfig
from connectors.imap.cursor import FolderState, dump_cursor, load_cursor
from connectors.imap.folders import (
    choose_folders,
    is_gmail_all,
    key_prefix,
    provider_key,
)
from connectors.imap.retry import Backoff
from connectors.mail import parse_message, skipped_label
from connectors.records import Activity, Flag, Item, Quarantined, Removed, ScopeListed

logger = structlog.get_logger(__name__)

# Gmail sends its system labels as flags ("\\Sent", "\\Draft").  Without
# the backslash they are English label names, which connectors.mail lists.
_GMAIL_SYSTEM_LABEL_PREFIX = "\\"


@dataclasses.dataclass(slots=True)
class FolderReport:
    """Counts of one folder's sync, for the summary log line."""

    fetched: int = 0
    skipped: int = 0
    quarantined: int = 0
    removed: int = 0


class ImapReader(Reader):
    """Reads one IMAP account; see the module docstring.

    A read uses one connection at a time.  `sleep` and `clock` replace
    time.sleep and the current UTC time in tests.  `commands` lists the
    IMAP commands of the last `read`, over all of its connections.
    """

    def __init__(
        self,
        config: ImapConfig,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.config = config
        self.commands: list[str] = []
        self._sleep = sleep
        self._clock = clock

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield the account's changes since `cursor`, folder by folder."""
        run = _AccountRun(self.config, load_cursor(cursor), progress, self._clock)
        self.commands = []
        self.final_cursor = cursor
        backoff = Backoff(self.config.retry, self.config.log_label, self._sleep)
        while True:
            done_before = run.chunks_done
            try:
                yield from self._read_once(run)
                break
            except TransientError as error:
                if run.chunks_done > done_before:
                    backoff.reset()
                backoff.wait(error)
        self.final_cursor = dump_cursor(run.folders)

    def _read_once(self, run: _AccountRun) -> Iterator[Item]:
        session = ImapSession.open(self.config)
        try:
            yield from run.sync(session)
        finally:
            self.commands.extend(session.commands)
            session.close()


class _AccountRun:
    """The state of one `read`, kept across reconnections."""

    def __init__(
        self,
        config: ImapConfig,
        folders: dict[str, FolderState],
        progress: ProgressCallback | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.config = config
        self.folders = folders
        self.progress = progress
        self.clock = clock
        self.chunks_done = 0
        self.messages_done = 0
        self.messages_total = 0
        self.log = logger.bind(provider="imap", account=config.log_label)

    def sync(self, session: ImapSession) -> Iterator[Item]:
        listing = session.list_folders()
        chosen = choose_folders(
            listing, session.gmail, self.config.folders, self.config.account_label
        )
        yield from self._drop_unsynced({folder.name for folder in chosen})
        for folder in chosen:
            yield from self._sync_folder(session, folder)

    def _drop_unsynced(self, chosen: set[str]) -> Iterator[Item]:
        for name in sorted(set(self.folders) - chosen):
            state = self.folders.pop(name)
            prefix = key_prefix(name, state.gm_msgids is not None)
            self.log.info("imap folder no longer synced", folder=name)
            yield ScopeListed(prefix, since=self.clock(), position=self._position())

    def _sync_folder(self, session: ImapSession, folder: FolderInfo) -> Iterator[Item]:
        log = self.log.bind(folder=folder.name)
        gmail_all = is_gmail_all(folder, session.gmail)
        status = session.examine(folder.name)
        state = self._folder_state(folder.name, status, gmail_all, log)
        if _unchanged(state, status, session.condstore):
            log.debug("imap folder unchanged", exists=status.exists)
            return
        report = FolderReport()
        new_uids = _new_uids(session, state, status)
        yield from self._removals(session, folder, state, status, new_uids, report)
        yield from self._new_messages(session, folder, state, new_uids, report)
        if status.uidnext is not None:
            state.last_uid = max(state.last_uid, status.uidnext - 1)
        state.highestmodseq = status.highestmodseq
        if state.listing_started is not None:
            since = state.listing_started
            state.listing_started = None
            prefix = key_prefix(folder.name, gmail_all)
            yield ScopeListed(prefix, since=since, position=self._position())
        log.info("imap folder synced", **dataclasses.asdict(report))

    def _folder_state(
        self,
        name: str,
        status: MailboxStatus,
        gmail_all: bool,
        log: Any,
    ) -> FolderState:
        state = self.folders.get(name)
        if state is not None and state.uidvalidity == status.uidvalidity:
            return state
        if state is not None:
            log.info(
                "imap uidvalidity changed, listing folder again",
                old=state.uidvalidity,
                new=status.uidvalidity,
            )
        state = FolderState(
            uidvalidity=status.uidvalidity,
            listing_started=self.clock(),
            gm_msgids={} if gmail_all else None,
        )
        self.folders[name] = state
        return state

    def _removals(
        self,
        session: ImapSession,
        folder: FolderInfo,
        state: FolderState,
        status: MailboxStatus,
        new_uids: Sequence[int],
        report: FolderReport,
    ) -> Iterator[Item]:
        if not state.uids:
            return
        if session.qresync and state.highestmodseq is not None:
            if status.highestmodseq == state.highestmodseq:
                return
            vanished = session.vanished_since(state.last_uid, state.highestmodseq)
            yield from self._removed(folder, state, vanished, report)
            return
        if status.exists - len(new_uids) == len(state.uids):
            return
        # Compare the known UIDs with the server's, one chunk of the UID
        # range at a time, so no reply grows with the folder.
        low = 1
        groups = list(state.uids.groups(self.config.chunk_size))
        for index, group in enumerate(groups):
            high = state.last_uid if index == len(groups) - 1 else group[-1]
            present = set(session.search_uids(low, high))
            gone = [uid for uid in group if uid not in present]
            yield from self._removed(folder, state, gone, report)
            low = high + 1

    def _removed(
        self,
        folder: FolderInfo,
        state: FolderState,
        uids: Sequence[int],
        report: FolderReport,
    ) -> Iterator[Item]:
        gone = [uid for uid in uids if uid in state.uids]
        if not gone:
            return
        keys = []
        for uid in gone:
            gm_msgid = (
                state.gm_msgids.pop(uid, None) if state.gm_msgids is not None else None
            )
            if state.gm_msgids is None or gm_msgid is not None:
                keys.append(provider_key(folder.name, state.uidvalidity, uid, gm_msgid))
        state.uids.discard_all(gone)
        report.removed += len(keys)
        self.chunks_done += 1
        position = self._position()
        for index, key in enumerate(keys):
            yield Removed(key, position=position if index == len(keys) - 1 else None)

    def _new_messages(
        self,
        session: ImapSession,
        folder: FolderInfo,
        state: FolderState,
        new_uids: Sequence[int],
        report: FolderReport,
    ) -> Iterator[Item]:
        self.messages_total += len(new_uids)
        size = self.config.chunk_size
        for start in range(0, len(new_uids), size):
            chunk = new_uids[start : start + size]
            messages = session.fetch_headers(chunk)
            items = []
            for message in messages:
                item = message_item(folder, state, message, session.gmail)
                _count(report, item)
                if item is not None:
                    items.append(item)
                state.uids.append(message.uid)
                if state.gm_msgids is not None and message.gm_msgid is not None:
                    state.gm_msgids[message.uid] = message.gm_msgid
            state.last_uid = max(state.last_uid, chunk[-1])
            self.chunks_done += 1
            self.messages_done += len(chunk)
            if items:
                items[-1] = _with_position(items[-1], self._position())
            yield from items
            if self.progress is not None:
                self.progress(self.messages_done, self.messages_total)

    def _position(self) -> str:
        return dump_cursor(self.folders)


def message_item(
    folder: FolderInfo, state: FolderState, message: FetchedMessage, gmail: bool
) -> Activity | Quarantined | None:
    """Turn one fetched message into an item, or None for a draft.

    On Gmail the labels come from X-GM-LABELS; elsewhere the folder name is
    the one label, and a folder with the \\Sent attribute marks its
    messages sent whatever its (possibly localized) name.
    """
    gm_msgid = message.gm_msgid if state.gm_msgids is not None else None
    key = provider_key(folder.name, state.uidvalidity, message.uid, gm_msgid)
    if "\\DRAFT" in message.flags:
        return None
    if gmail and message.gm_labels:
        labels = tuple(
            label.removeprefix(_GMAIL_SYSTEM_LABEL_PREFIX)
            for label in message.gm_labels
        )
        if skipped_label(labels) is not None:
            return None
    else:
        labels = (folder.name,)
    try:
        activity = parse_message(
            message.header,
            provider_key=key,
            server_time=message.internal_date,
            labels=labels,
        )
    except MalformedData as error:
        return Quarantined(key, reason=str(error))
    if "\\SENT" in folder.attributes:
        activity.flags = activity.flags | {Flag.SENT}
    if message.gm_thrid is not None:
        activity.thread_id = str(message.gm_thrid)
    return activity


def _unchanged(state: FolderState, status: MailboxStatus, condstore: bool) -> bool:
    if state.listing_started is not None or status.exists != len(state.uids):
        return False
    if status.uidnext is None or status.uidnext > state.last_uid + 1:
        return False
    if condstore and status.highestmodseq is not None:
        # Some servers report HIGHESTMODSEQ 0 for an empty mailbox.  It is
        # stored and compared like any other value, so it is no reason to
        # list the folder again.
        return status.highestmodseq == state.highestmodseq
    return True


def _new_uids(
    session: ImapSession, state: FolderState, status: MailboxStatus
) -> list[int]:
    if status.uidnext is not None and status.uidnext <= state.last_uid + 1:
        return []
    return session.search_uids(state.last_uid + 1)


def _count(report: FolderReport, item: Item | None) -> None:
    if item is None:
        report.skipped += 1
    elif isinstance(item, Quarantined):
        report.quarantined += 1
    else:
        report.fetched += 1


def _with_position(
    item: Activity | Quarantined, position: str
) -> Activity | Quarantined:
    if isinstance(item, Activity):
        item.position = position
        return item
    return dataclasses.replace(item, position=position)
