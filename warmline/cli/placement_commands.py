"""`warmline followups place`: follow-ups as events on staff calendars."""

from __future__ import annotations

import datetime as dt

import click
from tabulate import tabulate

from warmline.cli.app import AppContext, pass_app
from warmline.cli.reminder_commands import followups_group
from warmline.placement import Outcome, PlacementError, place_follow_ups
from warmline.readers import ReaderServices


@followups_group.command("place")
@pass_app
def followups_place(app: AppContext) -> None:
    """Place open follow-ups on their assignees' calendars, in free working time.

    Running it again updates the same events: closed follow-ups lose theirs,
    handed-over ones move to the new assignee's calendar, and events that
    someone moved or deleted stay as they are.  Needs the workspace setting
    place_follow_ups and calendars connected with write access.
    """
    services = ReaderServices(app.sessions, app.secret_box)
    try:
        outcomes = place_follow_ups(
            app.sessions, app.workspace_name, services, dt.datetime.now(dt.UTC)
        )
    except PlacementError as error:
        raise click.ClickException(str(error)) from error
    click.echo(outcome_table(outcomes) if outcomes else "no open follow-ups to place")
    if any(outcome.action == "failed" for outcome in outcomes):
        raise SystemExit(1)


def outcome_table(outcomes: list[Outcome]) -> str:
    """Format a placement pass's outcomes, one row per follow-up and calendar."""
    rows = [
        (
            "" if outcome.follow_up_id is None else outcome.follow_up_id,
            outcome.staff_email,
            outcome.source,
            outcome.action,
            f"{outcome.starts_at:%Y-%m-%d %H:%M %Z}" if outcome.starts_at else "",
            outcome.detail,
        )
        for outcome in outcomes
    ]
    headers = ("id", "staff", "source", "result", "event starts", "detail")
    return str(tabulate(rows, headers=headers))
