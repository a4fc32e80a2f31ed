"""Commands of the Celery runtime: worker, beat and accounts resume.

`warmline worker` and `warmline beat` are thin wrappers over Celery's own
worker and beat, started with the app that `warmline.worker.create_app`
builds from the process settings.  Options after `--` go to Celery
unchanged, such as
`warmline worker -- --hostname=w1@%h`.

Celery is imported inside the commands, so the other commands run without
it installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from warmline import accounts
from warmline.cli.app import AppContext, main, pass_app
from warmline.cli.sources_commands import accounts_group
from warmline.settings import SettingError

if TYPE_CHECKING:
    from warmline.worker import WarmlineCelery

POOLS = ("prefork", "solo", "threads")


def _celery_app(app: AppContext) -> WarmlineCelery:
    try:
        from warmline.worker import create_app
    except ImportError as error:
        raise click.ClickException(
            f"Celery is not installed ({error}); install it with "
            "pip install 'celery[redis]>=5.4'"
        ) from error
    try:
        return create_app(app.settings)
    except SettingError as error:
        raise click.UsageError(str(error)) from error


@main.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    help="Pool processes or threads; default: one per CPU core.",
)
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="prefork",
    show_default=True,
    help="Celery execution pool; solo runs one task at a time in this process.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_app
def worker(
    app: AppContext,
    concurrency: int | None,
    pool: str,
    celery_args: tuple[str, ...],
) -> None:
    """Run a Celery worker for the sync, matching and reminder tasks.

    Needs WARMLINE_BROKER_URL.  Stops cleanly on SIGTERM after the tasks at
    hand; a worker killed outright has its tasks delivered again.
    """
    celery_app = _celery_app(app)
    argv = [
        "worker",
        f"--pool={pool}",
        f"--loglevel={app.settings.log_level}",
        f"--queues={app.settings.task_queue}",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    celery_app.worker_main([*argv, *celery_args])


@main.command()
@click.option(
    "--schedule-file",
    default="celerybeat-schedule",
    show_default=True,
    help="File where beat keeps the time each periodic task last ran.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_app
def beat(app: AppContext, schedule_file: str, celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, which sends the periodic syncs, reminders and digests.

    Needs WARMLINE_BROKER_URL.  Run exactly one beat per deployment: two
    would send every periodic task twice.
    """
    celery_app = _celery_app(app)
    celery_app.start(
        [
            "beat",
            f"--schedule={schedule_file}",
            f"--loglevel={app.settings.log_level}",
            *celery_args,
        ]
    )


@accounts_group.command("resume")
@click.argument("account_id", type=int)
@pass_app
def accounts_resume(app: AppContext, account_id: int) -> None:
    """Make account ACCOUNT_ID active again after it failed, was parked or removed.

    Fix the cause shown in 'warmline accounts list' first; the next sync
    then reads the account again.
    """
    try:
        with app.transaction() as (session, workspace):
            accounts.resume_account(session, workspace.id, account_id)
    except accounts.ResumeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"account {account_id} is active again")
