"""IMAP mail connector: headers of an account's folders as activities.

`ImapReader` reads the changes of one account since its cursor;
`watch` waits in IMAP IDLE and reports when new mail arrives.
`AccessTokenSource` is what an OAuth grant must provide to sign in.
"""

from connectors.imap.config import (
    AccessTokenSource,
    ImapConfig,
    RetryPolicy,
    Security,
)
from connectors.imap.idle import watch
from connectors.imap.sync import ImapReader

__all__ = [
    "AccessTokenSource",
    "ImapConfig",
    "ImapReader",
    "RetryPolicy",
    "Security",
    "watch",
]
