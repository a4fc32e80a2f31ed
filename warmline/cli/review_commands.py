"""Commands that review links, match again and suggest new sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from warmline import audit, review, staff, suggestions
from warmline.cli.app import AppContext, main, pass_app, user_errors
from warmline.cli.sources_commands import sources_group
from warmline.db import retrying
from warmline.matching import RematchReport, count_activities, rematch_workspace
from warmline.models import SourceKind, Workspace
from warmline.web_models import DecisionAction

REVIEW_ERRORS = (review.NotFoundError, review.DecisionError)


def _activities(count: int) -> str:
    return f"{count} activit{'y' if count == 1 else 'ies'}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def _deciding(
    app: AppContext, as_staff: str | None
) -> Iterator[tuple[Session, Workspace, review.Actor]]:
    """Open a transaction and the command-line user's review actor."""
    with app.transaction() as (session, workspace):
        staff_id = None
        label = audit.cli_actor()
        if as_staff:
            member = staff.find_staff(session, workspace, as_staff)
            staff_id = member.id
            label = f"{label} as {member.email}"
        actor = review.Actor(workspace.id, None, staff_id, label)
        try:
            yield session, workspace, actor
        except REVIEW_ERRORS as error:
            message = str(error)
            if message.startswith("no touchpoint"):
                message += "; `warmline review list` shows the waiting ones"
            raise click.ClickException(message) from error


AS_OPTION = click.option(
    "--as",
    "as_staff",
    metavar="EMAIL",
    help="Staff member deciding; their decisions count as theirs in reports.",
)


@main.group("review")
def review_group() -> None:
    """List links that wait for review; confirm, reject or reassign them."""


@review_group.command("list")
@click.option("--limit", default=20, show_default=True, help="Links to show.")
@pass_app
def review_list(app: AppContext, limit: int) -> None:
    """Show the links waiting for review, most confident first."""
    with app.transaction() as (session, workspace):
        total = review.review_count(session, workspace.id)
        items = review.pending(session, workspace.id, limit)
    if not items:
        click.echo("nothing waits for review")
        return
    for item in items:
        person = f" / {item.person}" if item.person else ""
        subject = f"  {item.subject!r}" if item.subject else ""
        click.echo(
            f"#{item.touchpoint_id}  {item.occurred_at:%Y-%m-%d}  {item.kind}"
            f"{subject}\n    -> {item.practice}{person}  ({item.confidence:.2f})"
        )
        for reason in item.reasons:
            click.echo(f"       {reason}")
        click.echo(f"       with: {', '.join(item.correspondents) or '(nobody)'}")
    click.echo(
        f"\n{len(items)} of {total} shown; decide with `warmline review confirm ID`"
    )


def _print_outcome(verb: str, outcome: review.Outcome) -> None:
    ids = ", ".join(f"#{touchpoint.id}" for touchpoint in outcome.touchpoints)
    click.echo(f"{verb} {ids}")
    for lesson in outcome.lessons:
        click.echo(f"  learned: {lesson}")
    if outcome.rematched:
        click.echo(
            f"  matched {_activities(outcome.rematched)} waiting for review again"
        )


def _decide_command(action: DecisionAction, verb: str) -> Callable[..., None]:
    def command(
        app: AppContext, touchpoint_ids: tuple[int, ...], as_staff: str | None
    ) -> None:
        def run() -> review.Outcome:
            with _deciding(app, as_staff) as (session, _workspace, actor):
                return review.decide(session, actor, touchpoint_ids, action, _now())

        _print_outcome(verb, retrying(run, "review.decide"))

    return command


@review_group.command("confirm")
@click.argument("touchpoint_ids", nargs=-1, type=int, required=True)
@AS_OPTION
@pass_app
@user_errors
def review_confirm(
    app: AppContext, touchpoint_ids: tuple[int, ...], as_staff: str | None
) -> None:
    """Confirm links; the matcher learns the addresses it found by name."""
    _decide_command(DecisionAction.CONFIRM, "confirmed")(app, touchpoint_ids, as_staff)


@review_group.command("reject")
@click.argument("touchpoint_ids", nargs=-1, type=int, required=True)
@AS_OPTION
@pass_app
@user_errors
def review_reject(
    app: AppContext, touchpoint_ids: tuple[int, ...], as_staff: str | None
) -> None:
    """Reject links; the same correspondent is not proposed for that practice again."""
    _decide_command(DecisionAction.REJECT, "rejected")(app, touchpoint_ids, as_staff)


