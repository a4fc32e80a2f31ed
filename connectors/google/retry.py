"""The one retry loop of the Google connectors.

Only `TransientError` (and its `RateLimited`) is retried.  Every other
`ConnectorError` is final for the call and goes to the caller at once.
Retries are bounded by `RetrySettings.max_attempts`, wait with exponential
backoff and full jitter, and wait exactly as long as the server asked when
it named a delay.  google-api-python-client's own retries
(`execute(num_retries=...)`) stay off, because they ignore Retry-After and
never retry the calls inside a batch.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import structlog

from connectors.errors import ConnectorError, RateLimited, TransientError
from connectors.google.config import RetrySettings

log = structlog.get_logger(__name__)

T = TypeVar("T")
K = TypeVar("K")

# Gmail names the end of a user-rate limit in the error message instead of a
# Retry-After header: "User-rate limit exceeded.  Retry after 2026-03-02T...Z".
_RETRY_AFTER_IN_MESSAGE = re.compile(r"Retry after (\d{4}-\d\d-\d\dT[\d:.]+Z)")


class RetryPolicy:
    """Runs calls with bounded retries; shared by every thread of a reader.

    `on_rate_limited` is called with the delay of each rate-limited failure,
    so a quota budget can hold every other thread back for as long.
    """

    def __init__(
        self,
        settings: RetrySettings,
        sleep: Callable[[float], None] = time.sleep,
        on_rate_limited: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._on_rate_limited = on_rate_limited
        self._random = random.Random()

    def call(self, operation: Callable[[], T], call_name: str) -> T:
        """Return `operation()`, retrying it after transient errors."""
        attempt = 1
        while True:
            try:
                return operation()
            except TransientError as error:
                self.wait(attempt, error, call_name)
                attempt += 1

    def call_each(
        self,
        operation: Callable[[list[K]], Mapping[K, ConnectorError]],
        keys: list[K],
        call_name: str,
    ) -> dict[K, ConnectorError]:
        """Run `operation` on `keys`, then again on the keys it failed transiently.

        `operation` returns the error of each key that failed; the keys it
        does not name succeeded.  Returns the errors that remain: final
        errors at once, transient ones once the attempts run out.
        """
        final: dict[K, ConnectorError] = {}
        pending = keys
        attempt = 1
        while pending:
            failed = operation(pending)
            transient = {
                k: e for k, e in failed.items() if isinstance(e, TransientError)
            }
            final.update({k: e for k, e in failed.items() if k not in transient})
            if not transient:
                break
            if attempt >= self.settings.max_attempts:
                final.update(transient)
                break
            slowest = max(transient.values(), key=_named_delay)
            try:
                self.wait(attempt, slowest, f"{call_name} ({len(transient)} calls)")
            except TransientError:
                final.update(transient)
                break
            pending = [key for key in pending if key in transient]
            attempt += 1
        return final

    def wait(self, attempt: int, error: TransientError, call_name: str) -> None:
        """Sleep before retry `attempt` + 1, or re-raise `error` when it is over.

        Raises `error` when `attempt` was the last one allowed or the server
        asked for a longer pause than `max_retry_after`.
        """
        settings = self.settings
        named = error.retry_after if isinstance(error, RateLimited) else None
        if attempt >= settings.max_attempts:
            log.warning(
                "retries exhausted", call=call_name, attempts=attempt, error=str(error)
            )
            raise error
        if named is not None and named > settings.max_retry_after:
            log.warning(
                "retry delay too long",
                call=call_name,
                retry_after=named,
                error=str(error),
            )
            raise error
        if named is not None:
            delay = named + self._random.uniform(0.0, settings.retry_after_jitter)
        else:
            ceiling = min(settings.max_delay, settings.base_delay * 2**attempt)
            delay = self._random.uniform(0.0, ceiling)
        if isinstance(error, RateLimited) and self._on_rate_limited is not None:
            self._on_rate_limited(delay)
        log.info(
            "retrying",
            call=call_name,
            attempt=attempt,
            delay=round(delay, 3),
            error=str(error),
        )
        self._sleep(delay)


def _named_delay(error: ConnectorError) -> float:
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after
    return 0.0


def retry_after_seconds(
    header: str | None, message: str, now: dt.datetime | None = None
) -> float | None:
    """Return the delay a response requests, in seconds, or None if none.

    `header` is a Retry-After value: delay-seconds or an HTTP-date (RFC 9110
    section 10.2.3).  Without one, a "Retry after <timestamp>" in the error
    `message` counts, as Gmail writes it for userRateLimitExceeded.
    """
    now = now or dt.datetime.now(dt.UTC)
    if header:
        text = header.strip()
        if text.isdigit():
            return float(text)
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return max(0.0, (moment - now).total_seconds())
    match = _RETRY_AFTER_IN_MESSAGE.search(message)
    if match is None:
        return None
    moment = dt.datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    return max(0.0, (moment - now).total_seconds())
