"""Commands that sync accounts and report what was found."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate
from tqdm import tqdm

from connectors import ConnectorError, ProgressCallback
from connectors.imap import watch as imap_watch
from warmline import (
    accounts,
    audit,
    demo,
    export,
    pipeline,
    remind,
    sources,
)
from warmline.cli.app import AppContext, main, pass_app, user_errors
from warmline.cli.reminder_commands import cold_table
from warmline.cli.sources_commands import sources_table
from warmline.models import Account, AccountStatus, TouchpointStatus
from warmline.readers import ReaderServices, imap_config

# --- sync ---------------------------------------------------------------------


@main.command()
@click.option(
    "--account", "account_ids", type=int, multiple=True, help="Only this account."
)
@pass_app
def sync(app: AppContext, account_ids: tuple[int, ...]) -> None:
    """Read every registered account (or the ones named) and match what is new."""
    with app.transaction() as (session, workspace):
        listed = accounts.list_accounts(session, workspace)
        known = {account.id for account in listed}
        enabled = sorted(
            account.id
            for account in listed
            if account.status is not AccountStatus.DISABLED
        )
    missing = [str(account_id) for account_id in account_ids if account_id not in known]
    if missing:
        raise click.ClickException(
            f"no account with id {', '.join(missing)}; see 'warmline accounts list'"
        )
    reports = pipeline.sync_accounts(
        app.sessions,
        account_ids or enabled,
        app.batch_size,
        _progress_bar,
        app.secret_box,
    )
    _print_reports(app, reports)
    if any(report.error for report in reports):
        sys.exit(1)


@main.command()
@click.option("--account", "account_id", type=int, required=True, help="IMAP account.")
@click.option("--folder", default="INBOX", show_default=True, help="Folder to watch.")
@pass_app
@user_errors
def watch(app: AppContext, account_id: int, folder: str) -> None:
    """Wait for new mail with IMAP IDLE and sync the account when it arrives.

    Runs until interrupted (Ctrl-C). The account syncs each time the IDLE
    connection opens, which reads mail that arrived while no connection
    was open, and after each change the server reports.
    """
    services = ReaderServices(app.sessions, app.secret_box)
    with app.transaction() as (session, workspace):
        account = session.get(Account, account_id)
        if account is None or account.workspace_id != workspace.id:
            raise click.ClickException(f"no account with id {account_id}")
        if account.provider != "imap":
            raise click.ClickException(
                f"account {account_id} is {account.provider}; "
                "watch needs an IMAP account"
            )
        config = imap_config(account, services)

    def sync_now(_folder: str) -> None:
        report = pipeline.sync_account(
            app.sessions, account_id, app.batch_size, secret_box=app.secret_box
        )
        _print_reports(app, [report])

    stop = threading.Event()
    click.echo(f"watching {folder} of account {account_id}; Ctrl-C stops")
    try:
        imap_watch(config, sync_now, stop, folder=folder)
    except KeyboardInterrupt:
        stop.set()
    except ConnectorError as error:
        raise click.ClickException(str(error)) from error


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
                report.error or ("deferred" if report.deferral else "ok"),
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
    _print_deferrals(reports)
    _print_quarantine(app, [report.account_id for report in reports])


def _print_deferrals(reports: list[pipeline.SyncReport]) -> None:
    deferred = [report for report in reports if report.deferral is not None]
    if not deferred:
        return
    click.echo(f"\n{len(deferred)} sync(s) deferred (nothing read; cursors kept):")
    for report in deferred:
        assert report.deferral is not None
        until = report.deferral.until.astimezone(dt.UTC)
        click.echo(
            f"  account {report.account_id} until {until:%Y-%m-%d %H:%M} UTC: "
            f"{report.deferral.reason}"
        )


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
        audit.record(
            session, audit.cli_actor(), audit.TOUCHPOINTS_EXPORT,
            f"workspace:{workspace.id}", {"format": fmt, "rows": count},
            workspace=workspace,
        )  # fmt: skip
    if output is not None:
        click.echo(f"{count} touchpoint(s) written to {output}")


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
        f"{summary.unchanged} unchanged; {result.staff_count} staff members"
    )
    referrals = result.referrals
    click.echo(
        f"== Referrals: {referrals.created} created, {referrals.updated} updated, "
        f"{referrals.unchanged} unchanged\n"
    )
    with app.transaction() as (session, workspace):
        click.echo(sources_table(sources.list_sources(session, workspace)))
    click.echo("\n== Sync\n")
    _print_reports(app, result.reports)
    with app.transaction() as (session, workspace):
        rows = list(export.touchpoint_rows(session, workspace))
        with DEMO_EXPORT.open("w", encoding="utf-8-sig", newline="") as handle:
            export.write_csv(iter(rows), handle)
        found = remind.cold_sources(session, workspace, _now())
        emails = remind.staff_emails(session, workspace)
    click.echo(f"\n== Touchpoints: {len(rows)}, newest {min(limit, len(rows))} shown\n")
    click.echo(_touchpoint_table(rows[-limit:] if limit else []))
    click.echo(f"\nAll touchpoints written to {DEMO_EXPORT}")
    click.echo(f"\n== Going cold: {len(found)}\n")
    click.echo(cold_table(found, emails))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    return str(tabulate(shown, headers=headers))


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
