"""Commands for referrals, follow-ups, the reminder pass and the daily digest."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from reminders import SmtpConfig, SourceHealth, cadence_label, health_flags
from warmline import audit, staff
from warmline import remind as service
from warmline.cli.app import AppContext, main, pass_app
from warmline.cli.setup_commands import secrets_group, staff_group
from warmline.csvfile import CsvInputError
from warmline.readers import ReaderServices
from warmline.remind import draft_rewrite, feed, handover
from warmline.remind.drafts import Draft
from warmline.remind.snooze_links import load_link_key
from warmline.secrets import SecretKeyError
from warmline.settings import SettingError
from warmline.workspaces import workspace_settings

SMTP_PASSWORD_ENV = "WARMLINE_SMTP_PASSWORD"
DRAFT_API_KEY_ENV = "WARMLINE_DRAFT_API_KEY"
AS_OF_HELP = "Judge as of the start of this day, UTC (default: now)."


def _user_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input and state errors into a one-line message and exit code 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (
            CsvInputError,
            service.ReminderError,
            SecretKeyError,
            SettingError,
            staff.StaffError,
        ) as error:
            raise click.ClickException(str(error)) from error

    return wrapper


def _moment(as_of: dt.datetime | None) -> dt.datetime:
    return as_of.replace(tzinfo=dt.UTC) if as_of else dt.datetime.now(dt.UTC)


def _as_of_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help=AS_OF_HELP)(
        function
    )


# --- referrals ----------------------------------------------------------------


@main.group("referrals")
def referrals_group() -> None:
    """Import referrals and follow the loops that wait for a report back."""


@referrals_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@pass_app
@_user_errors
def referrals_import(app: AppContext, path: Path) -> None:
    """Create or update referrals from a CSV file without patient details.

    Columns: date, and the referring source as practice, provider, npi or
    address; optional count and referral_id.
    """
    today = dt.datetime.now(dt.UTC).date()
    with app.transaction() as (session, workspace):
        summary = service.import_referrals(session, workspace, path, today)
    click.echo(
        f"{path}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


@referrals_group.command("loops")
@_as_of_option
@pass_app
def referrals_loops(app: AppContext, as_of: dt.datetime | None) -> None:
    """List the referrals whose outcome was not yet sent back, earliest due first."""
    moment = _moment(as_of)
    with app.transaction() as (session, workspace):
        found = service.loop_rows(session, workspace, moment)
    click.echo(_loops_table(found, moment.date()))


def _loops_table(found: list[Any], today: dt.date) -> str:
    rows = [
        (
            loop.referral.referral_id,
            profile.name,
            profile.practice or "",
            loop.referral.received_on.isoformat(),
            loop.referral.count,
            loop.due_on.isoformat(),
            "overdue" if loop.overdue(today) else "",
        )
        for loop, profile in found
    ]
    headers = ("referral", "source", "practice", "received", "count", "report due", "")
    return str(tabulate(rows, headers=headers))


@referrals_group.command("close")
@click.argument("referral_id", type=int)
@pass_app
@_user_errors
def referrals_close(app: AppContext, referral_id: int) -> None:
    """Record that the outcome of referral REFERRAL_ID was sent back."""
    with app.transaction() as (session, workspace):
        service.close_referral(session, workspace, referral_id, dt.datetime.now(dt.UTC))
    click.echo(f"referral {referral_id} closed")


# --- the reminder pass ----------------------------------------------------------


@main.command("remind")
@_as_of_option
@pass_app
def remind(app: AppContext, as_of: dt.datetime | None) -> None:
    """Close resolved loops and follow-ups, create those due, rank cold sources.

    Running it again with the same data creates and closes nothing.
    """
    moment = _moment(as_of)
    with app.transaction() as (session, workspace):
        report = service.run_reminders(session, workspace, moment)
    click.echo(f"Reminders as of {moment:%Y-%m-%d %H:%M} UTC\n")
    _print_changes(report)
    _print_cold(report)
    _print_drift(report)
    _print_clashes(report)
    loops = report.state.loops
    overdue = sum(1 for loop in loops if loop.overdue(moment.date()))
    click.echo(f"\n== Open loops: {len(loops)}, {overdue} overdue")
    click.echo("   (list them with 'warmline referrals loops')")


def _print_changes(report: service.RemindReport) -> None:
    click.echo(f"== Referrals closed by a touchpoint: {len(report.referrals_closed)}")
    for referral_id, source, closed_at in report.referrals_closed:
        click.echo(
            f"  referral {referral_id} from {source}, closed {closed_at:%Y-%m-%d}"
        )
    click.echo(f"\n== Follow-ups closed: {len(report.closed)}")
    if report.closed:
        click.echo(follow_up_table(report.closed))
    click.echo(f"\n== Follow-ups created: {len(report.created)}")
    if report.created:
        click.echo(follow_up_table(report.created))
    if report.unassigned:
        click.echo(
            f"\n== No follow-up for lack of an owner: {len(report.unassigned)} "
            "(set an owner in the sources file)"
        )
        for name, reason in report.unassigned:
            click.echo(f"  {name}: {reason.value}")


def _print_cold(report: service.RemindReport) -> None:
    click.echo(f"\n== Going cold: {len(report.cold)}, most urgent first\n")
    click.echo(cold_table(report.cold, report.staff_emails))


@main.command("cold")
@_as_of_option
@pass_app
def cold(app: AppContext, as_of: dt.datetime | None) -> None:
    """List the sources going cold, most urgent first.

    Ranked by how far past their cadence they are, weighted by referral
    volume, with the telling cases noted; `warmline remind` prints the same.
    """
    moment = _moment(as_of)
    with app.transaction() as (session, workspace):
        found = service.cold_sources(session, workspace, moment)
        emails = service.staff_emails(session, workspace)
    click.echo(cold_table(found, emails))


def cold_table(cold: list[SourceHealth], staff_emails: Mapping[int, str]) -> str:
    """Format ranked cold sources as a table, one numbered row each.

    The owner is the source's own, else its practice's.
    """
    rows = [
        (
            rank,
            health.profile.name,
            health.profile.kind,
            health.profile.practice or "",
            staff_emails.get(
                health.profile.owner_id or health.profile.practice_owner_id or 0, ""
            ),
            health.last_touch.date().isoformat() if health.last_touch else "never",
            "" if health.days_since is None else health.days_since,
            cadence_label(health),
            health.referrals_year,
            "; ".join(health_flags(health)),
        )
        for rank, health in enumerate(cold, start=1)
    ]
    headers = (
        "#",
        "source",
        "type",
        "practice",
        "owner",
        "last touch",
        "days since",
        "cadence",
        "referrals 12 mo",
        "note",
    )
    return str(tabulate(rows, headers=headers))


def _print_drift(report: service.RemindReport) -> None:
    drifting = report.drifting
    click.echo(f"\n== Referral drift: {len(drifting)}")
    if not drifting:
        return
    rows = [
        (
            health.profile.name,
            health.profile.practice or "",
            health.trend.recent if health.trend else "",
            f"{health.trend.expected:.1f}" if health.trend else "",
            "; ".join(health_flags(health)),
        )
        for health in drifting
    ]
    headers = ("source", "practice", "last 90 days", "expected", "note")
    click.echo(tabulate(rows, headers=headers))


def _print_clashes(report: service.RemindReport) -> None:
    click.echo(f"\n== Visits to coordinate: {len(report.clashes)}")
    if not report.clashes:
        return
    rows = [
        (
            clash.first.practice,
            clash.first.staff_name,
            f"{clash.first.starts_at:%Y-%m-%d %H:%M}",
            clash.second.staff_name,
            f"{clash.second.starts_at:%Y-%m-%d %H:%M}",
            clash.days_apart,
        )
        for clash in report.clashes
    ]
    headers = (
        "practice",
        "staff",
        "meeting (UTC)",
        "colleague",
        "meeting (UTC)",
        "days apart",
    )
    click.echo(tabulate(rows, headers=headers))


def follow_up_table(views: list[service.FollowUpView]) -> str:
    rows = [
        (
            view.follow_up_id,
            view.staff_email,
            view.source,
            view.practice or "",
            view.reason,
            view.due_on.isoformat(),
            view.status,
            view.note,
        )
        for view in views
    ]
    headers = ("id", "staff", "source", "practice", "reason", "due", "status", "why")
    return str(tabulate(rows, headers=headers))


# --- follow-ups -----------------------------------------------------------------


@main.group("followups")
def followups_group() -> None:
    """List, complete and snooze follow-ups."""


@followups_group.command("list")
@click.option("--staff", "staff_email", help="Only this staff member's follow-ups.")
@click.option("--all", "show_all", is_flag=True, help="Include done and dismissed.")
@pass_app
def followups_list(app: AppContext, staff_email: str | None, show_all: bool) -> None:
    """Print the open follow-ups, earliest due first."""
    with app.transaction() as (session, workspace):
        if staff_email is not None:
            try:
                staff.find_staff(session, workspace, staff_email)
            except staff.StaffError as error:
                raise click.ClickException(str(error)) from error
        views = service.follow_up_views(
            session, workspace, staff_email=staff_email, open_only=not show_all
        )
    click.echo(follow_up_table(views))


@followups_group.command("done")
@click.argument("follow_up_id", type=int)
@pass_app
@_user_errors
def followups_done(app: AppContext, follow_up_id: int) -> None:
    """Mark follow-up FOLLOW_UP_ID done."""
    with app.transaction() as (session, workspace):
        view = service.complete_follow_up(
            session, workspace, follow_up_id, dt.datetime.now(dt.UTC)
        )
    click.echo(f"follow-up {view.follow_up_id} ({view.reason}, {view.source}) done")


@followups_group.command("snooze")
@click.argument("follow_up_id", type=int)
@click.option(
    "--for",
    "period",
    required=True,
    type=click.Choice(["2w", "1m", "3m"]),
    help="Two weeks, one month or three months from today or the due date.",
)
@pass_app
@_user_errors
def followups_snooze(app: AppContext, follow_up_id: int, period: str) -> None:
    """Move follow-up FOLLOW_UP_ID's due date later."""
    today = dt.datetime.now(dt.UTC).date()
    with app.transaction() as (session, workspace):
        view = service.snooze_follow_up(session, workspace, follow_up_id, period, today)
    click.echo(f"follow-up {view.follow_up_id} now due {view.due_on.isoformat()}")


