"""Open the calendar writer of an account, and tell which accounts allow writing.

Writer factories are registered per provider like reader factories
(warmline.readers): the Google and Microsoft ones by
`warmline.providers.*.register_readers`, the CalDAV one here.  An account
can take follow-ups when its provider has a writer and its stored grant
includes write access: Google's calendar.events scope, Graph's
Calendars.ReadWrite.  A CalDAV account writes with its password.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.caldav import CaldavConfig
from connectors.caldav.placement import CaldavCalendarWriter
from connectors.google import CALENDAR_EVENTS_SCOPE
from connectors.placement import CalendarWriter
from warmline.models import Account, AccountStatus
from warmline.readers import MissingCredentialError, ReaderServices

WriterFactory = Callable[[Account, ReaderServices], CalendarWriter]

GOOGLE_WRITE_SCOPES = frozenset(
    {CALENDAR_EVENTS_SCOPE, "https://www.googleapis.com/auth/calendar"}
)
GRAPH_WRITE_SCOPE = "Calendars.ReadWrite"
CONNECT_COMMANDS = {
    "google_calendar": "warmline accounts connect google --staff {email} --follow-ups",
    "outlook_calendar": "warmline accounts connect microsoft --staff {email} "
    "--follow-ups",
}


def _caldav_writer(account: Account, services: ReaderServices) -> CalendarWriter:
    options = account.options
    password = services.credentials(account).load()
    if password is None:
        raise MissingCredentialError(
            f"account {account.id} has no stored password; add it again with "
            "'warmline accounts add caldav'"
        )
    calendars = options.get("calendars") or []
    zone = options.get("timezone") or account.staff_member.timezone
    config = CaldavConfig(
        url=account.location,
        username=options["username"],
        password=password,
        verify_tls=options.get("verify_tls", True),
        ca_bundle=options.get("ca_bundle"),
        allow_plain_http=options.get("allow_plain_http", False),
        default_timezone=zone,
    )
    return CaldavCalendarWriter(config, calendars[0] if calendars else None, zone)


WRITERS: dict[str, WriterFactory] = {"caldav": _caldav_writer}


def register_writer(provider: str, factory: WriterFactory) -> None:
    """Make accounts of `provider` writable with writers made by `factory`."""
    WRITERS[provider] = factory


def open_writer(account: Account, services: ReaderServices) -> CalendarWriter:
    """Return a writer for the account's calendar; raise KeyError if none exists."""
    return WRITERS[account.provider](account, services)


def write_problem(account: Account) -> str:
    """Return why follow-ups cannot go on this account's calendar, or ''."""
    if account.provider not in WRITERS:
        return f"{account.provider} accounts cannot take follow-up events"
    if account.status in (AccountStatus.NEEDS_REAUTH, AccountStatus.DISABLED):
        return f"account {account.id} is {account.status.value}"
    options = account.options or {}
    scopes = set(options.get("scopes") or [])
    command = CONNECT_COMMANDS.get(account.provider, "").format(
        email=account.staff_member.email
    )
    if account.provider == "google_calendar" and not scopes & GOOGLE_WRITE_SCOPES:
        return f"account {account.id} may only read the calendar; run '{command}'"
    if account.provider == "outlook_calendar":
        # NOTE: an application-mode account is assumed to have the
        # Calendars.ReadWrite application permission; without it Graph
        # rejects the first write with 403 and the pass reports a failure.
        if options.get("mode") != "application" and GRAPH_WRITE_SCOPE not in scopes:
            return f"account {account.id} may only read the calendar; run '{command}'"
    return ""
