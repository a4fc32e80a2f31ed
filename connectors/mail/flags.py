"""Flags read off a message's headers: bulk mail, automatic replies, sent mail."""

from __future__ import annotations

import re

from connectors.mail.headers import HeaderBlock
from connectors.mail.labels import is_sent_label
from connectors.records import Flag

# Subject prefixes of automatic replies: Outlook ("Automatic reply:", German
# "Abwesenheitsnotiz:"), older Exchange ("Out of Office AutoReply:"), the
# short "Auto:" of some clients, and translations of the same.
_AUTO_REPLY_SUBJECT = re.compile(
    r"""\s*(?:
        out\ of\ (?:the\ )?office(?:\ auto-?reply)?
        | automatic\ reply | auto[-\ ]?reply | auto[-\ ]?response | auto
        | réponse\ automatique | automatische\ antwort | abwesenheitsnotiz
        | respuesta\ automática | resposta\ automática | risposta\ automatica
        | automatisch\ antwoord
    )\s*(?::|$)""",
    re.IGNORECASE | re.VERBOSE,
)
_AUTO_REPLY_WORDS = re.compile(
    r"out of (?:the )?office|automatic reply|auto-?reply", re.IGNORECASE
)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_NEGATIVE = frozenset({"", "no", "false", "0"})


def message_flags(
    headers: HeaderBlock, subject: str | None, labels: tuple[str, ...]
) -> frozenset[Flag]:
    """Return the BULK, AUTO_REPLY and SENT flags that apply to a message."""
    flags = set()
    if _is_bulk(headers):
        flags.add(Flag.BULK)
    if _is_auto_reply(headers, subject or ""):
        flags.add(Flag.AUTO_REPLY)
    if any(is_sent_label(label) for label in labels):
        flags.add(Flag.SENT)
    return frozenset(flags)


def _is_bulk(headers: HeaderBlock) -> bool:
    if "list-unsubscribe" in headers or "list-id" in headers:
        return True
    return _token(headers, "precedence") in _BULK_PRECEDENCE


def _is_auto_reply(headers: HeaderBlock, subject: str) -> bool:
    # RFC 3834: any Auto-Submitted value but "no" marks a message that a
    # program sent.
    auto_submitted = _token(headers, "auto-submitted")
    if auto_submitted is not None and auto_submitted != "no":
        return True
    for field in ("x-autoreply", "x-autorespond"):
        value = _token(headers, field)
        if value is not None and value not in _NEGATIVE:
            return True
    if _token(headers, "precedence") == "auto_reply" or _AUTO_REPLY_SUBJECT.match(
        subject
    ):
        return True
    # Outlook and many notification systems set X-Auto-Response-Suppress on
    # messages that are no replies at all, so it counts only with other
    # evidence: a null return path (RFC 3834 recommends one for automatic
    # responses), an Exchange inbox-rule marker, or an out-of-office phrase
    # anywhere in the subject.
    if "x-auto-response-suppress" not in headers:
        return False
    return (
        _token(headers, "return-path") == "<>"
        or "x-ms-exchange-inbox-rules-loop" in headers
        or _AUTO_REPLY_WORDS.search(subject) is not None
    )


def _token(headers: HeaderBlock, field: str) -> str | None:
    """Return the first value of `field` up to any parameter or comment."""
    value = headers.first(field)
    if value is None:
        return None
    text = value.decode("latin-1")
    return text.split(";", 1)[0].split("(", 1)[0].strip().lower()
