"""Commands for referral sources and accounts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from warmline import (
    accounts,
    sources,
    staff,
)
from warmline.cli.app import AppContext, main, pass_app, user_errors

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
        verb = "added" if created else "already registered as"
        click.echo(f"{verb} account {account.id}: {provider} {account.location}")

    return add


for _provider, _help_text in FILE_KINDS.items():
    accounts_add.add_command(_file_account_command(_provider, _help_text))


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
