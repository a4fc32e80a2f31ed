"""Responses of the emulated Google APIs, and Google's JSON error body."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclasses.dataclass
class Response:
    """One HTTP response: status, headers and body bytes.

    `drop_after` cuts the connection after that many body bytes, to emulate
    a connection lost in the middle of a response.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    drop_after: int | None = None


def json_response(
    status: int, value: Any, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json; charset=UTF-8"}
    all_headers.update(headers or {})
    return Response(status, body, all_headers)


def error_body(
    code: int, message: str, reason: str | None = None, domain: str = "global"
) -> dict[str, Any]:
    """Return Google's error body; without `reason` the errors list is left out."""
    error: dict[str, Any] = {"code": code, "message": message}
    if reason is not None:
        error["errors"] = [{"message": message, "domain": domain, "reason": reason}]
    status = _STATUS_NAMES.get(code)
    if status is not None:
        error["status"] = status
    return {"error": error}


def error_response(
    code: int,
    message: str,
    reason: str | None = None,
    domain: str = "global",
    headers: dict[str, str] | None = None,
) -> Response:
    return json_response(code, error_body(code, message, reason, domain), headers)


class ApiError(Exception):
    """Raised by a handler to respond with an error."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response
