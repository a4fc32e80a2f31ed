"""The `warmline` command line: a thin face over the core services."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker
from tabulate import tabulate
from tqdm import tqdm

from connectors import ProgressCallback
from warmline import (
    accounts,
    demo,
    export,
    pipeline,
    relationships,
    secrets,
    sources,
    staff,
)
from warmline.csvfile import CsvInputError
from warmline.db import create_engine, migrate, session_factory
from warmline.logs import configure_logging
from warmline.models import TouchpointStatus, Workspace
from warmline.settings import (
    BY_NAME,
    ProcessSettings,
    Scope,
    SettingError,
    load_settings,
)
from warmline.workspaces import (
    get_or_create_workspace,
    set_workspace_setting,
    workspace_settings,
)


@dataclasses.dataclass
class AppContext:
    sessions: sessionmaker[Session]
    workspace_name: str
    settings: ProcessSettings

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    def secret_box(self) -> secrets.SecretBox:
        return secrets.load_secret_box(
            self.settings.secret_keys, Path(self.settings.secret_key_file)
        )

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Workspace]]:
        """Open a transaction with the workspace loaded; commit on success."""
        with self.sessions.begin() as session:
            yield session, get_or_create_workspace(session, self.workspace_name)


pass_app = click.make_pass_decorator(AppContext)

USER_ERRORS = (
    CsvInputError,
    SettingError,
    staff.StaffError,
    accounts.AccountError,
    demo.ExamplesNotFoundError,
    secrets.SecretKeyError,
)


@click.group()
@click.option(
    "--database",
    metavar="URL",
    help="SQLAlchemy database URL; overrides WARMLINE_DATABASE_URL.",
)
@click.option(
    "--workspace",
    default="default",
    show_default=True,
    help="Name of the workspace (customer practice) to work in.",
)
@click.pass_context
def main(context: click.Context, database: str | None, workspace: str) -> None:
    """Warmline: capture referral-relationship activity and keep it warm."""
    try:
        settings = load_settings()
    except SettingError as error:
        raise click.UsageError(str(error)) from error
    configure_logging(settings.log_level)
    engine = create_engine(database or settings.database_url)
    context.call_on_close(engine.dispose)
    migrate(engine)
    context.obj = AppContext(session_factory(engine), workspace, settings)


def user_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the core's input errors into a one-line message and exit code 2."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except USER_ERRORS as error:
            raise click.ClickException(str(error)) from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


@main.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database and the workspace."""
    with app.transaction() as (_session, workspace):
        click.echo(f"database ready; workspace {workspace.name!r}")


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
@pass_app
@user_errors
def staff_add(
    app: AppContext, email: str, name: str, aliases: tuple[str, ...], timezone: str
) -> None:
    """Create or update the staff member with address EMAIL."""
    with app.transaction() as (session, workspace):
        member = staff.upsert_staff(
            session, workspace, staff.StaffInput(email, name, aliases, timezone)
        )
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
    click.echo(_sources_table(rows))


# --- accounts -----------------------------------------------------------------


@main.group("accounts")
def accounts_group() -> None:
    """Register and list the accounts Warmline reads."""


@accounts_group.command("add")
@click.argument("provider", type=click.Choice(["mbox", "eml", "ics"]))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--staff", "staff_email", required=True, help="Owner's address.")
@click.option("--timezone", help="Zone for floating .ics times; default: the owner's.")
@pass_app
@user_errors
def accounts_add(
    app: AppContext, provider: str, path: Path, staff_email: str, timezone: str | None
) -> None:
    """Register an exported mbox file, .eml folder or .ics file for a staff member."""
    with app.transaction() as (session, workspace):
        member = staff.find_staff(session, workspace, staff_email)
        if timezone:
            staff.check_timezone(timezone)
        account, created = accounts.add_file_account(
            session, workspace, member, provider, path, timezone
        )
    verb = "added" if created else "already registered as"
    click.echo(f"{verb} account {account.id}: {provider} {account.location}")


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


# --- sync ---------------------------------------------------------------------


@main.command()
@click.option(
    "--account", "account_ids", type=int, multiple=True, help="Only this account."
)
@pass_app
def sync(app: AppContext, account_ids: tuple[int, ...]) -> None:
    """Read every registered account (or the ones named) and match what is new."""
    with app.transaction() as (session, workspace):
        known = {account.id for account in accounts.list_accounts(session, workspace)}
    missing = [str(account_id) for account_id in account_ids if account_id not in known]
    if missing:
        raise click.ClickException(
            f"no account with id {', '.join(missing)}; see 'warmline accounts list'"
        )
    reports = pipeline.sync_accounts(
        app.sessions, account_ids or sorted(known), app.batch_size, _progress_bar
    )
    _print_reports(app, reports)
    if any(report.error for report in reports):
        sys.exit(1)


def _progress_bar(account_id: int) -> ProgressCallback | None:
    if not sys.stderr.isatty():
        return None
    # Units differ by reader (bytes of an mbox, files, events), so none is shown.
    bar = tqdm(desc=f"account {account_id}", unit="", unit_scale=True, leave=False)

    def update(done: int, total: int | None) -> None:
        if total is not None:
            bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            bar.close()

    return update


