"""Open the connector that reads an account, by the account's provider."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connectors import Reader
from connectors.files.eml import EmlFolderReader
from connectors.files.ics import IcsReader
from connectors.files.mbox import MboxReader
from warmline.models import Account

FILE_PROVIDERS = ("mbox", "eml", "ics")

ReaderFactory = Callable[[Account], Reader]


class UnknownProviderError(ValueError):
    """An account names a provider this version cannot read."""


def _ics_reader(account: Account) -> Reader:
    timezone = account.options.get("timezone") or account.staff_member.timezone
    return IcsReader(Path(account.location), default_timezone=timezone)


READERS: dict[str, ReaderFactory] = {
    "mbox": lambda account: MboxReader(Path(account.location)),
    "eml": lambda account: EmlFolderReader(Path(account.location)),
    "ics": _ics_reader,
}


def register_reader(provider: str, factory: ReaderFactory) -> None:
    """Make accounts of `provider` readable with readers made by `factory`."""
    READERS[provider] = factory


def open_reader(account: Account) -> Reader:
    factory = READERS.get(account.provider)
    if factory is None:
        raise UnknownProviderError(
            f"account {account.id} has provider {account.provider!r}; "
            f"this version reads {', '.join(sorted(READERS))}"
        )
    return factory(account)
