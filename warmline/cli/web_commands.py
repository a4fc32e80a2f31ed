"""Commands of the review site: serve it, and manage its users."""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

import click
from tabulate import tabulate

from warmline.cli.app import AppContext, main, pass_app
from warmline.web_models import WebRole

# web.* is imported inside the commands so that every other command starts
# without loading FastAPI and argon2.


@main.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; keep 127.0.0.1 behind a reverse proxy.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="TCP port to listen on.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For and X-Forwarded-Proto headers are trusted; "
    "the client address counts toward sign-in limits and https marks the "
    "session cookie Secure.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes that serve requests; about two per CPU core let pages "
    "render side by side while others wait on the database.",
)
@pass_app
def web_command(
    app: AppContext, host: str, port: int, forwarded_allow_ips: str, workers: int
) -> None:
    """Serve the review site and JSON API with uvicorn until interrupted."""
    import uvicorn

    from web.config import web_config
    from web.factory import IMPORT_STRING, serving_app

    # --database may name another database than the settings do.
    engine = app.sessions.kw["bind"]
    database_url = engine.url.render_as_string(hide_password=False)
    settings = dataclasses.replace(app.settings, database_url=database_url)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "log_level": settings.log_level.lower(),
    }
    click.echo(f"serving Warmline on http://{host}:{port}/ (Ctrl+C stops)")
    if workers == 1:
        uvicorn.run(serving_app(settings), **options)
        return
    # Each worker process builds the site from its environment, which it
    # inherits from this one.  The session key file is created here first,
    # so that the workers do not race to create it.
    web_config(settings)
    os.environ["WARMLINE_DATABASE_URL"] = database_url
    uvicorn.run(IMPORT_STRING, factory=True, workers=workers, **options)


# `warmline web`, the command's first name, stays for existing deployments.
_web_alias = copy.copy(web_command)
_web_alias.hidden = True
main.add_command(_web_alias, name="web")


@main.group("users")
def users_group() -> None:
    """Add and list the people who sign in to the review site."""


@users_group.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in WebRole]),
    default=WebRole.MEMBER.value,
    show_default=True,
    help="admin may also import sources and referrals, change settings and "
    "read the audit log; member reviews, reads and acts on follow-ups.",
)
@click.password_option(
    "--password",
    prompt="Password",
    envvar="WARMLINE_WEB_PASSWORD",
    help="Password of at least 12 characters; read from WARMLINE_WEB_PASSWORD "
    "or prompted for when omitted.",
)
@pass_app
def users_add(app: AppContext, email: str, role: str, password: str) -> None:
    """Create the web user EMAIL in the workspace, or reset their password and role."""
    from web.passwords import PasswordError, Passwords
    from web.users import UserError, staff_member_id, upsert_user

    with app.transaction() as (session, workspace):
        try:
            user, created = upsert_user(
                session, workspace, email, password, WebRole(role), Passwords()
            )
        except (UserError, PasswordError) as error:
            raise click.ClickException(str(error)) from error
        staff_id = staff_member_id(session, user)
        address = user.email
    verb = "created" if created else "updated"
    click.echo(f"web user {address} {verb} with role {role}")
    if staff_id is None:
        click.echo(
            f"note: {address} is no staff member's address, so review decisions "
            "by this user record the user but leave the staff member empty"
        )


@users_group.command("list")
@pass_app
def users_list(app: AppContext) -> None:
    """Print the workspace's web users with their role and last sign-in."""
    from web.users import list_users

    with app.transaction() as (session, workspace):
        rows = [
            (user.email, user.role.value, user.last_sign_in_at or "never")
            for user in list_users(session, workspace)
        ]
    click.echo(tabulate(rows, headers=("email", "role", "last sign-in")))
