"""Open the connector that reads an account, by the account's provider."""

from __future__ import annotations

from pathlib import Path

from connectors.files.eml import EmlFolderReader
from connectors.files.ics import IcsReader
from connectors.files.mbox import MboxReader

from connectors import Reader
from warmline.models import Account

FILE_PROVIDERS = ("mbox", "eml", "ics")


class UnknownProviderError(ValueError):
    """An account names a provider this version cannot read."""


def open_reader(account: Account) -> Reader:
    path = Path(account.location)
    if account.provider == "mbox":
        return MboxReader(path)
    if account.provider == "eml":
        return EmlFolderReader(path)
    if account.provider == "ics":
        timezone = account.options.get("timezone") or account.staff_member.timezone
        return IcsReader(path, default_timezone=timezone)
    raise UnknownProviderError(
        f"account {account.id} has provider {account.provider!r}; "
        f"this version reads {', '.join(FILE_PROVIDERS)}"
    )
