"""Connectors: an account's changes since its cursor, as plain activity records.

Nothing here imports the database, the matcher or the web view.
"""

from connectors.base import CredentialStore, ProgressCallback, Reader
from connectors.errors import (
    ConnectorError,
    CursorExpired,
    MalformedData,
    NeedsReauthorization,
    RateLimited,
    RemoteGone,
    SourceUnavailable,
    TransientError,
)
from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Item,
    Participant,
    ParticipantRole,
    Quarantined,
    Removed,
    ScopeListed,
)

__all__ = [
    "Activity",
    "ActivityKind",
    "ConnectorError",
    "CredentialStore",
    "CursorExpired",
    "Flag",
    "Item",
    "MalformedData",
    "NeedsReauthorization",
    "Participant",
    "ParticipantRole",
    "ProgressCallback",
    "Quarantined",
    "RateLimited",
    "Reader",
    "RemoteGone",
    "Removed",
    "ScopeListed",
    "SourceUnavailable",
    "TransientError",
]
