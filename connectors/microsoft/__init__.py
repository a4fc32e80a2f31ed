"""Outlook mail and calendars through Microsoft Graph, signed in with msal.

`OutlookMailReader` and `OutlookCalendarReader` read one mailbox through a
`GraphClient`, which gets its tokens from a `DelegatedTokenSource` (a staff
member's sign-in, cached in a CredentialStore) or an
`ApplicationTokenSource` (application permissions for a whole tenant).
`AuthorizationCodeFlow` runs the delegated sign-in with PKCE.
"""

from connectors.microsoft.auth import (
    APPLICATION_SCOPES,
    ApplicationTokenSource,
    Authorization,
    AuthorizationCodeFlow,
    DelegatedTokenSource,
    delegated_scopes,
)
from connectors.microsoft.calendar import OutlookCalendarReader
from connectors.microsoft.client import (
    Clock,
    GraphClient,
    GraphStats,
    SystemClock,
    TokenSource,
)
from connectors.microsoft.config import GraphConfig, RetryPolicy, Timeouts
from connectors.microsoft.mail import DEFAULT_FOLDERS, OutlookMailReader

__all__ = [
    "APPLICATION_SCOPES",
    "DEFAULT_FOLDERS",
    "ApplicationTokenSource",
    "Authorization",
    "AuthorizationCodeFlow",
    "Clock",
    "DelegatedTokenSource",
    "GraphClient",
    "GraphConfig",
    "GraphStats",
    "OutlookCalendarReader",
    "OutlookMailReader",
    "RetryPolicy",
    "SystemClock",
    "Timeouts",
    "TokenSource",
    "delegated_scopes",
]
