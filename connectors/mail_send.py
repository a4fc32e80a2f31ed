"""Errors of sending one message through a mail provider's API.

Sending is never retried inside a connector, because a request that failed
after the provider accepted it would deliver the message twice.  The
caller decides from the class:

    ConnectorError
    ├── SendRejected       the provider did not take the message; try later
    │   └── MissingSendScope   the grant lacks the send scope; reconnect
    └── SendUncertain      the provider may have taken it; do not resend
"""

from __future__ import annotations

from connectors.errors import ConnectorError


class SendRejected(ConnectorError):
    """The provider responded that it did not take the message."""


class MissingSendScope(SendRejected):
    """The stored grant does not allow sending mail."""


class SendUncertain(ConnectorError):
    """The request failed where the provider may already have the message."""
