"""Gmail sync engine: a mailbox's messages as e-mail activities.

Unit of sync: one Gmail mailbox (`userId`, "me" for the authorized user).
Each message is keyed by its Gmail message id (`provider_key`), which
stays the same when labels change.  Messages labelled SPAM, TRASH, DRAFT or
CHAT are not activities; SENT sets Flag.SENT.

States, kept in the cursor (a JSON object, see `GmailCursor`):

- no cursor: a full listing starts.
- "full": `users.getProfile` first records the mailbox's current historyId,
  then `users.messages.list` pages (includeSpamTrash=false) are read in
  order and each page's messages are fetched with format=metadata in batch
  requests.  A page's last item carries the token of the next page, so a
  listing cut short resumes where it stopped.  After the last page comes
  `ScopeListed(prefix="", since)`, which drops the stored messages that the
  listing no longer found, and the state becomes "history" from the
  recorded historyId.  Messages that arrive during the listing are read by
  the next history round.
- "history": `users.history.list` from the stored historyId returns the
  messages added and deleted, and the SPAM and TRASH labels added or
  removed.  A page may hold no `history` key and still have a next page.
  A page's last item carries the id of its last history record, and the
  round ends with the `historyId` of the last page.

What resets the cursor: a 404 from `users.history.list` means the stored
historyId is older than the history Gmail keeps (typically a week, at
times only hours), and a full listing starts.  Activities already stored
stay; upserts make the repeated ones harmless.  A 404 from
`users.messages.get` only means that the message was deleted after its
history record was written, and the message is skipped.

Failures: a message whose fetch still fails after the retries does not stop
the listing, but no later item carries a position, and the read ends with
TransientError naming the message, so the next sync reads it again.
`NeedsReauthorization` stops the read at once and keeps the cursor.

Transactions: the reader opens none; the pipeline commits each batch of
items with the position of its last item.

Quota: at the end of each read, and of each `profile()` call, the reader
passes its `ReadStats` (units spent, whether it listed the whole mailbox)
to `usage_listener`, which the core uses to keep a per-project daily tally.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, Literal

import google.auth.credentials
import structlog

from connectors.base import ProgressCallback, Reader
from connectors.errors import (
    ConnectorError,
    CursorExpired,
    MalformedData,
    NeedsReauthorization,
    RemoteGone,
    TransientError,
)
from connectors.google.client import (
    GMAIL_API,
    ApiClient,
    CredentialsFactory,
    ReadStats,
)
from connectors.google.config import GoogleSettings
from connectors.google.messages import (
    METADATA_HEADERS,
    SKIPPED_LABEL_IDS,
    internal_date,
    message_activity,
    skipped_reason,
)
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from connectors.records import Item, Quarantined, Removed, ScopeListed

log = structlog.get_logger(__name__)

CURSOR_VERSION = 1
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
_MAX_LISTED_FAILURES = 5


@dataclasses.dataclass(frozen=True)
class GmailCursor:
    """The state of a Gmail account between reads.

    Stored as JSON: {"v": 1, "mode": "history", "history_id": "884140"}, or
    in a full listing {"v": 1, "mode": "full", "history_id": ..., "since":
    ISO 8601 UTC, "page_token": next messages.list page or null}.
    """

    mode: Literal["full", "history"]
    history_id: str
    since: dt.datetime | None = None
    page_token: str | None = None

    def dump(self) -> str:
        value: dict[str, Any] = {
            "v": CURSOR_VERSION,
            "mode": self.mode,
            "history_id": self.history_id,
        }
        if self.mode == "full":
            assert self.since is not None
            value["since"] = self.since.isoformat()
            value["page_token"] = self.page_token
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None) -> GmailCursor | None:
        """Read a stored cursor; None (a full listing) for none or an unknown one."""
        if not text:
            return None
        try:
            value = json.loads(text)
            if value.get("v") != CURSOR_VERSION:
                raise ValueError(f"cursor version {value.get('v')!r}")
            mode = value["mode"]
            since = value.get("since")
            cursor = cls(
                mode=mode,
                history_id=str(value["history_id"]),
                since=dt.datetime.fromisoformat(since) if since else None,
                page_token=value.get("page_token"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("gmail cursor unreadable; full sync", error=str(error))
            return None
        if cursor.mode not in ("full", "history") or (
            cursor.mode == "full" and cursor.since is None
        ):
            log.warning("gmail cursor unreadable; full sync", mode=cursor.mode)
            return None
        return cursor


@dataclasses.dataclass(frozen=True)
class MissingMessage:
    """A message in the mailbox that the caller has not stored."""

    provider_key: str
    message_id: str | None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class MailboxProfile:
    """A mailbox's address, size and current historyId (users.getProfile)."""

    address: str
    messages_total: int | None
    history_id: str


