"""Send one RFC 822 message from a user's Gmail mailbox: users.messages.send.

The message goes as base64url in the `raw` field of a JSON body, and the
request needs one of the scopes gmail.send, gmail.compose, gmail.modify or
https://mail.google.com/.  Gmail sets the
From address to the mailbox's own address when the message names another.
"""

from __future__ import annotations

import base64
from typing import Any

from googleapiclient.errors import HttpError

from connectors.errors import NeedsReauthorization, TransientError
from connectors.google.client import (
    _LIBRARY_ERRORS,
    GMAIL_API,
    ApiClient,
    CredentialsFactory,
    translate_error,
)
from connectors.google.config import GoogleSettings
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from connectors.mail_send import MissingSendScope, SendRejected, SendUncertain

GMAIL_SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"
SEND_SCOPES = frozenset(
    {
        GMAIL_SEND_SCOPE,
        "https://www.googleapis.com/auth/gmail.compose",
        "https://www.googleapis.com/auth/gmail.modify",
        "https://mail.google.com/",
    }
)


class GmailSender:
    """Sends messages from one Gmail mailbox, one attempt per message."""

    def __init__(self, credentials: CredentialsFactory, settings: GoogleSettings):
        regime = settings.gmail_quota
        budget = QuotaBudget(
            max(1, int(regime.units_per_minute * settings.quota_share)),
            settings.quota_window,
        )
        self._client = ApiClient(
            GMAIL_API,
            settings.gmail_endpoint,
            credentials(),
            settings,
            regime,
            budget,
            RetryPolicy(settings.retry),
        )

    def send_message(self, raw: bytes) -> str:
        """Send the message `raw` and return the id Gmail gave it.

        Raises MissingSendScope when the grant lacks a send scope,
        SendRejected when Gmail refused the message or the grant, and
        SendUncertain when the request failed after it may have arrived.
        """
        body = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        request = self._client.service().users().messages().send(userId="me", body=body)
        try:
            response: dict[str, Any] = request.execute(num_retries=0)
        except HttpError as error:
            raise _send_error(error) from error
        except _LIBRARY_ERRORS as error:
            translated = translate_error(error, "users.messages.send")
            if isinstance(translated, NeedsReauthorization):
                raise SendRejected(str(translated)) from error
            raise SendUncertain(str(translated)) from error
        finally:
            self._client.close()
        return str(response.get("id", ""))


def _send_error(error: HttpError) -> Exception:
    translated = translate_error(error, "users.messages.send")
    status = int(error.resp.status)
    if status == 403 and "insufficient" in str(translated).lower():
        return MissingSendScope(str(translated))
    if isinstance(translated, TransientError) and status >= 500:
        return SendUncertain(str(translated))
    return SendRejected(str(translated))
