"""Microsoft Graph v1.0 routes: mail folders, message delta, calendar-view
delta, events, instances, sendMail and JSON batches.

Delta rounds live on the server.  A `$skiptoken` names a round and a page
generation.  Only the newest generation a client has requested stays
valid, so an older nextLink of a round fails with 410 SyncStateNotFound, as
Exchange's do.  A `$deltatoken` names the sequence number a round started
at; once expired it fails with 410 and a Location header holding an empty
`$deltatoken`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import urllib.parse
from typing import TYPE_CHECKING, Any

from tests.emulators.microsoft.calendars import overlaps as _overlaps
from tests.emulators.microsoft.calendars import write_route
from tests.emulators.microsoft.identity import Grant, Response
from tests.emulators.microsoft.mailbox import Mailbox
from tests.emulators.microsoft.send_mail import send_mail

if TYPE_CHECKING:
    from tests.emulators.microsoft.server import GraphEmulator, Request

MAIL_SCOPES = frozenset({"Mail.ReadBasic", "Mail.Read", "Mail.ReadBasic.All"})
CALENDAR_SCOPES = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
MAX_BATCH = 20


def graph_error(status: int, code: str, message: str, **headers: str) -> Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            },
        }
    }
    return Response(status, body, dict(headers))


@dataclasses.dataclass
class Round:
    kind: str  # mail or calendar
    mailbox: Mailbox
    scope_id: str
    link_base: str
    entries: list[Any]
    seq: int
    select: list[str] | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None
    leading_empty: bool = False
    offsets: dict[int, int] = dataclasses.field(default_factory=lambda: {0: 0})
    highest_requested: int = 0


@dataclasses.dataclass
class DeltaToken:
    kind: str
    mailbox: Mailbox
    scope_id: str
    link_base: str
    seq: int
    select: list[str] | None
    window: tuple[dt.datetime, dt.datetime] | None
    expired: bool = False


class GraphRoutes:
    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator
        self.rounds: dict[str, Round] = {}
        self.delta_tokens: dict[str, DeltaToken] = {}

    def expire_delta_tokens(self, mailbox: Mailbox, scope_id: str | None = None) -> int:
        """Expire the deltaLinks issued for a folder or calendar (or all); return the count."""
        count = 0
        for token in self.delta_tokens.values():
            if token.mailbox is mailbox and scope_id in (None, token.scope_id):
                token.expired = True
                count += 1
        return count

    # --- dispatch -----------------------------------------------------------

    def route(
        self, request: Request, mailbox: Mailbox, grant: Grant, user_path: str
    ) -> Response:
        rest = request.graph_path[len(user_path) :]
        rest = re.sub(r"\('([^']*)'\)", r"/\1", rest)
        parts = [urllib.parse.unquote(part) for part in rest.strip("/").split("/")]
        base = self.emulator.graph_url + user_path
        head = parts[0] if parts else ""
        if head == "mailFolders":
            if not grant.scopes & MAIL_SCOPES:
                return _access_denied()
            return self._mail_folders(request, mailbox, parts, base)
        if head == "messages" and len(parts) == 2:
            if not grant.scopes & MAIL_SCOPES:
                return _access_denied()
            return self._message(request, mailbox, parts[1])
        if head == "sendMail" and len(parts) == 1:
            return send_mail(request, mailbox, grant)
        if head in {"calendars", "calendar", "calendarView", "events"}:
            if not grant.scopes & CALENDAR_SCOPES:
                return _access_denied()
            written = write_route(request, mailbox.calendars, parts, grant.scopes)
            if written is not None:
                return written
            return self._calendar(request, mailbox, parts, base)
        return graph_error(
            400, "BadRequest", f"Resource not found for the segment '{head}'."
        )

    # --- mail ------------------------------------------------------------------

    def _mail_folders(
        self, request: Request, mailbox: Mailbox, parts: list[str], base: str
    ) -> Response:
        if len(parts) == 1:
            folders = [
                {"id": f.id, "displayName": f.display_name, "parentFolderId": "root"}
                for f in mailbox.folders.values()
            ]
            return Response(200, {"value": folders})
        folder = mailbox.folder(parts[1])
        if folder is None:
            return graph_error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        if len(parts) == 2:
            return Response(200, {"id": folder.id, "displayName": folder.display_name})
        if parts[2:] == ["messages", "delta"]:
            link_base = f"{base}/mailFolders('{folder.id}')/messages/delta"
            return self._delta(request, "mail", mailbox, folder.id, link_base)
        return graph_error(400, "BadRequest", "Unsupported mail folder request.")

    def _message(self, request: Request, mailbox: Mailbox, key: str) -> Response:
        message = mailbox.messages.get(mailbox.resolve_message_id(key))
        if message is None:
            return graph_error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        select = _select(request.query)
        return Response(
            200, mailbox.render_message(message, select, request.immutable_ids)
        )

    # --- calendar -----------------------------------------------------------------

    def _calendar(
        self, request: Request, mailbox: Mailbox, parts: list[str], base: str
    ) -> Response:
        store = mailbox.calendars
        if parts == ["calendars"]:
            value = [
                {"id": c.id, "name": c.name, "isDefaultCalendar": c.is_default}
                for c in store.calendars.values()
            ]
            return Response(200, {"value": value})
        if parts == ["calendar"]:
            default = store.default
            return Response(
                200, {"id": default.id, "name": default.name, "isDefaultCalendar": True}
            )
        if parts == ["calendarView", "delta"]:
            link_base = f"{base}/calendarView/delta"
            return self._delta(
                request, "calendar", mailbox, store.default.id, link_base
            )
        if (
            len(parts) == 4
            and parts[0] == "calendars"
            and parts[2:] == ["calendarView", "delta"]
        ):
            if parts[1] not in store.calendars:
                return graph_error(
                    404, "ErrorItemNotFound", "The calendar was not found."
                )
            link_base = f"{base}/calendars/{parts[1]}/calendarView/delta"
            return self._delta(request, "calendar", mailbox, parts[1], link_base)
        if parts[0] == "events" and len(parts) == 2:
            item = store.instance(parts[1])
            if item is None:
                return graph_error(
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            select = _select(request.query)
            if select:
                item = {
                    k: v
                    for k, v in item.items()
                    if k in select or k in {"id", "@odata.etag"}
                }
            return Response(200, item)
        if parts[0] == "events" and len(parts) == 3 and parts[2] == "instances":
            event = store.events.get(parts[1])
            if event is None:
                return graph_error(
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            window = _window(request.query)
            if window is None:
                return graph_error(
                    400,
                    "ErrorInvalidParameter",
                    "startDateTime and endDateTime are required.",
                )
            value = [i for i in store.instances(event) if _overlaps(i, window)]
            return Response(200, {"value": value})
        return graph_error(400, "BadRequest", "Unsupported calendar request.")

    # --- delta rounds ---------------------------------------------------------------

    def _delta(
        self,
        request: Request,
        kind: str,
        mailbox: Mailbox,
        scope_id: str,
        link_base: str,
    ) -> Response:
        query = request.query
        if "$skiptoken" in query:
            return self._continue_round(request, query["$skiptoken"])
        if "$deltatoken" in query:
            token = self.delta_tokens.get(query["$deltatoken"])
            if token is None or token.expired:
                location = f"{link_base}?$deltatoken="
                return graph_error(
                    410,
                    "resyncRequired",
                    "Resync required. Replace any local cached copy with a full sync.",
                    Location=location,
                )
            return self._start_round(
                request,
                token.kind,
                mailbox,
                scope_id,
                link_base,
                token.select,
                token.window,
                token.seq,
            )
        if kind == "calendar":
            window = _window(query)
            if window is None:
                return graph_error(
                    400,
                    "ErrorInvalidParameter",
                    "startDateTime and endDateTime are required.",
                )
            if "$select" in query:
                return graph_error(
                    400,
                    "ErrorInvalidParameter",
                    "$select is not supported with calendarView delta.",
                )
            return self._start_round(
                request, kind, mailbox, scope_id, link_base, None, window, None
            )
        return self._start_round(
            request, kind, mailbox, scope_id, link_base, _select(query), None, None
        )

    def _start_round(
        self,
        request: Request,
        kind: str,
        mailbox: Mailbox,
        scope_id: str,
        link_base: str,
        select: list[str] | None,
        window: tuple[dt.datetime, dt.datetime] | None,
        since: int | None,
    ) -> Response:
        with mailbox.lock:
            seq = mailbox.seq
            entries: list[Any]
            if kind == "mail":
                entries = mailbox.message_changes(scope_id, since)
                # Graph may list a message again in the same round with only
                # its changed fields; the emulator repeats the first ones.
                count = self.emulator.repeat_partial
                repeated = [e for e in entries if e[0] == "message"][:count]
                entries.extend(("partial", message_id) for _, message_id in repeated)
            else:
                assert window is not None
                entries = mailbox.calendars.view_changes(scope_id, window, since)
        round_id = secrets.token_urlsafe(12)
        self.rounds[round_id] = Round(
            kind,
            mailbox,
            scope_id,
            link_base,
            entries,
            seq,
            select,
            window,
            leading_empty=self.emulator.empty_first_page,
        )
        return self._page(request, round_id, 0)

    def _continue_round(self, request: Request, skiptoken: str) -> Response:
        round_id, _, generation = skiptoken.rpartition(".")
        if round_id not in self.rounds or not generation.isdigit():
            return _sync_state_not_found(0, 0)
        return self._page(request, round_id, int(generation))

    def _page(self, request: Request, round_id: str, generation: int) -> Response:
        state = self.rounds[round_id]
        if generation < state.highest_requested or generation not in state.offsets:
            return _sync_state_not_found(generation, state.highest_requested)
        state.highest_requested = generation
        size = request.page_size
        start = state.offsets[generation]
        if state.leading_empty and generation == 0:
            chunk: list[Any] = []
            end = 0
        else:
            chunk = state.entries[start : start + size]
            end = start + len(chunk)
        body: dict[str, Any] = {
            "@odata.context": f"{self.emulator.graph_url}/$metadata#Collection({'message' if state.kind == 'mail' else 'event'})"
        }
        body["value"] = [
            v for v in (self._render(state, entry, request) for entry in chunk) if v
        ]
        finished = end >= len(state.entries) and not (
            state.leading_empty and generation == 0
        )
        if finished:
            token = secrets.token_urlsafe(16)
            self.delta_tokens[token] = DeltaToken(
                state.kind,
                state.mailbox,
                state.scope_id,
                state.link_base,
                state.seq,
                state.select,
                state.window,
            )
            body["@odata.deltaLink"] = f"{state.link_base}?$deltatoken={token}"
            del self.rounds[round_id]
        else:
            state.offsets[generation + 1] = end
            body["@odata.nextLink"] = (
                f"{state.link_base}?$skiptoken={round_id}.{generation + 1}"
            )
        headers = {"Preference-Applied": f"odata.maxpagesize={size}"}
        return Response(200, body, headers)

    def _render(
        self, state: Round, entry: Any, request: Request
    ) -> dict[str, Any] | None:
        if state.kind == "calendar":
            return dict(entry)
        kind, message_id = entry
        mailbox = state.mailbox
        if kind == "removed":
            shown = (
                message_id
                if request.immutable_ids
                else mailbox.mutable_id(message_id, state.scope_id)
            )
            return {
                "@odata.type": "#microsoft.graph.message",
                "id": shown,
                "@removed": {"reason": "deleted"},
            }
        message = mailbox.messages.get(message_id)
        if message is None:
            return None
        if kind == "partial":
            shown = (
                message.id
                if request.immutable_ids
                else mailbox.mutable_id(message.id, message.folder_id)
            )
            return {
                "@odata.type": "#microsoft.graph.message",
                "id": shown,
                "isRead": True,
            }
        return mailbox.render_message(message, state.select, request.immutable_ids)

    # --- JSON batch -------------------------------------------------------------------

    def batch(self, request: Request, grant: Grant) -> Response:
        body = request.json or {}
        inner = body.get("requests")
        if not isinstance(inner, list):
            return graph_error(
                400, "BadRequest", "The batch body must hold a requests array."
            )
        if len(inner) > MAX_BATCH:
            return graph_error(
                400,
                "BadRequest",
                f"The number of batch requests exceeds the limit of {MAX_BATCH}.",
            )
        fault = self.emulator.faults.take(
            request.method, request.target, frozenset({"batch_throttle"})
        )
        responses = []
        for index, entry in enumerate(inner):
            if fault is not None and index in fault.inner_indexes:
                headers = (
                    {}
                    if fault.retry_after is None
                    else {"Retry-After": _seconds(fault.retry_after)}
                )
                error = graph_error(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                )
                responses.append(
                    {
                        "id": entry["id"],
                        "status": 429,
                        "headers": headers,
                        "body": error.body,
                    }
                )
                self.emulator.record_inner(request, entry, 429)
                continue
            result = self.emulator.handle_inner(request, entry, grant)
            responses.append(
                {
                    "id": entry["id"],
                    "status": result.status,
                    "headers": result.headers,
                    "body": result.body,
                }
            )
        return Response(200, {"responses": responses})


def _access_denied() -> Response:
    return graph_error(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def _sync_state_not_found(generation: int, highest: int) -> Response:
    return graph_error(
        410,
        "SyncStateNotFound",
        f"The sync state generation is not found; generation={generation};[highest={highest}].",
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _select(query: dict[str, str]) -> list[str] | None:
    text = query.get("$select")
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _window(query: dict[str, str]) -> tuple[dt.datetime, dt.datetime] | None:
    try:
        start = dt.datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    return start, end
