"""IMAP mail connector: headers of an account's folders as activities.

`ImapReader` reads the changes of one account since its cursor;
`watch` waits in IMAP IDLE and reports when new mail arrives.
"""

from connectors.imap.config import ImapConfig, RetryPolicy, Security
from connectors.imap.idle import watch
from connectors.imap.sync import ImapReader

__all__ = ["ImapConfig", "ImapReader", "RetryPolicy", "Security", "watch"]
