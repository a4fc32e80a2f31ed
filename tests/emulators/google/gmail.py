"""Gmail v1 handlers: users.getProfile, messages.list, messages.get,
messages.send, history.list, users.watch and users.stop, and the Pub/Sub
push that a watch feeds.

Shapes follow the Gmail API reference: string ids and history ids,
`internalDate` in epoch milliseconds as a string, `payload.headers` as
name and value pairs, `nextPageToken` only when more results follow.  A
grant with only the gmail.metadata scope cannot search (`q`) or ask for
format=full or raw, as in Gmail.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.emulators.google.responses import ApiError, error_response
from tests.emulators.google.state import Mailbox, Message, User

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


SEND_SCOPES = {
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://mail.google.com/",
}


def send_message(mailbox: Mailbox, call: Call) -> dict[str, Any]:
    """Record the raw message of users.messages.send in `mailbox.sent`."""
    if not SEND_SCOPES & set(call.scopes):
        raise ApiError(
            error_response(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
            )
        )
    try:
        raw = base64.urlsafe_b64decode(json.loads(call.body)["raw"])
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(
            error_response(400, "Invalid value for ByteString", "invalidArgument")
        ) from error
    with mailbox.lock:
        mailbox.sent.append(raw)
        number = len(mailbox.sent)
    return {"id": f"sent{number:012x}", "threadId": f"sent{number:012x}"}


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


# --- push notifications (users.watch, users.stop, Pub/Sub push) ------------------

PUBSUB_CERTS_PATH = "/_emulator/pubsub/certs"
"""Where the emulator serves the JWKS that verifies its push tokens."""
PUBSUB_ISSUER = "https://accounts.google.com"
WATCH_DAYS = 7
_TOPIC = re.compile(r"projects/[^/]+/topics/[^/]+")


@dataclasses.dataclass
class Watch:
    """One mailbox's watch: its topic, label filter and expiry."""

    topic: str
    label_ids: frozenset[str]
    include: bool
    expiration_ms: int
    pushed_through: int
    """Highest history record id already published."""


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One push request the emulator sent, and the endpoint's status."""

    email: str
    history_id: int
    status: int


class PubSubPush:
    """A Pub/Sub topic with one push subscription, fed by users.watch.

    Configure the subscription with `subscribe`.  While a watch lasts, a
    thread sends a push request to the endpoint for every history record
    of a watched mailbox that passes the watch's label filter, as Gmail and
    Pub/Sub do.  With an `audience`, the request carries an OIDC token
    signed by this emulator's key (JWKS at PUBSUB_CERTS_PATH), issued for
    `service_account`.  `deliveries` records each request and its status.
    """

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self.watches: dict[str, Watch] = {}
        self.deliveries: list[Delivery] = []
        self.endpoint: str | None = None
        self.audience: str | None = None
        self.service_account = "gmail-push@warmline-test.iam.gserviceaccount.com"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(8)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- set-up used by tests -----------------------------------------------------

    def subscribe(
        self,
        endpoint: str,
        audience: str | None = None,
        service_account: str | None = None,
        poll_seconds: float = 0.02,
    ) -> None:
        """Push to `endpoint` from now on, signing tokens for `audience` if given."""
        self.endpoint = endpoint
        self.audience = audience
        if service_account is not None:
            self.service_account = service_account
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, args=(poll_seconds,), name="pubsub-push", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def jwks(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        key.update({"kid": self.key_id, "alg": "RS256", "use": "sig"})
        return {"keys": [key]}

    def oidc_token(self, audience: str, **overrides: Any) -> str:
        """Sign a token as Pub/Sub does for a push; `overrides` change claims."""
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": PUBSUB_ISSUER,
            "aud": audience,
            "azp": "1078832913871",
            "sub": "1078832913871",
            "email": self.service_account,
            "email_verified": True,
            "iat": issued,
            "exp": issued + 3600,
            **overrides,
        }
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.key_id}
        )

    def push(
        self,
        email: str,
        history_id: int,
        endpoint: str | None = None,
        token: str | None = None,
    ) -> int:
        """POST one push request now; return the endpoint's status.

        `token` replaces the OIDC token (empty sends none); by default one
        is signed when the subscription has an audience.
        """
        target = endpoint or self.endpoint
        assert target is not None, "call subscribe() first or pass endpoint"
        data = json.dumps({"emailAddress": email, "historyId": history_id})
        body = {
            "message": {
                "data": base64.b64encode(data.encode()).decode(),
                "messageId": secrets.token_hex(8),
                "publishTime": dt.datetime.now(dt.UTC).isoformat(),
                "attributes": {},
            },
            "subscription": "projects/warmline-test/subscriptions/gmail-push",
        }
        headers = {}
        if token is None and self.audience is not None:
            token = self.oidc_token(self.audience)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with httpx.Client(timeout=10, trust_env=False) as client:
            status = client.post(target, json=body, headers=headers).status_code
        with self.lock:
            self.deliveries.append(Delivery(email, history_id, status))
        return status

    # --- users.watch and users.stop -----------------------------------------------------

    def watch(self, mailbox: Mailbox, call: Call) -> dict[str, Any]:
        try:
            request = json.loads(call.body or b"{}")
        except ValueError as error:
            raise ApiError(
                error_response(400, "Invalid JSON payload", "badRequest")
            ) from error
        topic = str(request.get("topicName") or "")
        if not _TOPIC.fullmatch(topic):
            raise ApiError(
                error_response(
                    400,
                    "Invalid topicName does not match projects/SOME-PROJECT/topics/*",
                    "invalidArgument",
                )
            )
        behavior = str(request.get("labelFilterBehavior") or "include").lower()
        expiration = int((time.time() + WATCH_DAYS * 86_400) * 1000)
        with mailbox.lock:
            current = mailbox.history_id
        with self.lock:
            self.watches[mailbox.email] = Watch(
                topic=topic,
                label_ids=frozenset(request.get("labelIds") or ()),
                include=behavior != "exclude",
                expiration_ms=expiration,
                pushed_through=current,
            )
        return {"historyId": str(current), "expiration": str(expiration)}

    def stop(self, mailbox: Mailbox, call: Call) -> dict[str, Any]:
        with self.lock:
            self.watches.pop(mailbox.email, None)
        return {}

    # --- delivery -----------------------------------------------------------------------

    def _run(self, poll_seconds: float) -> None:
        while not self._stop.wait(poll_seconds):
            for email, history_id in self._due():
                try:
                    self.push(email, history_id)
                except httpx.HTTPError:
                    with self.lock:
                        self.deliveries.append(Delivery(email, history_id, -1))

    def _due(self) -> list[tuple[str, int]]:
        """Return (address, historyId) of the watched mailboxes with new records."""
        due = []
        now_ms = time.time() * 1000
        with self.lock:
            watches = list(self.watches.items())
        for email, watch in watches:
            if watch.expiration_ms < now_ms or email not in self.users:
                continue
            mailbox = self.users[email].mailbox
            with mailbox.lock:
                records = [r for r in mailbox.history if r.id > watch.pushed_through]
                current = mailbox.history_id
            if not records:
                continue
            watch.pushed_through = records[-1].id
            if any(_passes(watch, record) for record in records):
                due.append((email, current))
        return due


def _passes(watch: Watch, record: Any) -> bool:
    if not watch.label_ids:
        return True
    labels = set(record.label_ids) | set(record.changed_labels)
    return bool(labels & watch.label_ids) == watch.include