@followups_group.command("draft")
@click.argument("follow_up_id", type=int)
@_as_of_option
@pass_app
@_user_errors
def followups_draft(
    app: AppContext, follow_up_id: int, as_of: dt.datetime | None
) -> None:
    """Print a drafted outreach email for follow-up FOLLOW_UP_ID.

    The draft comes from templates and the relationship's history; when
    draft_llm_base_url is set, a language model rewrites it first.
    """
    moment = _moment(as_of)
    with app.transaction() as (session, workspace):
        api_key = os.environ.get(DRAFT_API_KEY_ENV) or None
        if (
            api_key is None
            and workspace_settings(session, workspace)["draft_llm_base_url"]
        ):
            api_key = draft_rewrite.stored_api_key(session, workspace, app.secret_box())
        draft, config = draft_rewrite.prepare_draft(
            session, workspace, follow_up_id, moment, api_key
        )
    if config is not None:
        draft = draft_rewrite.rewrite_draft(draft, config)
    click.echo(_draft_text(draft))


def _draft_text(draft: Draft) -> str:
    to = f"{draft.to_name} <{draft.to_address}>" if draft.to_address else draft.to_name
    origin = (
        f"rewritten by {draft.rewritten_by}"
        if draft.rewritten_by
        else draft.notice or "drafted from templates"
    )
    return f"To: {to}\nSubject: {draft.subject}\n\n{draft.body}\n({origin})"


