"""Admission checks that may defer an account's sync before it starts.

A provider whose quota is shared by many accounts registers a check for
its accounts.  `warmline.pipeline.sync_account` calls it before it opens
the reader, so the command line and the Celery workers defer the same
syncs.  A deferred sync reads nothing and keeps the account's cursor and
status, and the next sync after `until` is checked again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from warmline.readers import ReaderServices


@dataclasses.dataclass(frozen=True)
class Deferral:
    """A sync put off: the time it may start (aware UTC) and the reason."""

    until: dt.datetime
    reason: str


AdmissionCheck = Callable[[ReaderServices, int], Deferral | None]
"""Given the reader services and an account id, return a Deferral or None."""

_CHECKS: dict[str, AdmissionCheck] = {}


def register_admission(provider: str, check: AdmissionCheck) -> None:
    """Have `check` decide whether syncs of `provider` accounts may start."""
    _CHECKS[provider] = check


def check_admission(
    services: ReaderServices, account_id: int, provider: str
) -> Deferral | None:
    """Return the registered check's Deferral, or None when the sync may start."""
    check = _CHECKS.get(provider)
    if check is None:
        return None
    return check(services, account_id)
