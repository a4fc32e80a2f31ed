"""Build RFC 5322 messages and write them as a Google Takeout mbox.

Takeout writes one mbox file in which each message starts with a From_ line
that gives Gmail's message id and internal date in UTC.  The X-GM-THRID
(Gmail thread id) and X-Gmail-Labels headers follow, and then the message
as Gmail stored it.  Body lines that start with "From " are written as
">From " (the mboxo convention), so they cannot start a new message.

Header values are written exactly as given: a `str` value is encoded as
UTF-8 and a `bytes` value is written raw, so a test case can hold folded
encoded words, 8-bit bytes or malformed syntax.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import random
import string
from collections.abc import Iterable, Sequence
from email.header import Header
from pathlib import Path
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")

Address = tuple[str, str]
"""A display name (possibly empty) and an addr-spec."""

HeaderValue = str | bytes


@dataclasses.dataclass
class Message:
    """One message of the export.

    `received_at` is Gmail's internal date (aware UTC), written on the From_
    line.  `case` names the messy case the message carries, if any, for the
    summary that make_examples.py prints.  `sender`, `recipients` and
    `references` are kept so that a reply can be addressed and threaded.
    """

    gmail_id: int
    thread_id: int
    received_at: dt.datetime
    labels: tuple[str, ...]
    headers: list[tuple[str, HeaderValue]]
    body: str | bytes
    message_id: str | None
    subject: str | None
    case: str | None = None
    sender: Address | None = None
    recipients: tuple[Address, ...] = ()
    references: tuple[str, ...] = ()

    def header(self, name: str) -> HeaderValue | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def format_address(address: Address) -> str:
    """Format a name and address, encoding a non-ASCII name as UTF-8."""
    return email.utils.formataddr(address, "utf-8")


def format_address_list(addresses: Sequence[Address]) -> str:
    """Join addresses with commas, folding the header when it gets long."""
    parts = [format_address(address) for address in addresses]
    joined = ", ".join(parts)
    if len(joined) <= 70:
        return joined
    return ",\n ".join(parts)


def encode_subject(subject: str) -> str:
    """Return the subject as written, or as RFC 2047 encoded words if non-ASCII."""
    if subject.isascii():
        return subject
    return Header(subject, "utf-8").encode()


def format_date(moment: dt.datetime, zone: dt.tzinfo = CHICAGO) -> str:
    """Format an aware datetime as an RFC 5322 Date in the sender's zone."""
    return email.utils.format_datetime(moment.astimezone(zone))


def reply_subject(subject: str) -> str:
    """Prefix "Re: " unless the subject already starts with a reply prefix."""
    if subject[:3].lower() == "re:":
        return subject
    return "Re: " + subject


class MessageIds:
    """Unique Message-IDs in the styles of common mail systems."""

    _ALPHABET = string.ascii_letters + string.digits

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def gmail(self) -> str:
        """Make an id such as Gmail gives: CA + 40 random characters."""
        token = "".join(self._rng.choice(self._ALPHABET) for _ in range(40))
        return self._unique(f"CA{token}@mail.gmail.example")

    def exchange(self) -> str:
        """Make an id such as Exchange Online gives, server name twice."""
        server = f"SN{self._rng.randrange(1, 8)}PR{self._rng.randrange(10, 20)}MB"
        server += str(self._rng.randrange(1000, 9999))
        token = "".join(self._rng.choice("0123456789ABCDEF") for _ in range(32))
        host = f"{server}.namprd{self._rng.randrange(10, 20)}.prod.outlook.example"
        return self._unique(f"{server}{token}@{host}")

    def local(self, domain: str, moment: dt.datetime) -> str:
        """Make an id from a time stamp and random hex, as many servers do."""
        stamp = moment.strftime("%Y%m%d%H%M%S")
        token = "".join(self._rng.choice("0123456789abcdef") for _ in range(10))
        return self._unique(f"{stamp}.{token}@{domain}")

    def fixed(self, value: str) -> str:
        """Register a hand-written id, so generated ids never repeat it."""
        return self._unique(value)

    def _unique(self, value: str) -> str:
        if value in self._issued:
            raise ValueError(f"Message-ID <{value}> was issued twice")
        self._issued.add(value)
        return value


class GmailIds:
    """Gmail message ids: milliseconds since 1970 shifted left 20 bits, plus noise.

    Real Gmail ids also grow with time, so sorting by id sorts by arrival.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[int] = set()

    def new(self, moment: dt.datetime) -> int:
        millis = int(moment.timestamp() * 1000)
        while True:
            value = (millis << 20) | self._rng.randrange(1 << 20)
            if value not in self._issued:
                self._issued.add(value)
                return value


def from_line(message: Message) -> str:
    """Return the mbox From_ line: Gmail id, then the date in asctime form."""
    moment = message.received_at.astimezone(dt.UTC)
    stamp = moment.strftime("%a %b %d %H:%M:%S +0000 %Y")
    return f"From {message.gmail_id}@xxx {stamp}\n"


def serialize(message: Message) -> bytes:
    """Serialize one message as an mbox entry, ending with a blank line."""
    lines = [
        from_line(message).encode("ascii"),
        f"X-GM-THRID: {message.thread_id}\n".encode("ascii"),
        f"X-Gmail-Labels: {','.join(message.labels)}\n".encode(),
    ]
    for name, value in message.headers:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(name.encode("ascii") + b": " + raw + b"\n")
    lines.append(b"\n")
    body = message.body if isinstance(message.body, bytes) else message.body.encode()
    lines.append(_escape_from_lines(body))
    if not body.endswith(b"\n"):
        lines.append(b"\n")
    lines.append(b"\n")
    return b"".join(lines)


def _escape_from_lines(body: bytes) -> bytes:
    escaped = [
        b">" + line if line.startswith(b"From ") else line for line in body.split(b"\n")
    ]
    return b"\n".join(escaped)


def write_mbox(path: Path, messages: Iterable[Message]) -> int:
    """Write the messages to `path` in order and return how many were written."""
    count = 0
    with path.open("wb") as handle:
        for message in messages:
            handle.write(serialize(message))
            count += 1
    return count
