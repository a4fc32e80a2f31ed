"""Open the connector that reads an account, by the account's provider."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors import Reader
from connectors.caldav import CaldavConfig, CaldavReader
from connectors.files.eml import EmlFolderReader
from connectors.files.ics import IcsReader
from connectors.files.mbox import MboxReader
from connectors.imap import AccessTokenSource, ImapConfig, ImapReader
from warmline.models import Account
from warmline.secrets import DatabaseCredentialStore, SecretBox

FILE_PROVIDERS = ("mbox", "eml", "ics")


class UnknownProviderError(ValueError):
    """An account names a provider this version cannot read."""


class MissingCredentialError(ValueError):
    """An account that needs a stored credential has none."""


@dataclasses.dataclass
class ReaderServices:
    """What a reader factory may need from the core besides the account row.

    The secret box is built on first use, so file accounts never need keys.
    """

    sessions: sessionmaker[Session]
    secret_box: Callable[[], SecretBox]

    def credentials(self, account: Account) -> DatabaseCredentialStore:
        return DatabaseCredentialStore(self.sessions, account.id, self.secret_box())


ReaderFactory = Callable[[Account, ReaderServices], Reader]


def _ics_reader(account: Account, _services: ReaderServices) -> Reader:
    timezone = account.options.get("timezone") or account.staff_member.timezone
    return IcsReader(Path(account.location), default_timezone=timezone)


def _imap_reader(account: Account, services: ReaderServices) -> Reader:
    return ImapReader(imap_config(account, services))


ImapTokenSourceFactory = Callable[[Account, ReaderServices], AccessTokenSource]
"""Makes the access-token source of an IMAP account that signs in with OAuth."""

IMAP_TOKEN_SOURCES: dict[str, ImapTokenSourceFactory] = {}
"""Token-source factories by the account's `oauth` option: google, microsoft."""


def register_imap_token_source(provider: str, factory: ImapTokenSourceFactory) -> None:
    """Let IMAP accounts whose `oauth` option is `provider` sign in with tokens."""
    IMAP_TOKEN_SOURCES[provider] = factory


def imap_config(account: Account, services: ReaderServices) -> ImapConfig:
    """Build the IMAP settings of an account, with its decrypted credential.

    An account with the `oauth` option signs in with the access tokens of
    its stored grant; the grant is read only when the reader logs in.
    """
    options = account.options
    credential: dict[str, Any]
    oauth = options.get("oauth")
    if oauth:
        factory = IMAP_TOKEN_SOURCES.get(oauth)
        if factory is None:
            raise UnknownProviderError(
                f"account {account.id} signs in to IMAP with {oauth!r} tokens, "
                "but no token source for them is registered; this version "
                f"supports {', '.join(sorted(IMAP_TOKEN_SOURCES)) or 'none'}"
            )
        credential = {"token_source": factory(account, services)}
    else:
        credential = {"password": _stored_password(account, services, "imap")}
    return ImapConfig(
        host=options["host"],
        port=options.get("port"),
        username=options["username"],
        **credential,
        security=options.get("security", "tls"),
        verify_certificates=options.get("verify_certificates", True),
        ca_file=options.get("ca_file"),
        folders=tuple(options["folders"]) if options.get("folders") else None,
    )


def _stored_password(account: Account, services: ReaderServices, command: str) -> str:
    password = services.credentials(account).load()
    if password is None:
        raise MissingCredentialError(
            f"account {account.id} has no stored password; add it again with "
            f"'warmline accounts add {command}'"
        )
    return password


def _caldav_reader(account: Account, services: ReaderServices) -> Reader:
    options = account.options
    config = CaldavConfig(
        url=account.location,
        username=options["username"],
        password=_stored_password(account, services, "caldav"),
        calendars=tuple(options["calendars"]) if options.get("calendars") else None,
        verify_tls=options.get("verify_tls", True),
        ca_bundle=options.get("ca_bundle"),
        allow_plain_http=options.get("allow_plain_http", False),
        default_timezone=options.get("timezone") or account.staff_member.timezone,
    )
    return CaldavReader(config)


READERS: dict[str, ReaderFactory] = {
    "mbox": lambda account, _services: MboxReader(Path(account.location)),
    "eml": lambda account, _services: EmlFolderReader(Path(account.location)),
    "ics": _ics_reader,
    "imap": _imap_reader,
    "caldav": _caldav_reader,
}


def register_reader(provider: str, factory: ReaderFactory) -> None:
    """Make accounts of `provider` readable with readers made by `factory`."""
    READERS[provider] = factory


def open_reader(account: Account, services: ReaderServices) -> Reader:
    factory = READERS.get(account.provider)
    if factory is None:
        raise UnknownProviderError(
            f"account {account.id} has provider {account.provider!r}; "
            f"this version reads {', '.join(sorted(READERS))}"
        )
    return factory(account, services)
