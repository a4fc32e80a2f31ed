"""Gmail and Google Calendar connectors over Google's REST APIs.

`GmailReader` and `GoogleCalendarReader` read an account's changes since
its cursor.  Credentials come from a stored user grant
(`StoredCredentials.from_store`, filled by `authorize_installed_app` and
`save_credentials`) or from a service account with domain-wide delegation
(`delegated_credentials`).  `GoogleSettings` contains every endpoint, timeout,
quota and retry setting.
"""

from connectors.google.auth import (
    CALENDAR_EVENTS_SCOPE,
    CALENDAR_READONLY_SCOPE,
    GMAIL_METADATA_SCOPE,
    StoredCredentials,
    authorize_installed_app,
    delegated_credentials,
    requested_scopes,
    save_credentials,
)
from connectors.google.calendar import CalendarCursor, GoogleCalendarReader
from connectors.google.client import CredentialsFactory, ReadStats
from connectors.google.config import (
    CALENDAR_QUOTA,
    GMAIL_QUOTA_2026,
    GMAIL_QUOTA_LEGACY,
    GMAIL_QUOTAS,
    GoogleSettings,
    QuotaRegime,
    RetrySettings,
)
from connectors.google.gmail import (
    GmailCursor,
    GmailReader,
    MailboxAudit,
    MailboxProfile,
    MissingMessage,
    mailbox_address,
)

__all__ = [
    "CALENDAR_EVENTS_SCOPE",
    "CALENDAR_QUOTA",
    "CALENDAR_READONLY_SCOPE",
    "GMAIL_METADATA_SCOPE",
    "GMAIL_QUOTAS",
    "GMAIL_QUOTA_2026",
    "GMAIL_QUOTA_LEGACY",
    "CalendarCursor",
    "CredentialsFactory",
    "GmailCursor",
    "GmailReader",
    "GoogleCalendarReader",
    "GoogleSettings",
    "MailboxAudit",
    "MailboxProfile",
    "MissingMessage",
    "QuotaRegime",
    "ReadStats",
    "RetrySettings",
    "StoredCredentials",
    "authorize_installed_app",
    "delegated_credentials",
    "mailbox_address",
    "requested_scopes",
    "save_credentials",
]
