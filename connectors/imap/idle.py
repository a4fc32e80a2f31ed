"""Push notification of new mail with IMAP IDLE (RFC 2177).

`watch` keeps one connection in IDLE on one folder and calls `on_change`
when the server reports a new, expunged or changed message. It also calls it
once each time a connection opens, before the first IDLE, because IDLE
reports only what changes after it starts. Mail that arrived while no
connection watched, before the first one or while a dropped one was
reopened, would otherwise wait for the next change. The callback runs
outside IDLE, so it may take its time; a sync it starts reads the changes.
IDLE is re-issued every `config.idle_renewal` seconds, because RFC 2177
section 3 lets a server drop a client idle for 30 minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from connectors.errors import TransientError
from connectors.imap.client import ImapSession
from connectors.imap.config import ImapConfig
from connectors.imap.retry import Backoff

logger = structlog.get_logger(__name__)

# Untagged replies that mean the folder changed: EXISTS and EXPUNGE (RFC
# 3501 sections 7.3.1 and 7.4.1), FETCH for a flag change, and VANISHED,
# which replaces EXPUNGE once QRESYNC is enabled (RFC 7162).
_CHANGE_WORDS = frozenset({b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED"})


def watch(
    config: ImapConfig,
    on_change: Callable[[str], object],
    stop_event: threading.Event,
    *,
    folder: str = "INBOX",
    poll_interval: float = 1.0,
) -> None:
    """Call `on_change(folder)` whenever `folder` changes, until `stop_event`.

    It is also called once after each connection opens; see the module
    docstring.

    `poll_interval` is how often, in seconds, the wait checks `stop_event`.
    A dropped connection is reopened after the retry policy's backoff.  A
    TransientError is raised once the policy gives up.  Any other
    ConnectorError, such as a rejected credential, is raised at once, and
    so is an exception from `on_change`.
    """
    log = logger.bind(provider="imap", account=config.log_label, folder=folder)
    backoff = Backoff(config.retry, config.log_label, sleep=stop_event.wait)
    log.info("imap idle started")
    while not stop_event.is_set():
        try:
            _idle_session(
                config, folder, on_change, stop_event, poll_interval, backoff, log
            )
        except TransientError as error:
            backoff.wait(error)
    log.info("imap idle stopped")


def _idle_session(
    config: ImapConfig,
    folder: str,
    on_change: Callable[[str], object],
    stop_event: threading.Event,
    poll_interval: float,
    backoff: Backoff,
    log: Any,
) -> None:
    session = ImapSession.open(config)
    try:
        session.examine(folder)
        log.debug("imap idle connected; reading what arrived before")
        on_change(folder)
        while not stop_event.is_set():
            changed = _idle_once(
                session, config.idle_renewal, stop_event, poll_interval
            )
            backoff.reset()
            if changed:
                log.debug("imap idle reported a change")
                on_change(folder)
            else:
                log.debug("imap idle renewed")
    finally:
        session.close()


def _idle_once(
    session: ImapSession,
    renewal: float,
    stop_event: threading.Event,
    poll_interval: float,
) -> bool:
    """Wait in IDLE until a change, `renewal` seconds or `stop_event`."""
    session.idle()
    deadline = time.monotonic() + renewal
    changed = False
    while not changed and not stop_event.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        replies = session.idle_check(min(poll_interval, remaining))
        changed = any(_is_change(reply) for reply in replies)
    # Replies that arrive between the last check and DONE's completion are
    # changes too.
    replies = session.idle_done()
    return changed or any(_is_change(reply) for reply in replies)


def _is_change(reply: Any) -> bool:
    if not isinstance(reply, tuple):
        return False
    return any(
        isinstance(part, bytes) and part.upper() in _CHANGE_WORDS for part in reply
    )
