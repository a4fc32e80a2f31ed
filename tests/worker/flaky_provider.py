"""A provider whose reader always fails as a network outage would.

Importing the module registers it as provider "flaky", which a worker does
when started with `--include=tests.worker.flaky_provider`.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors import Item, ProgressCallback, Reader, TransientError
from warmline.models import Account
from warmline.readers import ReaderServices, register_reader

PROVIDER = "flaky"


class FlakyReader(Reader):
    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        raise TransientError("connection to mail.flaky.example timed out")
        yield  # a generator, like every reader


def _open(_account: Account, _services: ReaderServices) -> Reader:
    return FlakyReader()


register_reader(PROVIDER, _open)
