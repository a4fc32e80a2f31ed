"""Settings of the Outlook connectors: endpoints, timeouts, retries and paging.

Every network call the connectors make, to the identity platform through
msal and to Microsoft Graph through httpx, takes its timeouts and its CA
bundle from one `GraphConfig`.
"""

from __future__ import annotations

import dataclasses
import random
import ssl
import urllib.parse

import httpx

PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
PUBLIC_GRAPH_URL = "https://graph.microsoft.com/v1.0"

# Graph runs at most 20 requests in one JSON batch.
MAX_BATCH_REQUESTS = 20
# Outlook allows 4 concurrent requests per app and mailbox.
MAX_CONCURRENT_REQUESTS = 4


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds each phase of one HTTP request may take."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 60.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.read, write=self.write, pool=self.pool
        )


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Retry limits and waits for a failed Graph request.

    `max_attempts` counts the first attempt.  A Retry-After header sets the
    wait; without one the wait grows exponentially from `backoff_base` to
    `backoff_max` seconds, with jitter.  A Retry-After longer than
    `retry_after_max` seconds ends the sync with RateLimited instead, so
    that the account is retried by the next scheduled run.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 600.0

    def delay(
        self, attempt: int, retry_after: float | None, rng: random.Random
    ) -> float:
        """Return the seconds to wait before attempt `attempt` + 1."""
        if retry_after is not None:
            # A little jitter after the server's time spreads the clients it
            # released at the same moment.
            return retry_after + rng.uniform(0.0, min(1.0, retry_after / 10))
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


@dataclasses.dataclass(frozen=True)
class GraphConfig:
    """Where the identity platform and Graph are, and how to talk to them.

    `tenant` is a tenant id or domain, or "organizations" for delegated
    sign-in from any work account.  `client_secret` is only needed for a
    confidential (web) app registration and for application permissions.
    `ca_file` replaces the system's CA bundle, for the local emulator.
    `page_size` goes to Graph as `Prefer: odata.maxpagesize`, a maximum the
    server may lower.  NOTE: Graph documents no maximum for message and
    event delta pages, so the default of 100 is a guess, not a measured
    best.  The reader puts the cursor into an item's position at most once
    per `checkpoint_items` items and at the end of each round.
    """

    client_id: str
    tenant: str = "organizations"
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    authority_host: str = PUBLIC_AUTHORITY_HOST
    graph_url: str = PUBLIC_GRAPH_URL
    ca_file: str | None = None
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS
    page_size: int = 100
    batch_size: int = MAX_BATCH_REQUESTS
    checkpoint_items: int = 1000

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError(
                "the Microsoft client id is empty; set it to the application "
                "(client) id of the app registration"
            )
        for name in ("authority_host", "graph_url"):
            url = getattr(self, name)
            if urllib.parse.urlsplit(url).scheme != "https":
                raise ValueError(f"{name} {url!r} is not an https URL")
        if not 1 <= self.batch_size <= MAX_BATCH_REQUESTS:
            raise ValueError(
                f"batch_size {self.batch_size} is outside 1 to {MAX_BATCH_REQUESTS}"
            )
        if not 1 <= self.max_concurrent_requests <= MAX_CONCURRENT_REQUESTS:
            raise ValueError(
                f"max_concurrent_requests {self.max_concurrent_requests} is outside "
                f"1 to {MAX_CONCURRENT_REQUESTS}"
            )
        if self.page_size < 1 or self.checkpoint_items < 1:
            raise ValueError("page_size and checkpoint_items must be positive")

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"

    def verify(self) -> ssl.SSLContext | bool:
        """Return what httpx's `verify` takes: a context for `ca_file`, or True."""
        if self.ca_file:
            return ssl.create_default_context(cafile=self.ca_file)
        return True

    def http_client(self) -> httpx.Client:
        """Return an httpx client with this configuration's timeouts and CA bundle."""
        return httpx.Client(
            timeout=self.timeouts.as_httpx(),
            verify=self.verify(),
            # Proxy and CA settings come from this object, not the environment.
            trust_env=False,
            follow_redirects=False,
        )