@dataclasses.dataclass(frozen=True)
class MailboxAudit:
    """The result of comparing stored message ids with the mailbox."""

    listed: int
    missing: tuple[MissingMessage, ...]


@dataclasses.dataclass
class _Page:
    """One listing or history page with the outcome of each fetch."""

    ids: list[str]
    next_token: str | None
    removals: list[str] = dataclasses.field(default_factory=list)
    responses: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    errors: dict[str, ConnectorError] = dataclasses.field(default_factory=dict)
    last_record_id: str | None = None
    history_id: str | None = None


class _Run:
    """The API client and thread pools of one read."""

    def __init__(self, reader: GmailReader) -> None:
        settings = reader.settings
        regime = settings.gmail_quota
        limit = int(regime.units_per_minute * settings.quota_share)
        self.budget = QuotaBudget(limit, settings.quota_window)
        retry = RetryPolicy(settings.retry, reader.sleep, self.budget.hold)
        self.client = ApiClient(
            GMAIL_API,
            settings.gmail_endpoint,
            reader.credentials(),
            settings,
            regime,
            self.budget,
            retry,
        )
        self.fetchers = concurrent.futures.ThreadPoolExecutor(
            settings.threads, thread_name_prefix="gmail-fetch"
        )
        self.pages = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="gmail-page"
        )
        self.failed: dict[str, str] = {}

    def close(self) -> None:
        self.pages.shutdown(wait=True, cancel_futures=True)
        self.fetchers.shutdown(wait=True, cancel_futures=True)
        self.client.close()