# --- digest ---------------------------------------------------------------------


@main.command("digest")
@click.option("--staff", "staff_email", help="Only this staff member's digest.")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Digest for this date in each staff member's time zone (default: today).",
)
@click.option("--dry-run", is_flag=True, help="Print the digests instead of sending.")
@pass_app
@_user_errors
def digest(
    app: AppContext, staff_email: str | None, as_of: dt.datetime | None, dry_run: bool
) -> None:
    """Send each staff member their daily digest, at most once per day."""
    request = service.DigestRequest(
        now=dt.datetime.now(dt.UTC),
        local_date=as_of.date() if as_of else None,
        staff_email=staff_email,
        dry_run=dry_run,
        smtp=None if dry_run else _smtp_config(app),
        link_key=load_link_key(app.settings),
        services=ReaderServices(app.sessions, app.secret_box),
    )
    outcomes = service.send_digests(app.sessions, app.workspace_name, request)
    for outcome in outcomes:
        if dry_run and outcome.message is not None:
            click.echo(_printable(outcome))
        detail = f": {outcome.detail}" if outcome.detail else ""
        click.echo(
            f"{outcome.staff_email} {outcome.local_date}: {outcome.status}{detail}"
        )
    if any(outcome.status in {"failed", "uncertain"} for outcome in outcomes):
        raise SystemExit(1)


