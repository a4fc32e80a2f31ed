"""One logging set-up for the command line, the web site and the workers.

`configure_logging()` sends structlog events and standard-library records
(imapclient, msal, httpx and httpcore log through the standard library)
through the same processors to standard error, one line each.  Before a
line is rendered, `Redactor` removes what must not reach a log:

- values of secret-looking fields (token, password, secret, authorization,
  cookie, credential, key) and message content fields (subject, body,
  snippet, preview, description);
- in any text: bearer tokens, Authorization and Cookie headers, secrets in
  query strings and JSON (access_token=..., "refresh_token": "..."),
  IMAP LOGIN and AUTHENTICATE arguments, and long random strings that look
  like tokens or keys (32 or more base64 characters mixing upper case,
  lower case and digits);
- addresses: each becomes ``[<12 hex digits> at <domain>]``, an HMAC-SHA256
  of the address under a key made once per process, so one address reads
  the same in every line of a process and differently in the next process;
- lines of the IMAP conversation (logger imapclient.imaplib) keep their
  first three words: direction, tag, and command or response name.  The
  rest is dropped because it may carry headers, addresses and subjects.

Levels: DEBUG per item, INFO one summary per batch or run, WARNING an
outside problem that was handled, ERROR something a person must fix.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(
    r"token|password|passwd|secret|authorization|cookie|credential|assertion"
    r"|verifier|api_?key|(?:^|_)key$",
    re.IGNORECASE,
)
CONTENT_KEYS = re.compile(
    r"^(?:subject|body|body_?preview|preview|snippet|content|description|summary"
    r"|text|html)$",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
CONTENT_REMOVED = "[content removed]"

# An address, also URL-encoded (%40), as it appears in Graph request URLs.
ADDRESS = re.compile(
    r"(?<![\w.%+-])(?P<local>[A-Za-z0-9._%+-]+)(?:@|%40)"
    r"(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
TEXT_SECRETS = (
    # Authorization: Bearer eyJ..., Basic dXNlcjpwYXNz
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # Header pairs as httpcore logs them: (b'authorization', b'...')
    (
        re.compile(
            r"(?i)(b?['\"](?:authorization|proxy-authorization|cookie|set-cookie)"
            r"['\"],\s*b?['\"])[^'\"]*"
        ),
        r"\1" + REDACTED,
    ),
    # Header lines: Authorization: ..., Cookie: ...
    (
        re.compile(r"(?im)^((?:proxy-)?authorization|cookie|set-cookie)\s*:.*$"),
        r"\1: " + REDACTED,
    ),
    # Query strings and form bodies: refresh_token=...&code=...
    (
        re.compile(
            r"(?i)(?<![\w-])(access_token|refresh_token|id_token|client_secret"
            r"|client_assertion|assertion|password|passwd|code|code_verifier"
            r"|token|sig|signature)=[^&\s'\"]+"
        ),
        r"\1=" + REDACTED,
    ),
    # JSON and Python reprs: "refresh_token": "...", 'password': '...'
    (
        re.compile(
            r"(?i)([\"'](?:access_token|refresh_token|id_token|client_secret"
            r"|password|secret|token)[\"']\s*:\s*[\"'])[^\"']*"
        ),
        r"\1" + REDACTED,
    ),
    # IMAP LOGIN and AUTHENTICATE commands keep only the command name.
    # Case-sensitive, so "login" in a host name is left alone.
    (re.compile(r"\b(LOGIN|AUTHENTICATE)\b[^\r\n]*"), r"\1 " + REDACTED),
)
TOKEN_LIKE = re.compile(
    r"(?<![A-Za-z0-9_+/=-])"
    r"(?=[A-Za-z0-9_+/=-]*[A-Z])(?=[A-Za-z0-9_+/=-]*[a-z])(?=[A-Za-z0-9_+/=-]*\d)"
    r"[A-Za-z0-9_+/=-]{32,}"
)
WIRE_LOGGERS = frozenset({"imapclient.imaplib"})
"""Loggers whose lines are protocol traffic; only their first words are kept."""

WIRE_WORDS = 3

_process_key: bytes | None = None


def process_key() -> bytes:
    """Return this process's address-hashing key, made on first use."""
    global _process_key
    if _process_key is None:
        _process_key = secrets.token_bytes(32)
    return _process_key


class Redactor:
    """A structlog processor that removes secrets, content and addresses."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def hash_address(self, address: str) -> str:
        """Return ``[<hmac> at <domain>]`` for an address."""
        local, _separator, domain = address.replace("%40", "@").rpartition("@")
        digest = hmac.new(
            self._key, f"{local}@{domain}".lower().encode(), hashlib.sha256
        ).hexdigest()
        return f"[{digest[:12]} at {domain.lower()}]"

    def redact_text(self, text: str) -> str:
        """Remove secrets and hash addresses in free text."""
        for pattern, replacement in TEXT_SECRETS:
            text = pattern.sub(replacement, text)
        text = TOKEN_LIKE.sub(REDACTED, text)
        return ADDRESS.sub(lambda match: self.hash_address(match.group(0)), text)

    def redact_value(self, key: str, value: Any) -> Any:
        if SECRET_KEYS.search(key):
            return REDACTED
        if CONTENT_KEYS.search(key):
            return CONTENT_REMOVED if value else value
        return self._redact_nested(value)

    def _redact_nested(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, bytes):
            return self.redact_text(value.decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return {str(k): self.redact_value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._redact_nested(item) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact_text(repr(value))

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if key in ("timestamp", "level", "logger", "_record", "_from_structlog"):
                continue
            event[key] = self.redact_value(key, value)
        return event


def shorten_wire_lines(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Keep the first words of a protocol line from a logger in WIRE_LOGGERS."""
    if event.get("logger") in WIRE_LOGGERS and isinstance(event.get("event"), str):
        words = event["event"].split()
        if len(words) > WIRE_WORDS:
            removed = len(words) - WIRE_WORDS
            event["event"] = (
                " ".join(words[:WIRE_WORDS]) + f" [{removed} words removed]"
            )
    return event


class _StandardErrorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted.

    Test runners and the command-line runner replace sys.stderr after the
    set-up, and the lines must follow.
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def parse_level(level_name: str) -> int:
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"log level {level_name!r} is unknown; use DEBUG, INFO, WARNING or ERROR"
        )
    return level


def configure_logging(level_name: str, *, key: bytes | None = None) -> None:
    """Send structlog and standard-library logs at `level_name` up to standard error.

    Calling it again replaces the earlier set-up.  `key` sets the
    address-hashing key; the default is made once per process.
    """
    level = parse_level(level_name)
    redactor = Redactor(key or process_key())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared,
            redactor,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, shorten_wire_lines, redactor],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
    handler = _StandardErrorHandler()
    handler.set_name("warmline")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "warmline":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def reset_logging() -> None:
    """Undo `configure_logging`: structlog defaults, root logger at WARNING.

    Call it between tests, because a command run in-process
    configures logging for the whole process.
    """
    structlog.reset_defaults()
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "warmline":
            root.removeHandler(existing)
    root.setLevel(logging.WARNING)
