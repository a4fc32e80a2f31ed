"""Reader for mbox files, including Google Takeout's Gmail export.

Unit of sync: one mbox file, read once from the cursor's byte offset to the
end, one message at a time.  Only each message's header block is kept in
memory, capped at MAX_HEADER_BLOCK_BYTES; bodies are skipped as they are
read, so memory stays flat however large the file or its messages.
`mailbox.mbox` is not used, because it scans the whole file to build a table
of contents before it returns the first message.

A message starts at a line that begins with "From " and carries an
asctime() date ("From sender Thu Mar  5 16:40:00 2026"), as mbox writers put
there.  Mutt splits files by the same test.  Writers of mboxo and
mboxrd files quote body lines that begin with "From " as ">From ", so those
never split a message, and the date test keeps an unquoted body line such
as "From the front desk: ..." from splitting one either.  Bodies are never
kept, so the quoting needs no undoing.  Content before the first "From "
line is read as a message of its own.

Cursor: JSON with the byte offset after the last message read, a hash of
the file's first 4 KB (at most up to the offset), and the offset and a hash
of the first line of the last message read.  A file that was only appended
to still matches all three; a replaced or truncated file does not, and the
read restarts at offset 0.  Re-reading is harmless because activities are
upserted on their keys.

Takeout: X-Gmail-Labels becomes the activity's labels; messages labelled as
spam, trash, drafts or chats, in English or the account's language, yield
nothing.  The provider key is the Message-ID (or the id made from the
headers), so a message exported in several per-label files is one activity.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.errors import MalformedData, SourceUnavailable
from connectors.mail import (
    MAX_HEADER_BLOCK_BYTES,
    HeaderBlock,
    message_external_id,
    parse_from_line_date,
    parse_gmail_labels,
    parse_headers,
    skipped_label,
)
from connectors.records import Item, Quarantined

logger = structlog.get_logger(__name__)

# Lines are read in pieces of at most this size, so one huge line (a garbled
# header, a body without line breaks) never sits in memory whole.
_MAX_LINE_PIECE = 65_536
_HEAD_BYTES = 4096
_BLANK_LINES = (b"\n", b"\r\n")


@dataclasses.dataclass(slots=True)
class _MessageSpan:
    """One message's place in the file and its header block."""

    start: int
    first_line: bytes
    received_at: dt.datetime | None  # the date of the "From " line
    header: bytearray = dataclasses.field(default_factory=bytearray)
    header_size: int = 0
    in_header: bool = True
    end: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _Cursor:
    offset: int
    head_sha256: str
    last_start: int
    last_line_sha256: str

    def dumps(self) -> str:
        # Formatted by hand, which is several times faster than json.dumps
        # and valid JSON because the fields are integers and hex digests.
        return (
            f'{{"head_sha256": "{self.head_sha256}", '
            f'"last_line_sha256": "{self.last_line_sha256}", '
            f'"last_start": {self.last_start:d}, "offset": {self.offset:d}}}'
        )


class MboxReader(Reader):
    """Reads the messages of one mbox file; see the module docstring."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield an activity or a quarantined item per message after `cursor`."""
        try:
            stream = open(self.path, "rb")
        except OSError as error:
            raise SourceUnavailable(
                f"cannot open mbox file {self.path}: {error.strerror}; check "
                "that the path is right and readable by the Warmline service"
            ) from error
        with stream:
            yield from self._read_stream(stream, cursor, progress)

    def _read_stream(
        self, stream: BinaryIO, cursor: str | None, progress: ProgressCallback | None
    ) -> Iterator[Item]:
        size = os.fstat(stream.fileno()).st_size
        head = stream.read(_HEAD_BYTES)
        head_sha256 = _sha256(head)
        start = _resume_offset(stream, cursor, head, size, self.path)
        self.final_cursor = cursor if start > 0 else _start_cursor()
        counts = {"read": 0, "skipped": 0, "quarantined": 0}
        for span in _scan_messages(stream, start):
            position = _position_after(span, head, head_sha256)
            item = _read_message(span, position)
            counts["read"] += 1
            if item is None:
                counts["skipped"] += 1
            elif isinstance(item, Quarantined):
                counts["quarantined"] += 1
            self.final_cursor = position
            if item is not None:
                yield item
            if progress is not None:
                progress(span.end, size)
        logger.debug("mbox file read", path=str(self.path), start=start, **counts)


