"""Errors a connector raises, named for what the caller should do.

    ConnectorError
    ├── TransientError        retry later, with backoff
    │   └── RateLimited       retry after `retry_after` seconds
    ├── NeedsReauthorization  stop this account until a person reconnects it
    ├── CursorExpired         drop the cursor and run a full sync of the scope
    ├── RemoteGone            the object no longer exists; skip it
    ├── MalformedData         one item cannot be read; quarantine it, go on
    └── SourceUnavailable     the account's file, folder or URL cannot be
                              opened; fix the account's settings

Each connector translates its library's errors into this tree at its boundary
with `raise ... from`, so nothing above connectors/ sees provider exceptions.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error a connector raises."""


class TransientError(ConnectorError):
    """A network failure, timeout or server error that may pass on a retry."""


class RateLimited(TransientError):
    """The provider asked us to slow down for `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NeedsReauthorization(ConnectorError):
    """The grant was revoked or expired; only a person can reconnect it."""


class CursorExpired(ConnectorError):
    """The stored cursor is no longer valid; a full sync of its scope follows."""


class RemoteGone(ConnectorError):
    """The object named by the provider no longer exists."""


class MalformedData(ConnectorError):
    """One item cannot be read; it is quarantined and the sync goes on."""


class SourceUnavailable(ConnectorError):
    """The account's file, folder or endpoint cannot be opened at all."""
