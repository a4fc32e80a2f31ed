"""Commands that forget data and show who did what: removal, retention, audit."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from tabulate import tabulate

from warmline import audit, privacy, push_subscriptions
from warmline.cli.app import AppContext, main, pass_app
from warmline.cli.sources_commands import accounts_group, sources_group


def _aware_date(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None else None


# --- accounts remove ------------------------------------------------------------------


@accounts_group.command("remove")
@click.argument("account_id", type=int)
@click.option(
    "--purge",
    is_flag=True,
    help="Delete the account, its cursor and credential, and the activities "
    "that no other account saw, with their touchpoints.",
)
@click.option("--yes", is_flag=True, help="Purge without asking for confirmation.")
@pass_app
def accounts_remove(app: AppContext, account_id: int, purge: bool, yes: bool) -> None:
    """Disable account ACCOUNT_ID, or delete it and its data with --purge.

    Without --purge the account stays, with its data, and is no longer read.
    """
    if purge and not yes:
        click.confirm(
            f"Purge account {account_id} and the activities only it saw?", abort=True
        )
    push_subscriptions.stop_account_push(
        app.sessions, app.settings, app.secret_box, app.workspace_name, account_id
    )
    try:
        with app.transaction() as (session, workspace):
            removal = privacy.remove_account(
                session, workspace, account_id, purge=purge, actor=audit.cli_actor()
            )
    except privacy.PrivacyError as error:
        raise click.ClickException(str(error)) from error
    if not purge:
        click.echo(f"account {account_id} disabled; its data is kept")
        return
    click.echo(
        f"account {account_id} purged: {removal.sightings} sighting(s), "
        f"{removal.activities} activit(ies) seen by no other account, "
        f"{removal.quarantined} quarantined item(s) deleted"
    )
    _report_revocation(app, removal)


def _report_revocation(app: AppContext, removal: privacy.AccountRemoval) -> None:
    """Revoke the purged account's grant, then print and audit the outcome."""
    revocation = privacy.revoke_credential(removal, app.secret_box)
    with app.transaction() as (session, workspace):
        privacy.record_revocation(
            session, workspace, removal, revocation, actor=audit.cli_actor()
        )
    outcome = privacy.RevocationOutcome
    if revocation.outcome is outcome.REVOKED:
        click.echo(f"provider grant revoked: {revocation.detail}")
    elif revocation.outcome is outcome.NOT_SUPPORTED:
        click.echo(f"provider grant not revoked: {revocation.detail}", err=True)
    elif revocation.outcome is outcome.FAILED:
        click.echo(
            "warning: the purge is complete, but revoking the provider grant "
            f"failed: {revocation.detail}",
            err=True,
        )


# --- sources remove -------------------------------------------------------------------


@sources_group.command("remove")
@click.argument("source_id", type=int)
@click.option(
    "--touchpoints",
    "handling",
    type=click.Choice([choice.value for choice in privacy.TouchpointHandling]),
    required=True,
    help="delete: delete the source's touchpoints; unlink: keep a provider's or "
    "contact's touchpoints with no person.  A practice's touchpoints are "
    "always deleted.",
)
@pass_app
def sources_remove(app: AppContext, source_id: int, handling: str) -> None:
    """Delete referral source SOURCE_ID and its touchpoints.

    Removing a practice also removes its providers and contacts.  Referrals,
    follow-ups and monthly counts of a removed source are deleted with it.
    """
    try:
        with app.transaction() as (session, workspace):
            removal = privacy.remove_source(
                session,
                workspace,
                source_id,
                touchpoints=privacy.TouchpointHandling(handling),
                actor=audit.cli_actor(),
            )
    except privacy.PrivacyError as error:
        raise click.ClickException(str(error)) from error
    related = ", ".join(f"{table} {count}" for table, count in removal.related.items())
    click.echo(
        f"{removal.sources} source(s) removed; touchpoints: "
        f"{removal.touchpoints_deleted} deleted, {removal.touchpoints_unlinked} "
        f"unlinked" + (f"; also removed: {related}" if related else "")
    )


# --- retention ------------------------------------------------------------------------


@main.group("retention")
def retention_group() -> None:
    """Delete activity older than the workspace's retention period."""


@retention_group.command("apply")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Count the retention period back from this date (UTC); default: now.",
)
@pass_app
def retention_apply(app: AppContext, as_of: dt.datetime | None) -> None:
    """Delete activities and touchpoints older than retention_months.

    Confirmed touchpoints are kept as monthly counts per source, so history
    and last touch dates remain.  Running it twice changes nothing more.
    """
    moment = _aware_date(as_of) or dt.datetime.now(dt.UTC)
    with app.transaction() as (session, workspace):
        report = privacy.apply_retention(
            session, workspace, moment, actor=audit.cli_actor()
        )
    if report.cutoff is None:
        click.echo(
            "retention_months is not set, so everything is kept; set it with "
            "'warmline config set retention_months N'"
        )
        return
    click.echo(
        f"kept {report.months} month(s), deleted activity before "
        f"{report.cutoff:%Y-%m-%d}: {report.activities} activit(ies), "
        f"{report.touchpoints_counted} confirmed touchpoint(s) kept as monthly "
        f"counts, {report.quarantined} quarantined item(s)"
    )


# --- audit ----------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """Show the audit log: who changed, exported or deleted what, and when."""


@audit_group.command("list")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Only records from this date (UTC) on.",
)
@pass_app
def audit_list(app: AppContext, since: dt.datetime | None) -> None:
    """Print the audit records, oldest first."""
    with app.transaction() as (session, workspace):
        rows = [
            audit.record_row(entry)
            for entry in audit.list_records(session, workspace, _aware_date(since))
        ]
    click.echo(
        tabulate(
            [[row[column] for column in audit.CSV_COLUMNS] for row in rows],
            headers=audit.CSV_COLUMNS,
        )
    )


@audit_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Only records from this date (UTC) on.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="File to write; default: standard output.",
)
@pass_app
def audit_export(
    app: AppContext, fmt: str, since: dt.datetime | None, output: Path | None
) -> None:
    """Write the audit records as CSV; the export is itself audited."""
    with app.transaction() as (session, workspace):
        records = audit.list_records(session, workspace, _aware_date(since))
        if output is None:
            count = audit.write_csv(records, sys.stdout)
        else:
            with output.open("w", encoding="utf-8-sig", newline="") as handle:
                count = audit.write_csv(records, handle)
        audit.record(
            session,
            audit.cli_actor(),
            audit.AUDIT_EXPORT,
            f"workspace:{workspace.id}",
            {"format": fmt, "rows": count},
            workspace=workspace,
        )
    if output is not None:
        click.echo(f"{count} audit record(s) written to {output}")
