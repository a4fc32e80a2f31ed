"""Commands for referral sources and accounts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session
from tabulate import tabulate

from connectors import ConnectorError
from warmline import (
    accounts,
    audit,
    sources,
    staff,
)
from warmline.cli.app import AppContext, main, pass_app, user_errors
from warmline.models import Account, Workspace
from warmline.providers import google, imap_oauth, microsoft
from warmline.secrets import DatabaseCredentialStore

# --- sources ------------------------------------------------------------------


@main.group("sources")
def sources_group() -> None:
    """Import and list referral sources."""


@sources_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@pass_app
@user_errors
def sources_import(app: AppContext, path: Path) -> None:
    """Create or update referral sources from a CSV file (see the README)."""
    with app.transaction() as (session, workspace):
        summary = sources.import_sources(session, workspace, path)
        audit.record(
            session, audit.cli_actor(), audit.SOURCES_IMPORT, "sources",
            dataclasses.asdict(summary), workspace=workspace,
        )  # fmt: skip
    click.echo(
        f"{path}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


@sources_group.command("list")
@pass_app
def sources_list(app: AppContext) -> None:
    """Print the referral sources, each person under their practice."""
    with app.transaction() as (session, workspace):
        rows = sources.list_sources(session, workspace)
    click.echo(sources_table(rows))


# --- accounts -----------------------------------------------------------------


@main.group("accounts")
def accounts_group() -> None:
    """Register and list the accounts Warmline reads."""


@accounts_group.group("connect")
def accounts_connect() -> None:
    """Connect a staff member's mailbox and calendar through the provider's sign-in."""


@accounts_group.group("add")
def accounts_add() -> None:
    """Register an account: an exported file or folder, or a server."""


FILE_KINDS = {
    "mbox": "Register an mbox file for a staff member (e.g. a Google Takeout export).",
    "eml": "Register a folder of .eml files (Outlook, Apple Mail) for a staff member.",
    "ics": "Register an .ics calendar (Google Calendar, Outlook) for a staff member.",
}


def _file_account_command(provider: str, help_text: str) -> click.Command:
    @click.command(provider, help=help_text)
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--staff", "staff_email", required=True, help="Owner's address.")
    @click.option(
        "--timezone", help="Zone for floating .ics times; default: the owner's."
    )
    @pass_app
    @user_errors
    def add(
        app: AppContext, path: Path, staff_email: str, timezone: str | None
    ) -> None:
        with app.transaction() as (session, workspace):
            member = staff.find_staff(session, workspace, staff_email)
            if timezone:
                staff.check_timezone(timezone)
            account, created = accounts.add_file_account(
                session, workspace, member, provider, path, timezone
            )
            _audit_account_add(session, workspace, account, created)
        verb = "added" if created else "already registered as"
        click.echo(f"{verb} account {account.id}: {provider} {account.location}")

    return add


for _provider, _help_text in FILE_KINDS.items():
    accounts_add.add_command(_file_account_command(_provider, _help_text))


@accounts_add.command("imap")
@click.option("--host", required=True, help="IMAP server name, e.g. imap.example.com.")
@click.option("--user", "username", required=True, help="Login name on the server.")
@click.option("--staff", "staff_email", required=True, help="Owner's address.")
@click.option("--port", type=int, help="Port; default 993 for tls, 143 for starttls.")
@click.option(
    "--security",
    type=click.Choice(["tls", "starttls"]),
    default="tls",
    show_default=True,
    help="Implicit TLS, or STARTTLS on the plain port.",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    help="Folder to read (repeat); default: the inbox and sent folders.",
)
@click.option("--ca-file", help="PEM file of a private CA that signed the server.")
@click.option(
    "--insecure-skip-verify",
    is_flag=True,
    help="Do not check the server certificate (test servers only).",
)
@click.option(
    "--password",
    envvar="WARMLINE_IMAP_PASSWORD",
    help="Password; prompted for when not in WARMLINE_IMAP_PASSWORD.",
)
@click.option(
    "--oauth",
    type=click.Choice(accounts.IMAP_OAUTH_PROVIDERS),
    help="Sign in with a Google (Gmail) or Microsoft (Outlook) OAuth grant "
    "instead of a password; opens the provider's consent page.",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="With --oauth: print the consent address instead of opening a browser.",
)
@click.option(
    "--browser",
    help="With --oauth google: the browser to open, by its name in Python's "
    "webbrowser module.",
)
@pass_app
@user_errors
def accounts_add_imap(
    app: AppContext,
    host: str,
    username: str,
    staff_email: str,
    port: int | None,
    security: str,
    folders: tuple[str, ...],
    ca_file: str | None,
    insecure_skip_verify: bool,
    password: str | None,
    oauth: str | None,
    no_browser: bool,
    browser: str | None,
) -> None:
    """Register an IMAP mailbox for a staff member; its credential is kept encrypted."""
    if oauth is not None and password is not None:
        raise click.UsageError(
            "give --oauth or a password, not both; unset WARMLINE_IMAP_PASSWORD "
            "to sign in with OAuth"
        )
    data = accounts.ImapAccountInput(
        host=host,
        username=username,
        port=port,
        security=security,
        folders=folders,
        ca_file=ca_file,
        verify_certificates=not insecure_skip_verify,
        oauth=oauth,
    )
    box = app.secret_box()
    with app.transaction() as (session, workspace):
        staff.find_staff(session, workspace, staff_email)
    grant = None
    if oauth is not None:
        grant = _imap_grant(app, oauth, username, no_browser, browser)
    elif password is None:
        password = click.prompt("Password", hide_input=True)
    with app.transaction() as (session, workspace):
        member = staff.find_staff(session, workspace, staff_email)
        account, created = accounts.add_imap_account(session, workspace, member, data)
        _audit_account_add(session, workspace, account, created)
    if grant is not None:
        imap_oauth.store_grant(app.sessions, account.id, box, grant)
    else:
        assert password is not None
        DatabaseCredentialStore(app.sessions, account.id, box).save(password)
    verb = "added" if created else "updated"
    click.echo(f"{verb} account {account.id}: imap {account.location}")


def _imap_grant(
    app: AppContext, provider: str, username: str, no_browser: bool, browser: str | None
) -> imap_oauth.ImapGrant:
    """Run the provider's consent for the IMAP scope and return the grant."""
    try:
        if provider == "google":
            return imap_oauth.authorize_google(
                google.GoogleProviderSettings.from_settings(app.settings),
                username,
                open_browser=not no_browser,
                browser=browser,
            )

        def show_url(url: str) -> None:
            click.echo("Sign in at this address to connect the account:")
            click.echo(url)
            if not no_browser:
                microsoft.open_browser(url)

        return imap_oauth.authorize_microsoft(
            microsoft.MicrosoftSettings.from_environ(), username, show_url
        )
    except ConnectorError as error:
        raise click.ClickException(str(error)) from error


