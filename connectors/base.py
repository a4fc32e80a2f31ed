"""The interface between a connector and the core sync pipeline."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

from connectors.records import Item

ProgressCallback = Callable[[int, int | None], None]
"""Called with (units done, units in total or None) as a reader advances."""


class Reader(abc.ABC):
    """Reads one account's changes since a cursor.

    `read(cursor)` yields items in order.  An item's `position` is a cursor
    that covers it and everything before it; the pipeline stores it only
    after committing those items.  Once the iterator is exhausted,
    `final_cursor` covers the whole read.  When `full_listing` is true the
    items are the account's entire content, so an activity the account held
    before and that was not yielded this time is gone from the source.
    """

    full_listing: bool = False

    def __init__(self) -> None:
        self.final_cursor: str | None = None

    @abc.abstractmethod
    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield the activities and quarantined items after `cursor`."""


class CredentialStore(Protocol):
    """Where a connector keeps one account's credential between runs.

    The core implements it over the database, encrypted at rest.  The value
    is an opaque string the connector defines (a JSON token cache, a refresh
    token, a password).  `save` writes at once, in its own transaction, so a
    rotated refresh token is never lost to a crash later in the sync.
    `locked` holds a per-account lock across load, refresh and save, so that
    two workers never refresh the same grant at the same time.
    """

    def load(self) -> str | None:
        """Return the stored credential, or None if there is none."""

    def save(self, value: str) -> None:
        """Store a new credential value, replacing the old one."""

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the account's credential lock for the `with` block."""
