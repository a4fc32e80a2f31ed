"""The header block of a raw RFC 5322 message, split into fields.

The standard library's parsers build a whole message object.  With the
modern policy, reading the addresses, date and subject of a typical 30-line
header block took about ten times as long as this package takes for the
whole activity (Python 3.11.7 on a shared 2-core virtual machine).  So
Warmline splits the header block itself and decodes only the fields it needs.
"""

from __future__ import annotations

from connectors.mail.charsets import decode_unlabelled

MAX_HEADER_BLOCK_BYTES = 1_048_576
"""Maximum header block a file reader keeps in memory for one message."""

MAX_ADDRESS_HEADER_BYTES = 65_536
"""Maximum size of one address header (all its occurrences together).

Garbled address headers have made other parsers build huge names until the
worker ran out of memory, so larger ones are rejected before any parsing.
A real message with 4,096 recipients (from the test data of Nylas's
sync-engine) has a To header of 45,052 bytes.
"""

HEADER_FIELDS = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "received",
        "return-path",
        "list-id",
        "list-unsubscribe",
        "precedence",
        "auto-submitted",
        "x-autoreply",
        "x-autorespond",
        "x-auto-response-suppress",
        "x-ms-exchange-inbox-rules-loop",
        "x-gm-thrid",
        "x-gmail-labels",
    }
)
"""Fields (lower case) that `HeaderBlock` keeps; it drops all others."""

_FIELD_NAMES = {name.encode("ascii"): name for name in HEADER_FIELDS}
_FOLDING = (b" ", b"\t")


class HeaderBlock:
    """The fields of one message's header block, kept as raw unfolded bytes.

    Only the fields in `HEADER_FIELDS` are kept, each with every occurrence in
    order.  `size` is the length of the whole header block in bytes, and
    `defects` lists lines that could not be read as fields.
    """

    __slots__ = ("_fields", "size", "defects")

    def __init__(
        self, fields: dict[str, list[bytes]], size: int, defects: list[str]
    ) -> None:
        self._fields = fields
        self.size = size
        self.defects = defects

    @classmethod
    def from_bytes(cls, raw: bytes) -> HeaderBlock:
        """Split the header block of `raw`; the body after it is ignored.

        The block ends at the first empty line.  An mbox "From " line before
        the first field, as some .eml exports keep, is skipped.
        """
        block = _header_block(raw)
        fields: dict[str, list[bytes]] = {}
        defects: list[str] = []
        name: str | None = None
        parts: list[bytes] = []
        lines = block.replace(b"\r\n", b"\n").split(b"\n") if block else []
        for number, line in enumerate(lines):
            if line[:1] in _FOLDING:
                if name is not None:
                    parts.append(line)
                continue
            if name is not None:
                fields.setdefault(name, []).append(b"".join(parts).strip())
                name = None
            colon = line.find(b":")
            if colon > 0:
                name = _FIELD_NAMES.get(line[:colon].rstrip().lower())
                parts = [line[colon + 1 :]]
            elif line and not (number == 0 and line.startswith((b"From ", b">From "))):
                defects.append(f"header line {number + 1} has no field name; ignored")
        if name is not None:
            fields.setdefault(name, []).append(b"".join(parts).strip())
        return cls(fields, len(block), defects)

    def first(self, name: str) -> bytes | None:
        """Return the first occurrence of field `name` (lower case), or None."""
        values = self._fields.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[bytes]:
        """Return every occurrence of field `name` (lower case), in order."""
        return self._fields.get(name, [])

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def text(self, name: str, defects: list[str]) -> str | None:
        """Return the first occurrence of `name` as text, or None if absent.

        Raw 8-bit bytes are decoded as UTF-8, else as windows-1252 with a
        defect note.  Encoded words are left for the caller.
        """
        value = self.first(name)
        if value is None:
            return None
        return decode_field(value, name, defects)


def decode_field(value: bytes, name: str, defects: list[str]) -> str:
    """Decode one raw field value to text, without touching encoded words."""
    if value.isascii():
        return value.decode("ascii")
    return decode_unlabelled(value, _display_name(name), defects)


def _display_name(field: str) -> str:
    return "-".join(part.capitalize() for part in field.split("-"))


def _header_block(raw: bytes) -> bytes:
    if raw.startswith((b"\n", b"\r\n")):
        return b""
    # Search first for the blank line in the line ending of the first line,
    # and for the other only before it, so that in a file with one line
    # ending the body is never scanned.
    first_break = raw.find(b"\n")
    if first_break > 0 and raw[first_break - 1] == 0x0D:
        usual, other = b"\n\r\n", b"\n\n"
    else:
        usual, other = b"\n\n", b"\n\r\n"
    end = raw.find(usual)
    earlier = raw.find(other, 0, end if end >= 0 else len(raw))
    if earlier >= 0:
        end = earlier
    return raw[: end + 1] if end >= 0 else raw
