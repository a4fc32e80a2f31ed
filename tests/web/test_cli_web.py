"""`warmline users add|list` and `warmline web`, through click's test runner."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

import warmline.cli.web_commands  # noqa: F401  (registers the commands on main)
from warmline.cli import main
from warmline.web_models import WebUser


def run(database_url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--database", database_url, *args], input=input)


def test_users_add_hashes_password(database_url, sessions):
    result = run(
        database_url,
        "users",
        "add",
        "Office@Example.org",
        "--role",
        "admin",
        input="a long enough secret\na long enough secret\n",
    )

    assert result.exit_code == 0, result.output
    assert "web user office@example.org created with role admin" in result.output
    assert "is no staff member's address" in result.output
    with sessions() as session:
        user = session.scalars(select(WebUser)).one()
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "a long enough secret" not in user.password_hash


def test_users_add_rejects_short_password(database_url):
    result = run(database_url, "users", "add", "a@example.org", input="short\nshort\n")

    assert result.exit_code == 1
    assert "use at least 12" in result.output


def test_users_add_updates_role(database_url):
    secret = "a long enough secret\n" * 2
    run(database_url, "users", "add", "a@example.org", input=secret)

    result = run(
        database_url, "users", "add", "a@example.org", "--role", "admin", input=secret
    )
    listing = run(database_url, "users", "list")

    assert "updated with role admin" in result.output
    assert "a@example.org  admin" in listing.output


def test_users_add_one_workspace_per_address(database_url):
    secret = "a long enough secret\n" * 2
    run(database_url, "users", "add", "a@example.org", input=secret)

    result = run(
        database_url,
        "--workspace",
        "other",
        "users",
        "add",
        "a@example.org",
        input=secret,
    )

    assert result.exit_code == 1
    assert "already signs in to another workspace" in result.output


def test_web_command_serves_app(database_url, monkeypatch):
    served = {}

    def fake_run(app, **options):
        served["app"] = app
        served.update(options)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setenv("WARMLINE_WEB_SESSION_KEY", "a key for this test only")

    result = run(database_url, "web", "--port", "8123")

    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1"
    assert served["port"] == 8123
    assert served["proxy_headers"] is True
    assert served["app"].state.web.config.database_url == database_url
    served["app"].state.priming.join(60)
    served["app"].state.web.engine.dispose()
