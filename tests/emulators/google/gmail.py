"""Gmail v1 handlers: users.getProfile, messages.list, messages.get, history.list.

Shapes follow the Gmail API reference: string ids and history ids,
`internalDate` in epoch milliseconds as a string, `payload.headers` as
name and value pairs, `nextPageToken` only when more results follow.  A
grant with only the gmail.metadata scope cannot search (`q`) or ask for
format=full or raw, as in Gmail.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from tests.emulators.google.responses import ApiError, error_response
from tests.emulators.google.state import Mailbox, Message

if TYPE_CHECKING:
    from tests.emulators.google.server import Call

METADATA_ONLY = "https://www.googleapis.com/auth/gmail.metadata"
HISTORY_TYPES = {
    "messageAdded": "messagesAdded",
    "messageDeleted": "messagesDeleted",
    "labelAdded": "labelsAdded",
    "labelRemoved": "labelsRemoved",
}


def get_profile(mailbox: Mailbox, call: Call) -> dict[str, Any]:
    with mailbox.lock:
        threads = {m.thread_id for m in mailbox.messages.values()}
        return {
            "emailAddress": mailbox.email,
            "messagesTotal": len(mailbox.messages),
            "threadsTotal": len(threads),
            "historyId": str(mailbox.history_id),
        }


def list_messages(mailbox: Mailbox, call: Call) -> dict[str, Any]:
    if call.param("q") and _metadata_only(call):
        raise ApiError(
            error_response(
                403, "Metadata scope does not support 'q' parameter", "forbidden"
            )
        )
    size = _page_size(call, default=100, maximum=500)
    include = call.param("includeSpamTrash", "false") == "true"
    listed = mailbox.listed(include)
    label_ids = call.params("labelIds")
    if label_ids:
        listed = [m for m in listed if set(label_ids) <= set(m.label_ids)]
    after = _decode_token(call.param("pageToken"))
    if after is not None:
        key = (int(after[0]), str(after[1]))
        listed = [m for m in listed if m.sort_key() < key]
    page = listed[:size]
    result: dict[str, Any] = {"resultSizeEstimate": len(listed)}
    if page:
        result["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if len(listed) > size:
        last = page[-1]
        result["nextPageToken"] = _encode_token([last.internal_date, last.id])
    return result


def get_message(mailbox: Mailbox, call: Call, message_id: str) -> dict[str, Any]:
    form = call.param("format", "full")
    if form in ("full", "raw") and _metadata_only(call):
        raise ApiError(
            error_response(
                403, f"Metadata scope doesn't allow format {form.upper()}", "forbidden"
            )
        )
    with mailbox.lock:
        message = mailbox.messages.get(message_id)
        if message is None:
            raise ApiError(not_found())
        return _resource(message, form, call.params("metadataHeaders"))


def list_history(mailbox: Mailbox, call: Call) -> dict[str, Any]:
    start_text = call.param("startHistoryId")
    if not start_text or not start_text.isdigit():
        raise ApiError(error_response(400, "Invalid startHistoryId", "invalidArgument"))
    start = int(start_text)
    size = _page_size(call, default=100, maximum=500)
    wanted = {
        HISTORY_TYPES[t] for t in call.params("historyTypes") if t in HISTORY_TYPES
    }
    with mailbox.lock:
        if start < mailbox.history_floor:
            raise ApiError(not_found())
        records = [r for r in mailbox.history if r.id > start]
        current = mailbox.history_id
    token = _decode_token(call.param("pageToken"))
    offset = int(token[0]) if token else 0
    window = records[offset : offset + size]
    result: dict[str, Any] = {"historyId": str(current)}
    history = [_history_entry(r) for r in window if not wanted or r.kind in wanted]
    if history:
        result["history"] = history
    if offset + size < len(records):
        result["nextPageToken"] = _encode_token([offset + size])
    return result


def first_page_token() -> str:
    """Return the page token of a history listing's first page."""
    return _encode_token([0])


def not_found() -> Any:
    return error_response(404, "Requested entity was not found.", "notFound")


def _history_entry(record: Any) -> dict[str, Any]:
    reference = {"id": record.message_id, "threadId": record.thread_id}
    with_labels = {**reference, "labelIds": list(record.label_ids)}
    entry: dict[str, Any] = {"id": str(record.id), "messages": [reference]}
    if record.kind == "messagesAdded":
        entry["messagesAdded"] = [{"message": with_labels}]
    elif record.kind == "messagesDeleted":
        entry["messagesDeleted"] = [{"message": reference}]
    else:
        entry[record.kind] = [
            {"message": with_labels, "labelIds": list(record.changed_labels)}
        ]
    return entry


def _resource(message: Message, form: str, header_names: list[str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": message.id,
        "threadId": message.thread_id,
        "labelIds": list(message.label_ids),
        "snippet": "",
        "sizeEstimate": message.size_estimate,
        "historyId": str(message.history_id),
        "internalDate": str(message.internal_date),
    }
    if form == "minimal":
        return resource
    headers = message.headers
    if form == "metadata" and header_names:
        wanted = {name.lower() for name in header_names}
        headers = [(n, v) for n, v in headers if n.lower() in wanted]
    resource["payload"] = {
        "partId": "",
        "mimeType": "text/plain",
        "filename": "",
        "headers": [{"name": n, "value": v} for n, v in headers],
    }
    return resource


def _metadata_only(call: Call) -> bool:
    return set(call.scopes) & _BROADER_SCOPES == set() and METADATA_ONLY in call.scopes


_BROADER_SCOPES = {
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.modify",
}


def _page_size(call: Call, default: int, maximum: int) -> int:
    text = call.param("maxResults")
    if text is None:
        return default
    return max(1, min(int(text), maximum))


def _encode_token(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decode_token(token: str | None) -> list[Any] | None:
    if not token:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as error:
        raise ApiError(error_response(400, "Invalid pageToken", "invalid")) from error
    if not isinstance(value, list):
        raise ApiError(error_response(400, "Invalid pageToken", "invalid"))
    return value
