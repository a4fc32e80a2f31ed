"""Graph's sendMail: POST /me/sendMail or /users/{id}/sendMail.

Graph takes the message as JSON (`{"message": {...}}`) or, with
Content-Type text/plain, as a base64-encoded MIME message, and returns
202 Accepted with no body.  Either needs the Mail.Send permission.  The
emulator records each request in `Mailbox.sent`: the MIME bytes, or the
JSON message object.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from tests.emulators.microsoft.identity import Grant, Response
from tests.emulators.microsoft.mailbox import Mailbox

if TYPE_CHECKING:
    from tests.emulators.microsoft.server import Request

SEND_SCOPES = frozenset({"Mail.Send", "Mail.Send.All"})


def send_mail(request: Request, mailbox: Mailbox, grant: Grant) -> Response:
    """Record one sendMail request in `mailbox.sent` and return 202."""
    from tests.emulators.microsoft.graph import graph_error

    if request.method != "POST":
        return graph_error(
            405, "Request_BadRequest", "Specified HTTP method is not allowed"
        )
    if not grant.scopes & SEND_SCOPES:
        return graph_error(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    sent: bytes | dict[str, Any]
    if content_type == "text/plain":
        try:
            sent = base64.b64decode(request.body, validate=True)
        except binascii.Error:
            return graph_error(
                400,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
    else:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
            return graph_error(
                400, "ErrorInvalidRequest", "Empty Payload. JSON content expected."
            )
        sent = body["message"]
    with mailbox.lock:
        mailbox.sent.append(sent)
    return Response(202)