@accounts_group.command("list")
@pass_app
def accounts_list(app: AppContext) -> None:
    """Print each account with its status and last sync."""
    with app.transaction() as (session, workspace):
        rows = [
            (
                account.id,
                account.provider,
                account.staff_member.email,
                account.status.value,
                _when(account.last_sync_at),
                account.last_error or "",
                account.location,
            )
            for account in accounts.list_accounts(session, workspace)
        ]
    headers = (
        "id",
        "provider",
        "staff",
        "status",
        "last sync",
        "last error",
        "location",
    )
    click.echo(tabulate(rows, headers=headers))


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def sources_table(rows: list[tuple[Any, ...]]) -> str:
    return str(
        tabulate(rows, headers=("id", "type", "name", "practice", "title", "owner"))
    )


@accounts_add.command("caldav")
@click.option("--url", required=True, help="CalDAV server or principal URL.")
@click.option("--user", "username", required=True, help="Login name on the server.")
@click.option("--staff", "staff_email", required=True, help="Owner's address.")
@click.option(
    "--calendar",
    "calendars",
    multiple=True,
    help="Calendar path to read (repeat); default: every calendar found.",
)
@click.option("--ca-bundle", help="PEM file of a private CA that signed the server.")
@click.option(
    "--insecure-skip-verify",
    is_flag=True,
    help="Do not check the server certificate (test servers only).",
)
@click.password_option(
    "--password",
    envvar="WARMLINE_CALDAV_PASSWORD",
    confirmation_prompt=False,
    help="Password; prompted for when not in WARMLINE_CALDAV_PASSWORD.",
)
@pass_app
@user_errors
def accounts_add_caldav(
    app: AppContext,
    url: str,
    username: str,
    staff_email: str,
    calendars: tuple[str, ...],
    ca_bundle: str | None,
    insecure_skip_verify: bool,
    password: str,
) -> None:
    """Register a CalDAV account for a staff member; the password is kept encrypted."""
    data = accounts.CaldavAccountInput(
        url=url,
        username=username,
        calendars=calendars,
        ca_bundle=ca_bundle,
        verify_tls=not insecure_skip_verify,
    )
    box = app.secret_box()
    with app.transaction() as (session, workspace):
        member = staff.find_staff(session, workspace, staff_email)
        account, created = accounts.add_caldav_account(session, workspace, member, data)
        _audit_account_add(session, workspace, account, created)
    DatabaseCredentialStore(app.sessions, account.id, box).save(password)
    verb = "added" if created else "updated"
    click.echo(f"{verb} account {account.id}: caldav {account.location}")


accounts_connect.add_command(google.connect_command, "google")
accounts_connect.add_command(microsoft.connect_command, "microsoft")


def _audit_account_add(
    session: Session, workspace: Workspace, account: Account, created: bool
) -> None:
    audit.record(
        session, audit.cli_actor(), audit.ACCOUNT_ADD, f"account:{account.id}",
        {"provider": account.provider, "created": created}, workspace=workspace,
    )  # fmt: skip
