"""Commands of push notifications: renew the subscriptions, list requests.

The review site receives the notifications (docs/push.md).  These commands
run a renewal pass at once, for example right after connecting an account,
and list the subscriptions and the pending requested syncs.
"""

from __future__ import annotations

import click
from sqlalchemy import select
from tabulate import tabulate

from warmline.cli.app import AppContext, main, pass_app
from warmline.push_models import PushSubscription, SyncRequest
from warmline.push_subscriptions import renew_subscriptions


@main.group("push")
def push_group() -> None:
    """Gmail watches and Graph subscriptions that request syncs on changes."""


@push_group.command("renew")
@pass_app
def push_renew(app: AppContext) -> None:
    """Create, renew and delete the push subscriptions that are due now."""
    report = renew_subscriptions(app.sessions, app.settings, app.secret_box)
    click.echo(
        f"{report.created} created, {report.renewed} renewed, "
        f"{report.deleted} deleted, {report.failed} failed"
    )
    if report.failed:
        raise click.ClickException(
            "some subscriptions failed; see the log (WARMLINE_LOG_LEVEL=INFO) "
            "and 'warmline push list'"
        )


@push_group.command("list")
@pass_app
def push_list(app: AppContext) -> None:
    """List the push subscriptions and the pending requested syncs."""
    with app.sessions() as session:
        subscriptions = session.scalars(
            select(PushSubscription).order_by(PushSubscription.account_id)
        ).all()
        rows = [
            (
                row.account_id,
                row.kind,
                row.resource,
                row.expires_at.isoformat(timespec="seconds"),
                row.last_error or "",
            )
            for row in subscriptions
        ]
        requests = [
            (row.account_id, row.reason, row.requested_at.isoformat(timespec="seconds"))
            for row in session.scalars(select(SyncRequest)).all()
        ]
    headers = ["account", "kind", "resource", "expires", "last error"]
    click.echo(tabulate(rows, headers=headers) if rows else "no push subscriptions")
    if requests:
        click.echo()
        click.echo(tabulate(requests, headers=["account", "reason", "requested"]))
