"""The one place where the IMAP connector waits and retries.

Only TransientError and its subclass RateLimited are retried; every other
ConnectorError goes straight to the caller.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import structlog

from connectors.errors import RateLimited, TransientError
from connectors.imap.config import RetryPolicy

logger = structlog.get_logger(__name__)


class Backoff:
    """Counts failed attempts and sleeps between them, with jitter.

    Call `wait(error)` in the handler of a TransientError: it sleeps and
    returns, or raises the error once the policy allows no more attempts.
    Call `reset()` after an attempt made progress, so that a long sync over
    a flaky line is not abandoned for failures that it got past.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        account: str,
        sleep: Callable[[float], object] = time.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.policy = policy
        self.account = account
        self.failures = 0
        self._sleep = sleep
        self._uniform = uniform

    def reset(self) -> None:
        self.failures = 0

    def delay(self, error: TransientError) -> float:
        """Return the seconds to wait before the next attempt."""
        policy = self.policy
        exponential = min(
            policy.max_delay, policy.base_delay * 2 ** (self.failures - 1)
        )
        delay: float = exponential * self._uniform(0.5, 1.0)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            # A server's own wait is a minimum; jitter goes on top of it so
            # that several workers do not come back at the same instant.
            delay = error.retry_after + self._uniform(0.0, min(1.0, exponential))
        return delay

    def wait(self, error: TransientError) -> None:
        self.failures += 1
        policy = self.policy
        if self.failures >= policy.max_attempts:
            logger.warning(
                "imap retries exhausted",
                account=self.account,
                attempts=self.failures,
                error=str(error),
            )
            raise error
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > policy.max_server_delay:
                logger.warning(
                    "imap server asked for a long pause",
                    account=self.account,
                    retry_after=error.retry_after,
                    error=str(error),
                )
                raise error
        delay = self.delay(error)
        logger.warning(
            "imap retry scheduled",
            account=self.account,
            attempt=self.failures,
            delay=round(delay, 3),
            error=str(error),
        )
        self._sleep(delay)