@review_group.command("reassign")
@click.argument("touchpoint_id", type=int)
@click.option(
    "--practice", required=True, metavar="ID|NAME", help="The right practice."
)
@click.option("--person", metavar="ID|NAME", help="The provider or contact there.")
@AS_OPTION
@pass_app
@user_errors
def review_reassign(
    app: AppContext,
    touchpoint_id: int,
    practice: str,
    person: str | None,
    as_staff: str | None,
) -> None:
    """Link an activity to another practice or person instead."""

    def run() -> review.Outcome:
        with _deciding(app, as_staff) as (session, workspace, actor):
            target = review.find_source(
                session, workspace.id, practice, SourceKind.PRACTICE
            )
            person_id = None
            if person is not None:
                chosen = review.find_source(
                    session, workspace.id, person, practice_id=target.id
                )
                person_id = chosen.id
            return review.reassign(
                session, actor, touchpoint_id, target.id, person_id, _now()
            )

    _print_outcome("reassigned; now", retrying(run, "review.reassign"))


@main.command("rematch")
@click.option(
    "--activity",
    "activity_ids",
    type=int,
    multiple=True,
    help="Only this activity id; repeat for more.  Default: every activity.",
)
@pass_app
def rematch_command(app: AppContext, activity_ids: tuple[int, ...]) -> None:
    """Match stored activities again after sources, settings or exclusions changed.

    Decisions people made are kept.  Each batch commits on its own.
    """
    with app.transaction() as (session, workspace):
        workspace_id = workspace.id
        total = len(activity_ids) or count_activities(session, workspace_id)

    def progress(report: RematchReport) -> None:
        click.echo(f"\r{report.activities}/{total} matched", nl=False, err=True)

    report = rematch_workspace(
        app.sessions,
        workspace_id,
        app.batch_size,
        list(activity_ids) if activity_ids else None,
        progress,
    )
    click.echo("", err=True)
    click.echo(
        f"{_activities(report.activities)} matched again: {report.linked} linked, "
        f"{report.dropped} dropped"
    )
    with app.transaction() as (session, workspace):
        audit.record(
            session,
            audit.cli_actor(),
            "matcher.rematch",
            f"workspace:{workspace.id}",
            {"activities": report.activities, "linked": report.linked},
            workspace=workspace,
        )


@sources_group.command("suggest")
@click.option("--accept", "accept_key", metavar="KEY", help="Create this suggestion.")
@click.option("--name", help="Name of the practice --accept creates.")
@click.option("--dismiss", "dismiss_key", metavar="KEY", help="Stop suggesting it.")
@pass_app
def sources_suggest(
    app: AppContext,
    accept_key: str | None,
    name: str | None,
    dismiss_key: str | None,
) -> None:
    """Suggest practices among frequent correspondents that match no source."""
    if accept_key and dismiss_key:
        raise click.UsageError("give --accept or --dismiss, not both")
    if name and not accept_key:
        raise click.UsageError("--name goes with --accept")
    try:
        with app.transaction() as (session, workspace):
            if accept_key:
                accepted = suggestions.accept(
                    session, workspace, accept_key, _now(), audit.cli_actor(), name
                )
                click.echo(
                    f"created practice #{accepted.practice.id} "
                    f"{accepted.practice.name!r} with "
                    f"{len(accepted.providers)} provider(s); "
                    f"{_activities(accepted.rematch.linked)} from the past now linked"
                )
                return
            if dismiss_key:
                suggestions.dismiss(
                    session, workspace, dismiss_key, _now(), audit.cli_actor()
                )
                click.echo(f"{dismiss_key} will not be suggested again")
                return
            found = suggestions.suggest(session, workspace, _now())
    except suggestions.SuggestionError as error:
        raise click.ClickException(str(error)) from error
    if not found:
        click.echo("no suggestions: every frequent correspondent matches a source")
        return
    for item in found:
        click.echo(
            f"{item.key}  {_activities(item.activities)}, "
            f"{item.first_seen:%Y-%m-%d} to {item.last_seen:%Y-%m-%d}"
        )
        for reason in item.reasons:
            click.echo(f"    because: {reason}")
        for person in item.correspondents[:5]:
            label = (
                f"{person.name} <{person.address}>" if person.name else person.address
            )
            click.echo(f"    {label}: {person.activities}")
        for when, kind, subject in item.examples:
            shown = f" {subject!r}" if subject else ""
            click.echo(f"    e.g. {when:%Y-%m-%d} {kind}{shown}")
    click.echo(
        "\naccept with `warmline sources suggest --accept KEY [--name NAME]`, "
        "or --dismiss KEY"
    )
