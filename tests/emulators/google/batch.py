"""Batch requests: multipart/mixed bodies of application/http parts.

Each part of a request contains one HTTP request (request line, headers, an
optional body) and a Content-ID.  The response contains one part per request,
in the same order, with Content-ID "response-" plus the request's id, and
the whole response is 200 whatever the inner statuses are.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import http
import secrets

from tests.emulators.google.responses import Response

MAX_CALLS = 100


@dataclasses.dataclass
class InnerRequest:
    content_id: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def parse_batch(content_type: str, body: bytes) -> list[InnerRequest]:
    """Split a batch request body into its inner requests."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        head + body
    )
    if not message.is_multipart():
        raise ValueError("the batch body is not multipart/mixed")
    requests = []
    for part in message.get_payload():
        payload = part.get_payload(decode=False)
        if isinstance(payload, list):
            raise ValueError("a batch part holds a nested multipart body")
        requests.append(_inner_request(str(part.get("Content-ID", "")), payload))
    return requests


def _inner_request(content_id: str, payload: str) -> InnerRequest:
    text = payload.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return InnerRequest(content_id, method, target, headers, body.encode())


def compose_batch(parts: list[tuple[str, Response]]) -> Response:
    """Build the multipart response from (Content-ID, response) pairs."""
    boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for content_id, response in parts:
        reason = http.HTTPStatus(response.status).phrase
        inner_headers = "".join(
            f"{name}: {value}\r\n" for name, value in response.headers.items()
        )
        chunks.append(
            f"--{boundary}\r\n"
            "Content-Type: application/http\r\n"
            f"Content-ID: {_response_id(content_id)}\r\n\r\n"
            f"HTTP/1.1 {response.status} {reason}\r\n"
            f"{inner_headers}\r\n"
        )
        chunks.append(response.body.decode() + "\r\n")
    chunks.append(f"--{boundary}--\r\n")
    return Response(
        200,
        "".join(chunks).encode(),
        {"Content-Type": f"multipart/mixed; boundary={boundary}"},
    )


def _response_id(content_id: str) -> str:
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    return f"<response-{inner}>"
