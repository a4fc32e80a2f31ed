"""Reader for a folder of .eml files, one RFC 5322 message per file.

Unit of sync: one folder and everything under it.  Each sync lists every
file named *.eml (any case), sorts them by change time and relative path,
and reads the ones after the cursor's watermark, so files added later are
read on the next sync.  Only a file's header block is read, capped at
MAX_HEADER_BLOCK_BYTES.  Outlook .msg files (OLE compound documents) are out
of scope and ignored.

Cursor: JSON with a watermark of (change time in nanoseconds, relative
path).  The change time is the later of mtime and ctime, because copying or
unpacking files can give them an old mtime, while the ctime of a file that
was just written, copied or renamed is always new.  The watermark never
passes files changed in the last few seconds before the listing: file
systems stamp files with a coarse clock, so a file written just after the
listing could carry a time already passed.  Those recent files are read
again on the next sync, which is harmless because activities are upserted
on their keys.

`full_listing` is false: a file deleted from the folder does not remove
its activity.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.errors import MalformedData, SourceUnavailable
from connectors.mail import (
    MAX_HEADER_BLOCK_BYTES,
    HeaderBlock,
    message_external_id,
    parse_headers,
)
from connectors.records import Item, Quarantined

logger = structlog.get_logger(__name__)

# NOTE: two seconds covers the clock granularity of local file systems.  A
# network file system whose clock runs further behind this host's can still
# hide a new file below the watermark.
DEFAULT_SETTLE_SECONDS = 2.0
_MAX_LINE_PIECE = 65_536


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class _Watermark:
    changed_ns: int
    path: str

    def dumps(self) -> str:
        return json.dumps({"changed_ns": self.changed_ns, "path": self.path})


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class _EmlFile:
    changed_ns: int
    relative: str
    path: Path = dataclasses.field(compare=False)

    @property
    def watermark(self) -> _Watermark:
        return _Watermark(self.changed_ns, self.relative)


class EmlFolderReader(Reader):
    """Reads the .eml files under one folder; see the module docstring."""

    full_listing = False

    def __init__(
        self, path: Path, *, settle_seconds: float = DEFAULT_SETTLE_SECONDS
    ) -> None:
        """Set up a reader of the folder `path`.

        Files changed less than `settle_seconds` before a listing stay above
        the watermark, so the next sync reads them again.
        """
        super().__init__()
        self.path = path
        self.settle_seconds = settle_seconds

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield an activity or a quarantined item per file after `cursor`."""
        settled_before = time.time_ns() - int(self.settle_seconds * 1e9)
        files, unreadable = _list_eml_files(self.path)
        after = _parse_cursor(cursor, self.path)
        pending = [entry for entry in files if after is None or entry.watermark > after]
        position = after
        self.final_cursor = cursor
        for folder, reason in unreadable:
            yield Quarantined(folder, reason, cursor)
        for done, entry in enumerate(pending, start=1):
            if entry.changed_ns < settled_before:
                position = entry.watermark
            item = _read_file(entry, position.dumps() if position is not None else None)
            if position is not None:
                self.final_cursor = position.dumps()
            yield item
            if progress is not None:
                progress(done, len(pending))


def _list_eml_files(root: Path) -> tuple[list[_EmlFile], list[tuple[str, str]]]:
    """Return the .eml files under `root`, sorted, and the folders not listed."""
    try:
        os.scandir(root).close()
    except OSError as error:
        raise SourceUnavailable(
            f"cannot list the folder {root}: {error.strerror}; check that the "
            "path is right and readable by the Warmline service"
        ) from error
    files: list[_EmlFile] = []
    unreadable: list[tuple[str, str]] = []

    def note_error(error: OSError) -> None:
        relative = _relative(Path(error.filename or root), root)
        unreadable.append(
            (relative, f"cannot list folder {relative}: {error.strerror}")
        )

    for folder, _, names in os.walk(root, onerror=note_error):
        for name in names:
            if not name.lower().endswith(".eml"):
                continue
            path = Path(folder, name)
            try:
                # A broken symbolic link is listed by its own times, and
                # quarantined when it cannot be read.
                status = path.stat() if path.exists() else path.lstat()
            except OSError:
                continue  # removed since the listing
            changed_ns = max(status.st_mtime_ns, status.st_ctime_ns)
            files.append(_EmlFile(changed_ns, _relative(path, root), path))
    files.sort()
    return files, unreadable


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _read_file(entry: _EmlFile, position: str | None) -> Item:
    try:
        header = _read_header_block(entry.path)
    except OSError as error:
        reason = f"cannot read {entry.relative}: {error.strerror}"
        return Quarantined(entry.relative, reason, position)
    headers = HeaderBlock.from_bytes(header)
    key = message_external_id(headers)
    if len(header) > MAX_HEADER_BLOCK_BYTES:
        reason = (
            f"header block of {entry.relative} is over {MAX_HEADER_BLOCK_BYTES:,} bytes"
        )
        return Quarantined(key, reason, position)
    try:
        activity = parse_headers(headers, provider_key=key)
    except MalformedData as error:
        return Quarantined(key, f"{entry.relative}: {error}", position)
    activity.position = position
    return activity


def _read_header_block(path: Path) -> bytes:
    """Read a file up to its first empty line, or until it passes the cap."""
    header = bytearray()
    at_line_start = True
    with path.open("rb") as stream:
        while piece := stream.readline(_MAX_LINE_PIECE):
            if at_line_start and piece in (b"\n", b"\r\n"):
                break
            at_line_start = piece.endswith(b"\n")
            header += piece
            if len(header) > MAX_HEADER_BLOCK_BYTES:
                break
    return bytes(header)


def _parse_cursor(cursor: str | None, root: Path) -> _Watermark | None:
    if cursor is None:
        return None
    try:
        fields = json.loads(cursor)
        watermark = _Watermark(int(fields["changed_ns"]), str(fields["path"]))
    except (ValueError, TypeError, KeyError):
        logger.warning(
            "eml folder cursor is invalid; reading every file",
            path=str(root),
            cursor=cursor[:200],
        )
        return None
    return watermark
