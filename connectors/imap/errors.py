"""Translation of imapclient, imaplib, ssl and socket errors into our tree.

Servers refuse commands with free text, so the class is read off the RFC
5530 response code when there is one, and off the known wording of the
big providers otherwise:

- Exchange Online: `NO Request is throttled. Suggested Backoff Time: 299910
  milliseconds`, and `NO Server Unavailable. 15` while a mailbox moves.
- Gmail: `NO [THROTTLED]`, `BYE [ALERT] Too many simultaneous connections`,
  and `NO [ALERT] Account exceeded command or bandwidth limits`.  Google's
  "Gmail bandwidth limits" help page states that reaching the limit
  suspends IMAP access for a while, but not for how long.  Gmail's texts vary,
  so `[ALERT]` with a refusal is matched, not the exact sentence.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl

from connectors.errors import (
    ConnectorError,
    NeedsReauthorization,
    RateLimited,
    SourceUnavailable,
    TransientError,
)

# NOTE: an estimate.  Google gives no length for a bandwidth lockout, and
# one hour keeps the account paused past the retry policy's longest wait.
GMAIL_LOCKOUT_SECONDS = 3600.0

_BACKOFF_TIME = re.compile(r"suggested backoff time:\s*(\d+)\s*milli", re.IGNORECASE)
_THROTTLED = re.compile(
    r"\[THROTTLED\]|throttl|server unavailable\.\s*\d+", re.IGNORECASE
)
_BANDWIDTH = re.compile(r"bandwidth|exceeded", re.IGNORECASE)
_CONNECTION_LIMIT = re.compile(
    r"too many (simultaneous )?connections|\[LIMIT\]|\[INUSE\]", re.IGNORECASE
)
# RFC 5530 section 3: codes after which the same credentials will not work.
_CREDENTIALS_REJECTED = re.compile(
    r"\[(AUTHENTICATIONFAILED|AUTHORIZATIONFAILED|EXPIRED|PRIVACYREQUIRED)\]",
    re.IGNORECASE,
)


def refusal_error(text: str, context: str) -> TransientError:
    """Classify a NO, BAD or BYE reply to a command as retryable.

    Throttling becomes RateLimited with the server's suggested wait when it
    gives one; anything else is a TransientError, retried a bounded number
    of times.
    """
    message = f"{context}: server replied {text!r}"
    backoff = _BACKOFF_TIME.search(text)
    if backoff:
        return RateLimited(message, retry_after=int(backoff.group(1)) / 1000)
    if "[ALERT]" in text.upper() and _BANDWIDTH.search(text):
        return RateLimited(message, retry_after=GMAIL_LOCKOUT_SECONDS)
    if _THROTTLED.search(text) or _CONNECTION_LIMIT.search(text):
        return RateLimited(message)
    return TransientError(message)


def login_error(
    text: str, account: str, mechanism: str, refreshed: bool = False
) -> ConnectorError:
    """Classify a rejected LOGIN or AUTHENTICATE.

    A rejected password or token raises NeedsReauthorization, because a
    person has to enter a new one, and retrying a wrong password makes
    many servers lock the account or the client's address.  A server that
    is only busy (RFC 5530 [UNAVAILABLE]) or throttling gets a retry.
    `refreshed` tells that the rejected token was fetched just before.
    """
    if "[UNAVAILABLE]" in text.upper() or _THROTTLED.search(text):
        return refusal_error(text, f"{mechanism} for {account} failed")
    if mechanism == "LOGIN":
        advice = "Check the user name and password, then enter them again."
    elif refreshed:
        advice = (
            "A newly refreshed access token was rejected too, so the grant "
            "lacks IMAP access or belongs to another user than the IMAP "
            "user name: connect the account again with that user's sign-in, "
            "and check that the administrator allows IMAP for the mailbox."
        )
    else:
        advice = "The access token was rejected, so reconnect the account."
    if not _CREDENTIALS_REJECTED.search(text):
        advice += " The server gave no RFC 5530 code, so the cause is a guess."
    return NeedsReauthorization(
        f"IMAP {mechanism} for {account} was rejected ({text}). {advice}"
    )


def translate(error: BaseException, context: str) -> ConnectorError:
    """Map a library error raised during `context` to our tree."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        return SourceUnavailable(
            f"{context}: the server certificate failed verification "
            f"({error.verify_message}); set ca_file to the CA that signed it, "
            "or fix the server's certificate"
        )
    if isinstance(error, imaplib.IMAP4.abort):
        # A BYE or a broken connection: imaplib cannot go on after it.
        return refusal_error(str(error), context)
    if isinstance(error, imaplib.IMAP4.error):
        return refusal_error(str(error), context)
    if isinstance(error, socket.timeout | TimeoutError):
        return TransientError(f"{context}: timed out ({error})")
    if isinstance(error, ssl.SSLError | OSError | EOFError):
        return TransientError(f"{context}: connection failed ({error})")
    raise TypeError(f"no translation for {type(error).__name__}") from error


TRANSLATED = (imaplib.IMAP4.error, ssl.SSLError, OSError, EOFError)
"""The library exception types that `translate` maps."""
