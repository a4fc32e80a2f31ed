"""Commands that set a workspace up: config, staff and secrets."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from warmline import (
    audit,
    secrets,
    staff,
)
from warmline.cli.app import AppContext, main, pass_app, user_errors
from warmline.settings import (
    BY_NAME,
    Scope,
)
from warmline.workspaces import (
    set_workspace_setting,
    workspace_settings,
)

# --- config -------------------------------------------------------------------


@main.group()
def config() -> None:
    """Show or change the workspace's settings."""


@config.command("show")
@pass_app
def config_show(app: AppContext) -> None:
    """Print every workspace setting with its value and meaning."""
    with app.transaction() as (session, workspace):
        values = workspace_settings(session, workspace)
    rows = []
    for setting in BY_NAME.values():
        if setting.scope is Scope.WORKSPACE:
            value = values[setting.name]
            shown = ";".join(value) if isinstance(value, list) else value
            rows.append((setting.name, shown, setting.unit, setting.help))
    click.echo(tabulate(rows, headers=("setting", "value", "unit", "meaning")))


@config.command("set")
@click.argument("name")
@click.argument("value")
@pass_app
@user_errors
def config_set(app: AppContext, name: str, value: str) -> None:
    """Set workspace setting NAME to VALUE (lists are separated by ';')."""
    with app.transaction() as (session, workspace):
        stored = set_workspace_setting(session, workspace, name, value)
        audit.record(
            session, audit.cli_actor(), audit.SETTING_CHANGE, f"setting:{name}",
            audit.setting_details(name, stored), workspace=workspace,
        )  # fmt: skip
    click.echo(f"{name} = {stored}")


# --- staff --------------------------------------------------------------------


@main.group("staff")
def staff_group() -> None:
    """Add and list staff members."""


@staff_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name of the staff member.")
@click.option("--alias", "aliases", multiple=True, help="Another address of theirs.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.option(
    "--working-hours",
    help="Their own hours for follow-up events, e.g. 'mon-fri 08:00-17:00'; "
    "'' goes back to the workspace's working_hours.",
)
@pass_app
@user_errors
def staff_add(
    app: AppContext,
    email: str,
    name: str,
    aliases: tuple[str, ...],
    timezone: str,
    working_hours: str | None,
) -> None:
    """Create or update the staff member with address EMAIL."""
    data = staff.StaffInput(email, name, aliases, timezone, working_hours)
    with app.transaction() as (session, workspace):
        member = staff.upsert_staff(session, workspace, data)
        addresses = sorted(row.address for row in member.addresses)
    click.echo(f"staff member {name} <{email}>: {len(addresses)} address(es)")


@staff_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@pass_app
@user_errors
def staff_import(app: AppContext, path: Path) -> None:
    """Create or update staff from a CSV file (email, name, aliases, timezone)."""
    with app.transaction() as (session, workspace):
        count = staff.import_staff(session, workspace, path)
        audit.record(
            session, audit.cli_actor(), audit.STAFF_IMPORT, "staff",
            {"count": count}, workspace=workspace,
        )  # fmt: skip
    click.echo(f"{count} staff member(s) imported from {path}")


@staff_group.command("list")
@pass_app
def staff_list(app: AppContext) -> None:
    """Print the staff members and their addresses."""
    with app.transaction() as (session, workspace):
        rows = [
            (
                member.email,
                member.name,
                member.timezone,
                ", ".join(sorted(a.address for a in member.addresses)),
            )
            for member in staff.list_staff(session, workspace)
        ]
    click.echo(tabulate(rows, headers=("email", "name", "timezone", "addresses")))


# --- secrets ------------------------------------------------------------------


@main.group("secrets")
def secrets_group() -> None:
    """Manage the keys that encrypt stored credentials."""


@secrets_group.command("new-key")
def secrets_new_key() -> None:
    """Print a new Fernet key to put first in WARMLINE_SECRET_KEYS."""
    click.echo(secrets.Fernet.generate_key().decode())


@secrets_group.command("rotate")
@pass_app
@user_errors
def secrets_rotate(app: AppContext) -> None:
    """Re-encrypt every stored credential with the first key."""
    box = app.secret_box()
    with app.sessions.begin() as session:
        count = secrets.rotate_secrets(session, box)
    click.echo(f"{count} credential(s) re-encrypted with the newest key")
