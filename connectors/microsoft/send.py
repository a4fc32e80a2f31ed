"""Send one MIME message from an Outlook mailbox: Graph's POST /sendMail.

The message goes base64-encoded with Content-Type text/plain, which Graph
takes as a whole MIME message, so the digest keeps its text and HTML
parts.  Graph returns 202 Accepted with no body.  The request needs the
Mail.Send permission, delegated or application.
"""

from __future__ import annotations

import base64
import urllib.parse

import httpx

from connectors.errors import NeedsReauthorization, TransientError
from connectors.mail_send import MissingSendScope, SendRejected, SendUncertain
from connectors.microsoft.client import GraphClient, _failure, _json_or_none

MAIL_SEND_SCOPE = "Mail.Send"


class GraphMailSender(GraphClient):
    """A Graph client that also sends mail, one attempt per message.

    A failed send is not retried, because Graph may have accepted a request
    whose response was lost, and a retry would send the message twice.
    """

    def send_message(self, raw: bytes) -> str:
        """Send the MIME message `raw`; return '' (Graph gives no id).

        Raises MissingSendScope on 403, SendRejected on other refusals and
        when no token can be had, and SendUncertain when the request failed
        after the message may have arrived.
        """
        url = self.url("/sendMail")
        path = urllib.parse.urlsplit(url).path
        body = base64.b64encode(raw)
        try:
            response = self._post_mime(url, body)
            if response.status_code == 401:
                # One refresh, as for reads: a 401 means Graph did not take it.
                self._tokens.access_token(force_refresh=True)
                response = self._post_mime(url, body)
        except NeedsReauthorization as error:
            raise SendRejected(str(error)) from error
        except httpx.TransportError as error:
            raise SendUncertain(
                f"Graph POST {path} failed: {type(error).__name__}: {error}"
            ) from error
        finally:
            self.close()
        if response.status_code < 300:
            return ""
        failure = _failure(
            response.status_code,
            _json_or_none(response),
            response.headers,
            f"Graph POST {path}",
        )
        if response.status_code == 403:
            raise MissingSendScope(str(failure))
        if isinstance(failure, TransientError) and response.status_code >= 500:
            raise SendUncertain(str(failure))
        raise SendRejected(str(failure))

    def _post_mime(self, url: str, body: bytes) -> httpx.Response:
        headers = {
            "Authorization": "Bearer " + self._tokens.access_token(),
            "Content-Type": "text/plain",
        }
        return self._connection().post(url, headers=headers, content=body)