def _start_cursor() -> str:
    return _Cursor(0, _sha256(b""), 0, _sha256(b"")).dumps()


def _read_message(span: _MessageSpan, position: str) -> Item | None:
    """Return the item for one message, or None for a skipped Takeout label."""
    headers = HeaderBlock.from_bytes(bytes(span.header))
    key = message_external_id(headers)
    if span.header_size > MAX_HEADER_BLOCK_BYTES:
        reason = (
            f"header block is {span.header_size:,} bytes, "
            f"limit {MAX_HEADER_BLOCK_BYTES:,}"
        )
        return Quarantined(key, reason, position)
    labels_value = headers.first("x-gmail-labels")
    labels = parse_gmail_labels(labels_value) if labels_value is not None else ()
    if skipped_label(labels) is not None:
        return None
    try:
        activity = parse_headers(
            headers, provider_key=key, server_time=span.received_at, labels=labels
        )
    except MalformedData as error:
        return Quarantined(key, str(error), position)
    activity.position = position
    return activity


def _scan_messages(stream: BinaryIO, start: int) -> Iterator[_MessageSpan]:
    """Yield each message from byte `start` on, keeping only its header block."""
    stream.seek(start)
    readline = stream.readline
    offset = start
    span: _MessageSpan | None = None
    at_line_start = True
    while piece := readline(_MAX_LINE_PIECE):
        piece_start, offset = offset, offset + len(piece)
        starts_line, at_line_start = at_line_start, piece.endswith(b"\n")
        received_at = None
        if starts_line and piece.startswith(b"From "):
            received_at = parse_from_line_date(piece)
        if received_at is not None:
            if span is not None:
                span.end = piece_start
                yield span
            span = _MessageSpan(piece_start, piece, received_at)
            continue
        blank_line = starts_line and piece in _BLANK_LINES
        if span is None:
            if blank_line:
                continue
            span = _MessageSpan(piece_start, piece, None)
        if span.in_header:
            _add_header_piece(span, piece, blank_line)
    if span is not None:
        span.end = offset
        yield span


def _add_header_piece(span: _MessageSpan, piece: bytes, blank_line: bool) -> None:
    if blank_line:
        span.in_header = False
        return
    span.header_size += len(piece)
    if span.header_size <= MAX_HEADER_BLOCK_BYTES:
        span.header += piece


def _position_after(span: _MessageSpan, head: bytes, head_sha256: str) -> str:
    if span.end < len(head):
        head_sha256 = _sha256(head[: span.end])
    return _Cursor(
        offset=span.end,
        head_sha256=head_sha256,
        last_start=span.start,
        last_line_sha256=_sha256(span.first_line),
    ).dumps()


def _resume_offset(
    stream: BinaryIO, cursor: str | None, head: bytes, size: int, path: Path
) -> int:
    """Return the offset to resume at, or 0 when the cursor does not fit the file."""
    if cursor is None:
        return 0
    parsed = _parse_cursor(cursor)
    if parsed is not None and parsed.offset == 0:
        return 0
    if parsed is not None and _cursor_fits(stream, parsed, head, size):
        return parsed.offset
    logger.warning(
        "mbox cursor does not fit the file; reading it from the start",
        path=str(path),
        cursor=cursor[:200],
    )
    return 0


def _parse_cursor(cursor: str) -> _Cursor | None:
    try:
        fields = json.loads(cursor)
        parsed = _Cursor(**fields)
    except (ValueError, TypeError):
        return None
    if not isinstance(parsed.offset, int) or not isinstance(parsed.last_start, int):
        return None
    if not 0 <= parsed.last_start <= parsed.offset:
        return None
    return parsed


def _cursor_fits(stream: BinaryIO, cursor: _Cursor, head: bytes, size: int) -> bool:
    if cursor.offset > size:
        return False
    if _sha256(head[: cursor.offset]) != cursor.head_sha256:
        return False
    stream.seek(cursor.last_start)
    if _sha256(stream.readline(_MAX_LINE_PIECE)) != cursor.last_line_sha256:
        return False
    # The offset must be the end of the file or the start of a message.
    stream.seek(cursor.offset)
    return cursor.offset == size or stream.read(5) == b"From "


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