def _smtp_config(app: AppContext) -> SmtpConfig:
    with app.transaction() as (session, workspace):
        settings = workspace_settings(session, workspace)
        password = os.environ.get(SMTP_PASSWORD_ENV) or None
        if password is None and settings["smtp_user"]:
            password = service.stored_smtp_password(
                session, workspace, app.secret_box()
            )
    return service.smtp_config(settings, password)


def _printable(outcome: service.DigestOutcome) -> str:
    assert outcome.message is not None
    body = outcome.message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return (
        f"To: {outcome.message['To']}\nSubject: {outcome.message['Subject']}\n\n{text}"
    )


@secrets_group.command("set-smtp-password")
@click.password_option(
    "--password",
    envvar=SMTP_PASSWORD_ENV,
    help=f"Password; prompted for when not in {SMTP_PASSWORD_ENV}.",
)
@pass_app
@_user_errors
def secrets_set_smtp_password(app: AppContext, password: str) -> None:
    """Store the SMTP password for the digests, encrypted."""
    box = app.secret_box()
    with app.transaction() as (session, workspace):
        service.store_smtp_password(session, workspace, box, password)
    click.echo("SMTP password stored encrypted")


# --- staff: follow-up feed ------------------------------------------------------

FEED_AUDIT_ACTION = "staff.feed"


@staff_group.command("feed")
@click.argument("staff_email")
@click.option(
    "--rotate",
    is_flag=True,
    help="Make a new URL; the old one stops working at once.",
)
@pass_app
@_user_errors
def staff_feed(app: AppContext, staff_email: str, rotate: bool) -> None:
    """Print the secret calendar feed URL of STAFF_EMAIL's open follow-ups.

    Any calendar app can subscribe to it. Treat it like a password: whoever
    has it can read the follow-ups.
    """
    box = app.secret_box()
    with app.transaction() as (session, workspace):
        member = staff.find_staff(session, workspace, staff_email)
        url, made = feed.feed_url(session, workspace, member, box, rotate=rotate)
        if made:
            audit.record(
                session, audit.cli_actor(), FEED_AUDIT_ACTION,
                f"staff:{member.id}", {"rotated": rotate}, workspace=workspace,
            )  # fmt: skip
    click.echo(url)


@staff_group.command("handover")
@click.argument("from_email")
@click.argument("to_email")
@pass_app
@_user_errors
def staff_handover(app: AppContext, from_email: str, to_email: str) -> None:
    """Give FROM_EMAIL's sources and open follow-ups to TO_EMAIL.

    Follow-ups placed on FROM_EMAIL's calendar move to TO_EMAIL's calendar
    with the next placement run.
    """
    with app.transaction() as (session, workspace):
        leaver = staff.find_staff(session, workspace, from_email)
        successor = staff.find_staff(session, workspace, to_email)
        moved = handover.hand_over(
            session, workspace, leaver, successor, audit.cli_actor()
        )
    click.echo(
        f"{moved.sources} source(s) and {moved.follow_ups} open follow-up(s) "
        f"moved from {moved.from_email} to {moved.to_email}"
    )


@secrets_group.command("set-draft-api-key")
@click.password_option(
    "--api-key",
    envvar=DRAFT_API_KEY_ENV,
    help=f"API key of the rewrite model; prompted for when not in {DRAFT_API_KEY_ENV}.",
)
@pass_app
@_user_errors
def secrets_set_draft_api_key(app: AppContext, api_key: str) -> None:
    """Store the API key of the model that rewrites drafts, encrypted."""
    box = app.secret_box()
    with app.transaction() as (session, workspace):
        draft_rewrite.store_api_key(session, workspace, box, api_key)
    click.echo("draft API key stored encrypted")