def _print_reports(app: AppContext, reports: list[pipeline.SyncReport]) -> None:
    rows = []
    for report in reports:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(report.dropped.items()))
        rows.append(
            (
                report.account_id,
                report.fetched,
                report.stored,
                report.touchpoints,
                report.needs_review,
                dropped or "-",
                report.quarantined,
                report.removed,
                f"{report.seconds:.1f}",
                report.error or "ok",
            )
        )
    headers = (
        "account",
        "read",
        "new",
        "touchpoints",
        "review",
        "dropped",
        "quarantined",
        "removed",
        "seconds",
        "result",
    )
    click.echo(tabulate(rows, headers=headers))
    _print_quarantine(app, [report.account_id for report in reports])


def _print_quarantine(app: AppContext, account_ids: list[int]) -> None:
    with app.transaction() as (session, _workspace):
        items = accounts.quarantined_items(session, account_ids)
    if not items:
        return
    click.echo(f"\n{len(items)} item(s) quarantined (kept out; fix or ignore them):")
    for item in items:
        click.echo(f"  account {item.account_id} {item.provider_key}: {item.reason}")


# --- touchpoints and cold -----------------------------------------------------

STATUS_CHOICES = [status.value for status in TouchpointStatus]


@main.group("touchpoints")
def touchpoints_group() -> None:
    """Export the matched activity."""


@touchpoints_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="File to write; default: standard output.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_CHOICES),
    help="Only these statuses; default: confirmed and needs_review.",
)
@pass_app
def touchpoints_export(
    app: AppContext, fmt: str, output: Path | None, statuses: tuple[str, ...]
) -> None:
    """Write one row per activity and matched practice."""
    chosen = [TouchpointStatus(s) for s in statuses] or [
        TouchpointStatus.CONFIRMED,
        TouchpointStatus.NEEDS_REVIEW,
    ]
    writer = export.write_csv if fmt == "csv" else export.write_json
    with app.transaction() as (session, workspace):
        rows = export.touchpoint_rows(session, workspace, chosen)
        if output is None:
            count = writer(rows, sys.stdout)
        else:
            # utf-8-sig: Excel reads a BOM-less CSV file as the ANSI code page.
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            with output.open("w", encoding=encoding, newline="") as handle:
                count = writer(rows, handle)
    if output is not None:
        click.echo(f"{count} touchpoint(s) written to {output}")


@main.command()
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Judge as of this date (default: now).",
)
@pass_app
def cold(app: AppContext, as_of: dt.datetime | None) -> None:
    """List the relationships past their cadence, most overdue first."""
    moment = as_of.replace(tzinfo=dt.UTC) if as_of else dt.datetime.now(dt.UTC)
    with app.transaction() as (session, workspace):
        found = relationships.cold_relationships(session, workspace, moment)
    click.echo(_cold_table(found))


def _cold_table(found: list[Any]) -> str:
    rows = []
    for cold_item in found:
        relationship = cold_item.relationship
        last = (
            relationship.last_touch.date().isoformat()
            if relationship.last_touch
            else "never"
        )
        rows.append(
            (
                relationship.name,
                relationship.kind,
                relationship.practice or "",
                relationship.owner or "",
                last,
                "" if cold_item.days_since is None else cold_item.days_since,
                relationship.cadence_days,
            )
        )
    headers = (
        "source",
        "type",
        "practice",
        "owner",
        "last touch",
        "days since",
        "cadence",
    )
    return tabulate(rows, headers=headers)


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


# --- demo ---------------------------------------------------------------------

DEMO_EXPORT = Path("warmline-touchpoints.csv")


@main.command("demo")
@click.option(
    "--examples",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("examples"),
    show_default=True,
    help="Folder with the example clinic's files.",
)
@click.option("--limit", default=25, show_default=True, help="Touchpoints to print.")
@pass_app
@user_errors
def demo_command(app: AppContext, examples: Path, limit: int) -> None:
    """Run the main job on the example clinic and print what it found."""
    result = demo.run_demo(
        app.sessions, app.workspace_name, examples, app.batch_size, _progress_bar
    )
    summary = result.sources
    click.echo(
        f"== Referral sources: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged; {result.staff_count} staff members\n"
    )
    with app.transaction() as (session, workspace):
        click.echo(_sources_table(sources.list_sources(session, workspace)))
    click.echo("\n== Sync\n")
    _print_reports(app, result.reports)
    with app.transaction() as (session, workspace):
        rows = list(export.touchpoint_rows(session, workspace))
        with DEMO_EXPORT.open("w", encoding="utf-8-sig", newline="") as handle:
            export.write_csv(iter(rows), handle)
        found = relationships.cold_relationships(session, workspace, _now())
    click.echo(f"\n== Touchpoints: {len(rows)}, newest {min(limit, len(rows))} shown\n")
    click.echo(_touchpoint_table(rows[-limit:] if limit else []))
    click.echo(f"\nAll touchpoints written to {DEMO_EXPORT}")
    click.echo(f"\n== Going cold: {len(found)}\n")
    click.echo(_cold_table(found))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sources_table(rows: list[tuple[Any, ...]]) -> str:
    return tabulate(rows, headers=("id", "type", "name", "practice", "title", "owner"))


def _touchpoint_table(rows: list[dict[str, Any]]) -> str:
    shown = [
        (
            row["occurred_at"][:16].replace("T", " "),
            row["kind"],
            row["direction"],
            _shorten(row["subject"], 40),
            row["practice"],
            row["person"],
            row["confidence"],
            row["status"],
        )
        for row in rows
    ]
    headers = ("when", "kind", "direction", "subject", "practice", "person",
               "confidence", "status")  # fmt: skip
    return tabulate(shown, headers=headers)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    main()
