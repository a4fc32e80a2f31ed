"""Compact encodings for the large parts of a cursor.

A cursor records which item ids each folder or calendar holds.  Immutable
ids are long (around 120 characters) and share their mailbox's prefix, so
the sets are stored sorted, zlib-compressed and base64-encoded.  The
benchmark's 20,000-message mailbox, whose emulated ids share less than real
ones do, still gives a cursor of about 950 kB.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable
from typing import Any


def pack_ids(ids: Iterable[str]) -> str:
    """Encode a set of ids as one ASCII string."""
    text = "\n".join(sorted(ids))
    return base64.b64encode(zlib.compress(text.encode(), 1)).decode()


def unpack_ids(text: str | None) -> set[str]:
    """Decode `pack_ids` output; an empty or missing value is the empty set."""
    if not text:
        return set()
    data = zlib.decompress(base64.b64decode(text)).decode()
    return set(data.split("\n")) if data else set()


def pack_json(value: Any) -> str:
    """Encode a JSON value as one compressed ASCII string."""
    data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(data, 1)).decode()


def unpack_json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    return json.loads(zlib.decompress(base64.b64decode(text)))
