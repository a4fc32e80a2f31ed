"""The IMAP reader's cursor: per-folder sync state, stored as JSON.

    {"version": 1,
     "folders": {"INBOX": {"uidvalidity": 1796401232,
                           "uids": "1:57,60",
                           "last_uid": 61,
                           "highestmodseq": 88,
                           "listing_started": null}}}

`uids` are the folder's UIDs that the reader fetched and has not seen
expunged.  `last_uid` is the highest UID known to be fetched or gone.
`highestmodseq` is what EXAMINE reported when the folder was last
completed, null without CONDSTORE.  `listing_started` is the start of a
full listing still in progress.

On Gmail's \\All folder, `gm_msgids` also maps each UID to its X-GM-MSGID.
The provider keys there are X-GM-MSGIDs, and a UID that vanished can no
longer be fetched to learn its X-GM-MSGID.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any

from connectors.errors import CursorExpired
from connectors.imap.uidset import UidSet

CURSOR_VERSION = 1


@dataclasses.dataclass(slots=True)
class FolderState:
    """Sync state of one folder; see the module docstring."""

    uidvalidity: int
    uids: UidSet = dataclasses.field(default_factory=UidSet)
    last_uid: int = 0
    highestmodseq: int | None = None
    listing_started: dt.datetime | None = None
    gm_msgids: dict[int, int] | None = None

    def copy(self) -> FolderState:
        return dataclasses.replace(
            self,
            uids=self.uids.copy(),
            gm_msgids=None if self.gm_msgids is None else dict(self.gm_msgids),
        )

    def to_json(self) -> dict[str, Any]:
        started = self.listing_started
        fields: dict[str, Any] = {
            "uidvalidity": self.uidvalidity,
            "uids": str(self.uids),
            "last_uid": self.last_uid,
            "highestmodseq": self.highestmodseq,
            "listing_started": started.isoformat() if started else None,
        }
        if self.gm_msgids is not None:
            fields["gm_msgids"] = _encode_pairs(sorted(self.gm_msgids.items()))
        return fields

    @classmethod
    def from_json(cls, fields: dict[str, Any]) -> FolderState:
        started = fields.get("listing_started")
        gm_msgids = fields.get("gm_msgids")
        return cls(
            uidvalidity=int(fields["uidvalidity"]),
            uids=UidSet.parse(fields.get("uids", "")),
            last_uid=int(fields.get("last_uid", 0)),
            highestmodseq=fields.get("highestmodseq"),
            listing_started=dt.datetime.fromisoformat(started) if started else None,
            gm_msgids=dict(_decode_pairs(gm_msgids)) if gm_msgids is not None else None,
        )


def load_cursor(cursor: str | None) -> dict[str, FolderState]:
    """Read a cursor into folder states; None starts from nothing.

    Raises CursorExpired for a cursor this version cannot read, so that the
    caller drops it and every folder is listed again.
    """
    if cursor is None:
        return {}
    try:
        data = json.loads(cursor)
        if data.get("version") != CURSOR_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        return {
            name: FolderState.from_json(fields)
            for name, fields in data["folders"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CursorExpired(
            f"IMAP cursor cannot be read ({error}); drop it to list every folder again"
        ) from error


def dump_cursor(folders: dict[str, FolderState]) -> str:
    body = {name: state.to_json() for name, state in sorted(folders.items())}
    return json.dumps({"version": CURSOR_VERSION, "folders": body})


def _encode_pairs(pairs: list[tuple[int, int]]) -> str:
    """Write (UID, X-GM-MSGID) pairs as base64 of delta-coded varints.

    Both numbers mostly grow together, so each delta takes a few bytes
    where JSON would take about 30 per pair.
    """
    out = bytearray()
    previous_uid = previous_id = 0
    for uid, msgid in pairs:
        _put_varint(out, uid - previous_uid)
        delta = msgid - previous_id
        _put_varint(out, delta * 2 if delta >= 0 else -delta * 2 - 1)
        previous_uid, previous_id = uid, msgid
    return base64.b64encode(bytes(out)).decode("ascii")


def _decode_pairs(text: str) -> list[tuple[int, int]]:
    data = base64.b64decode(text, validate=True)
    numbers = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            numbers.append(value)
            value = shift = 0
    if shift or len(numbers) % 2:
        raise ValueError("gm_msgids is truncated")
    pairs = []
    uid = msgid = 0
    for uid_delta, coded in zip(numbers[::2], numbers[1::2], strict=True):
        uid += uid_delta
        msgid += coded // 2 if coded % 2 == 0 else -(coded + 1) // 2
        pairs.append((uid, msgid))
    return pairs


def _put_varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return
