"""Settings of the Google connectors: endpoints, timeouts, quotas and retries.

One frozen object, `GoogleSettings`, carries every number the connectors
use, so a test or the core can change them in one place.  Nothing here reads
the environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

GMAIL_ENDPOINT = "https://gmail.googleapis.com/"
CALENDAR_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
TOKEN_URI = "https://oauth2.googleapis.com/token"
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"

MAX_BATCH_CALLS = 100
"""Gmail rejects a batch request with more than 100 calls."""


@dataclasses.dataclass(frozen=True)
class QuotaRegime:
    """A per-user quota: units per minute and the units each method costs.

    Methods are named as in the discovery document, such as
    "users.messages.get".  A method that is not listed costs `default_units`.
    """

    name: str
    units_per_minute: int
    method_units: Mapping[str, int]
    default_units: int = 1

    def units(self, method: str) -> int:
        """Return the quota units one call of `method` costs."""
        return self.method_units.get(method, self.default_units)


GMAIL_QUOTA_LEGACY = QuotaRegime(
    name="legacy",
    units_per_minute=15_000,
    method_units=MappingProxyType(
        {
            "users.getProfile": 1,
            "users.messages.list": 5,
            "users.messages.get": 5,
            "users.history.list": 2,
        }
    ),
)
"""Gmail's per-user quota for projects that used the API before May 2026."""

GMAIL_QUOTA_2026 = QuotaRegime(
    name="2026",
    units_per_minute=6_000,
    method_units=MappingProxyType(
        {
            "users.getProfile": 1,
            "users.messages.list": 5,
            "users.messages.get": 20,
            "users.history.list": 2,
        }
    ),
)
"""Gmail's per-user quota for projects created on or after 1 May 2026.

NOTE: the 20 units for messages.get come from one translated copy of
Google's quota page; check the live page before relying on it.
"""

CALENDAR_QUOTA = QuotaRegime(
    name="calendar", units_per_minute=600, method_units=MappingProxyType({})
)
"""Google Calendar's per-user limit: 600 requests per minute, one unit each."""

GMAIL_QUOTAS = {
    regime.name: regime for regime in (GMAIL_QUOTA_LEGACY, GMAIL_QUOTA_2026)
}


@dataclasses.dataclass(frozen=True)
class RetrySettings:
    """How often and how long to retry a call that failed transiently.

    `max_attempts` counts the first try.  The delay before retry n (from 1)
    is a random value between 0 and min(`max_delay`, `base_delay` * 2**n),
    unless the server named a delay (Retry-After), which is then used with
    up to `retry_after_jitter` seconds added.  A named delay longer than
    `max_retry_after` ends the retries at once.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 32.0
    retry_after_jitter: float = 1.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts {self.max_attempts} must be at least 1")


@dataclasses.dataclass(frozen=True)
class GoogleSettings:
    """Every setting of the Gmail and Google Calendar connectors.

    Times are in seconds.  `quota_share` is the fraction of the per-user
    quota that the connector plans to use, which leaves room for other
    clients of the same user and for the server's window not lining up with
    ours.  `quota_window` is the length of the quota's minute; only tests
    and benchmarks against the emulator shorten it.
    """

    gmail_endpoint: str = GMAIL_ENDPOINT
    calendar_endpoint: str = CALENDAR_ENDPOINT
    token_uri: str = TOKEN_URI
    timeout: float = 60.0
    threads: int = 4
    batch_size: int = 50
    list_page_size: int = 500
    history_page_size: int = 500
    gmail_quota: QuotaRegime = GMAIL_QUOTA_LEGACY
    calendar_quota: QuotaRegime = CALENDAR_QUOTA
    quota_share: float = 0.9
    quota_window: float = 60.0
    retry: RetrySettings = dataclasses.field(default_factory=RetrySettings)
    calendar_page_size: int = 2500
    calendar_days_back: int = 180
    calendar_days_ahead: int = 60
    calendar_relist_days: int = 30
    authorization_timeout: float = 300.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH_CALLS:
            raise ValueError(
                f"batch_size {self.batch_size} is out of range; Gmail accepts "
                f"1 to {MAX_BATCH_CALLS} calls per batch"
            )
        if self.threads < 1:
            raise ValueError(f"threads {self.threads} must be at least 1")
        if not 0.0 < self.quota_share <= 1.0:
            raise ValueError(f"quota_share {self.quota_share} must be in (0, 1]")
        if self.timeout <= 0 or self.authorization_timeout <= 0:
            raise ValueError("timeouts must be positive numbers of seconds")
        if self.calendar_relist_days >= self.calendar_days_ahead:
            # A full listing must reach every occurrence before it starts,
            # because an unchanged occurrence never appears in a sync token
            # round: see the calendar module's docstring.
            raise ValueError(
                f"calendar_relist_days {self.calendar_relist_days} must be "
                f"less than calendar_days_ahead {self.calendar_days_ahead}"
            )

    def with_endpoint(self, root: str) -> GoogleSettings:
        """Return these settings with every URL under `root` (an emulator)."""
        root = root.rstrip("/") + "/"
        return dataclasses.replace(
            self,
            gmail_endpoint=root,
            calendar_endpoint=root + "calendar/v3/",
            token_uri=root + "token",
        )
