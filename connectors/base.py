"""The interface between a connector and the core sync pipeline."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator

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