class GmailReader(Reader):
    """Reads one Gmail mailbox's messages since a cursor.

    `credentials` is called at the start of each read.  `sleep` waits
    between retries; tests pass one that records the delays.
    `usage_listener`, when given, receives the read's `ReadStats` once the
    read ends, whether it finished, failed or was abandoned.
    """

    def __init__(
        self,
        credentials: CredentialsFactory,
        settings: GoogleSettings | None = None,
        user_id: str = "me",
        sleep: Callable[[float], None] = time.sleep,
        usage_listener: Callable[[ReadStats], None] | None = None,
    ) -> None:
        super().__init__()
        self.credentials = credentials
        self.settings = settings or GoogleSettings()
        self.user_id = user_id
        self.sleep = sleep
        self.usage_listener = usage_listener
        self.stats = ReadStats()

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        state = GmailCursor.load(cursor)
        run = _Run(self)
        self.stats = ReadStats()
        bound = log.bind(user=self.user_id, provider="gmail")
        try:
            if state is not None and state.mode == "history":
                try:
                    yield from self._read_history(run, state)
                    return
                except CursorExpired as error:
                    bound.warning(
                        "history id expired; full sync",
                        history_id=state.history_id,
                        error=str(error),
                    )
                    state = None
            yield from self._read_full(run, state, progress)
        finally:
            self._end_run(run)

    def profile(self) -> MailboxProfile:
        """Return the mailbox's address, size and historyId (users.getProfile)."""
        run = _Run(self)
        self.stats = ReadStats()
        try:
            profile = _get_profile(run, self.user_id)
            total = profile.get("messagesTotal")
            self.stats.messages_total = int(total) if total is not None else None
        finally:
            self._end_run(run)
        return MailboxProfile(
            address=str(profile["emailAddress"]).strip().lower(),
            messages_total=self.stats.messages_total,
            history_id=str(profile["historyId"]),
        )

    def _end_run(self, run: _Run) -> None:
        self.stats.requests = run.client.requests
        self.stats.quota_units = run.budget.total_units
        run.close()
        if self.usage_listener is not None:
            self.usage_listener(self.stats)

    # --- full listing ---------------------------------------------------------

    def _read_full(
        self,
        run: _Run,
        state: GmailCursor | None,
        progress: ProgressCallback | None,
    ) -> Iterator[Item]:
        total = None
        self.stats.full_listing = True
        if state is None or state.mode != "full":
            state, total = self._start_full(run)
        since = state.since
        assert since is not None
        done = 0

        future: concurrent.futures.Future[_Page] | None = run.pages.submit(
            self._listing_page, run, state.page_token
        )
        while future is not None:
            page = self._await_listing_page(run, future, state)
            future = position = None
            if page.next_token:
                # Read the next page while the pipeline stores this one.
                future = run.pages.submit(self._listing_page, run, page.next_token)
                state = dataclasses.replace(state, page_token=page.next_token)
                position = state.dump()
            yield from self._page_items(run, page, position, history=False)
            done += len(page.ids)
            if progress is not None:
                progress(done, total)

        self._raise_if_failed(run)
        final = GmailCursor("history", state.history_id).dump()
        yield ScopeListed(prefix="", since=since, position=final)
        self.final_cursor = final
        self.stats.listing_finished = True
        log.info("full sync finished", messages=done, history_id=state.history_id)

    def _start_full(self, run: _Run) -> tuple[GmailCursor, int | None]:
        """Record the mailbox's historyId before listing; return it and the size."""
        profile = _get_profile(run, self.user_id)
        state = GmailCursor("full", str(profile["historyId"]), dt.datetime.now(dt.UTC))
        total = profile.get("messagesTotal")
        self.stats.messages_total = int(total) if total is not None else None
        log.info("full sync started", history_id=state.history_id, total=total)
        return state, total

    def _await_listing_page(
        self,
        run: _Run,
        future: concurrent.futures.Future[_Page],
        state: GmailCursor,
    ) -> _Page:
        """Wait for a listing page; restart the listing if a stored token failed."""
        try:
            return future.result()
        except (TransientError, NeedsReauthorization):
            raise
        except ConnectorError as error:
            if state.page_token is None:
                raise
            # A page token saved by an earlier read may have expired; the
            # listing starts again from its first page, with the same `since`.
            log.warning(
                "stored page token rejected; listing restarts", error=str(error)
            )
            return self._listing_page(run, None)

    def _listing_page(self, run: _Run, page_token: str | None) -> _Page:
        response = self._list_messages(run, page_token)
        ids = [str(message["id"]) for message in response.get("messages") or []]
        page = _Page(ids=ids, next_token=response.get("nextPageToken"))
        self._fetch(run, page, ids)
        return page

    def _list_messages(self, run: _Run, page_token: str | None) -> dict[str, Any]:
        def build(service: Any) -> Any:
            return (
                service.users()
                .messages()
                .list(
                    userId=self.user_id,
                    includeSpamTrash=False,
                    maxResults=self.settings.list_page_size,
                    pageToken=page_token,
                )
            )

        return run.client.execute("users.messages.list", build, "users.messages.list")

    # --- history --------------------------------------------------------------

    def _read_history(self, run: _Run, state: GmailCursor) -> Iterator[Item]:
        future: concurrent.futures.Future[_Page] | None = run.pages.submit(
            self._history_page, run, state.history_id, None
        )
        while future is not None:
            page = future.result()
            future = None
            if page.next_token:
                future = run.pages.submit(
                    self._history_page, run, state.history_id, page.next_token
                )
                position = None
                if page.last_record_id is not None:
                    position = GmailCursor("history", page.last_record_id).dump()
            else:
                position = GmailCursor(
                    "history", page.history_id or state.history_id
                ).dump()
            yield from self._page_items(run, page, position, history=True)
            if future is None:
                self._raise_if_failed(run)
                self.final_cursor = position

    def _history_page(self, run: _Run, start: str, page_token: str | None) -> _Page:
        try:
            response = run.client.execute(
                "users.history.list",
                lambda service: (
                    service.users()
                    .history()
                    .list(
                        userId=self.user_id,
                        startHistoryId=start,
                        historyTypes=HISTORY_TYPES,
                        maxResults=self.settings.history_page_size,
                        pageToken=page_token,
                    )
                ),
                "users.history.list",
            )
        except RemoteGone as error:
            raise CursorExpired(
                f"history id {start} is older than the history Gmail keeps"
            ) from error
        records = response.get("history") or []
        actions = history_actions(records)
        fetch = [key for key, action in actions.items() if action == "fetch"]
        page = _Page(
            ids=fetch,
            next_token=response.get("nextPageToken"),
            removals=[key for key, action in actions.items() if action == "remove"],
            last_record_id=str(records[-1]["id"]) if records else None,
            history_id=str(response["historyId"]) if "historyId" in response else None,
        )
        self._fetch(run, page, fetch)
        return page

    # --- fetching -------------------------------------------------------------

    def _fetch(self, run: _Run, page: _Page, ids: list[str]) -> None:
        """Fetch the metadata of `ids` in concurrent batches into `page`."""
        size = self.settings.batch_size
        chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
        futures = [
            run.fetchers.submit(self._fetch_batch, run, chunk) for chunk in chunks
        ]
        for future in futures:
            responses, errors = future.result()
            page.responses.update(responses)
            page.errors.update(errors)

    def _fetch_batch(
        self, run: _Run, ids: list[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, ConnectorError]]:
        calls = {
            message_id: _metadata_request(self.user_id, message_id)
            for message_id in ids
        }
        return run.client.execute_batch(
            "users.messages.get", calls, "users.messages.get"
        )

    def _page_items(
        self, run: _Run, page: _Page, position: str | None, history: bool
    ) -> Iterator[Item]:
        """Yield a page's items in order; the last carries `position`."""
        items: list[Item] = []
        for message_id in page.ids:
            item = self._item(run, page, message_id, history)
            if item is not None:
                items.append(item)
        items.extend(Removed(message_id) for message_id in page.removals)
        self.stats.messages_fetched += len(page.responses)
        if items and position is not None and not run.failed:
            items[-1] = dataclasses.replace(items[-1], position=position)
        yield from items

    def _item(
        self, run: _Run, page: _Page, message_id: str, history: bool
    ) -> Item | None:
        error = page.errors.get(message_id)
        if error is not None:
            return self._failed_item(run, message_id, error)
        resource = page.responses.get(message_id)
        if resource is None:
            run.failed[message_id] = "the batch response lacks this message"
            return None
        skipped = skipped_reason(resource.get("labelIds") or [])
        if skipped is not None:
            log.debug("message skipped", message=message_id, label=skipped)
            return Removed(message_id) if history else None
        try:
            return message_activity(resource)
        except MalformedData as malformed:
            return Quarantined(message_id, str(malformed))

    def _failed_item(
        self, run: _Run, message_id: str, error: ConnectorError
    ) -> Item | None:
        if isinstance(error, RemoteGone):
            # Deleted after the listing or history record named it.
            log.debug("message gone before its fetch", message=message_id)
            return None
        if isinstance(error, TransientError):
            run.failed[message_id] = str(error)
            return None
        return Quarantined(message_id, str(error))

    def _raise_if_failed(self, run: _Run) -> None:
        if not run.failed:
            return
        listed = "; ".join(
            f"{message_id} ({reason})"
            for message_id, reason in list(run.failed.items())[:_MAX_LISTED_FAILURES]
        )
        more = len(run.failed) - _MAX_LISTED_FAILURES
        if more > 0:
            listed += f"; and {more} more"
        raise TransientError(
            f"{len(run.failed)} Gmail message(s) could not be fetched and will "
            f"be read again on the next sync: {listed}"
        )

    # --- audit ----------------------------------------------------------------

    def audit(
        self,
        stored_keys: Collection[str],
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> MailboxAudit:
        """List every message id and report the ones not in `stored_keys`.

        `stored_keys` are the provider keys the caller holds for this
        account, stored or quarantined.  A message that is not stored is
        fetched to read its Message-ID and labels: drafts and chats are not
        missing, and neither is a message received outside [`start`, `end`)
        when a bound is given.  The gmail.metadata scope does not allow a
        search query, so the listing always covers the whole mailbox.
        """
        run = _Run(self)
        try:
            listed: list[str] = []
            token: str | None = None
            while True:
                response = self._list_messages(run, token)
                listed.extend(str(m["id"]) for m in response.get("messages") or [])
                token = response.get("nextPageToken")
                if not token:
                    break
            stored = set(stored_keys)
            unknown = [message_id for message_id in listed if message_id not in stored]
            page = _Page(ids=unknown, next_token=None)
            self._fetch(run, page, unknown)
            missing = [
                found
                for message_id in unknown
                if (found := _missing(page, message_id, start, end)) is not None
            ]
        finally:
            run.close()
        return MailboxAudit(listed=len(listed), missing=tuple(missing))


def history_actions(records: list[Mapping[str, Any]]) -> dict[str, str]:
    """Reduce history records to one action per message id: fetch or remove.

    Records are applied in order, so the last change to a message wins.  A
    new message already in SPAM, TRASH, DRAFT or CHAT needs nothing.  SPAM
    or TRASH added removes a message; removed, it brings the message back
    unless another of those labels stays.
    """
    actions: dict[str, str] = {}
    for record in records:
        for entry in record.get("messagesAdded") or []:
            message = entry.get("message") or {}
            if skipped_reason(message.get("labelIds") or []):
                actions.pop(str(message.get("id")), None)
            else:
                actions[str(message["id"])] = "fetch"
        for entry in record.get("messagesDeleted") or []:
            actions[str(entry["message"]["id"])] = "remove"
        for entry in record.get("labelsAdded") or []:
            if SKIPPED_LABEL_IDS & set(entry.get("labelIds") or []):
                actions[str(entry["message"]["id"])] = "remove"
        for entry in record.get("labelsRemoved") or []:
            if SKIPPED_LABEL_IDS & set(entry.get("labelIds") or []):
                current = entry["message"].get("labelIds") or []
                action = "remove" if skipped_reason(current) else "fetch"
                actions[str(entry["message"]["id"])] = action
    return actions


def _metadata_request(user_id: str, message_id: str) -> Callable[[Any], Any]:
    def build(service: Any) -> Any:
        return (
            service.users()
            .messages()
            .get(
                userId=user_id,
                id=message_id,
                format="metadata",
                metadataHeaders=METADATA_HEADERS,
            )
        )

    return build


def _missing(
    page: _Page,
    message_id: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> MissingMessage | None:
    error = page.errors.get(message_id)
    if isinstance(error, RemoteGone):
        return None
    if error is not None:
        return MissingMessage(message_id, None, str(error))
    resource = page.responses[message_id]
    if skipped_reason(resource.get("labelIds") or []):
        return None
    received = internal_date(resource)
    if received is not None and (
        (start is not None and received < start)
        or (end is not None and received >= end)
    ):
        return None
    headers = (resource.get("payload") or {}).get("headers") or []
    message_ids = [
        str(h.get("value", "")).strip()
        for h in headers
        if str(h.get("name", "")).lower() == "message-id"
    ]
    return MissingMessage(message_id, message_ids[0] if message_ids else None)


def mailbox_address(
    credentials: google.auth.credentials.Credentials,
    settings: GoogleSettings | None = None,
) -> str:
    """Return the address of the mailbox that `credentials` open (users.getProfile).

    Used after a consent, to check that the person chose the right Google
    account.
    """
    return GmailReader(lambda: credentials, settings).profile().address


def _get_profile(run: _Run, user_id: str) -> dict[str, Any]:
    return run.client.execute(
        "users.getProfile",
        lambda service: service.users().getProfile(userId=user_id),
        "users.getProfile",
    )
