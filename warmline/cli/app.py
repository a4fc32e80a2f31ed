"""The `warmline` command group, its context object and shared helpers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from warmline import (
    accounts,
    demo,
    providers,
    secrets,
    staff,
)
from warmline.csvfile import CsvInputError
from warmline.db import create_engine, migrate, session_factory
from warmline.logs import configure_logging
from warmline.models import Workspace
from warmline.settings import (
    ProcessSettings,
    SettingError,
    load_settings,
)
from warmline.workspaces import (
    get_or_create_workspace,
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
    url = database or settings.database_url
    new_file = _new_sqlite_file(url)
    try:
        engine = create_engine(url)
        context.call_on_close(engine.dispose)
        migrate(engine)
    except DATABASE_ERRORS as error:
        raise click.UsageError(database_problem(url, error)) from error
    if new_file is not None:
        # Running from another folder would otherwise show an empty database
        # without a word.
        click.echo(f"created a new, empty database at {new_file}", err=True)
    context.obj = AppContext(session_factory(engine), workspace, settings)
    providers.register_all()


DATABASE_ERRORS = (ArgumentError, OperationalError, ModuleNotFoundError)


def _new_sqlite_file(url: str) -> Path | None:
    """Return the SQLite file `url` names if it does not exist yet."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (
        None,
        "",
        ":memory:",
    ):
        return None
    path = Path(parsed.database).resolve()
    return None if path.exists() else path


def database_problem(url: str, error: Exception) -> str:
    """Say what is wrong with the database URL and how to fix it."""
    shown = make_url(url).render_as_string() if "://" in url else repr(url)
    if isinstance(error, ArgumentError):
        return (
            f"database URL {shown} is not a SQLAlchemy URL; use for example "
            "sqlite:///warmline.db or postgresql+psycopg://user@host/warmline"
        )
    if isinstance(error, ModuleNotFoundError):
        return (
            f"the driver for {shown} is not installed ({error.name}); for "
            'PostgreSQL run pip install ".[postgres]"'
        )
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return (
        f"cannot open the database {shown}: {reason}; check that the server "
        "runs, or for SQLite that the folder exists and is writable"
    )


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
