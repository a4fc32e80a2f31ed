"""`warmline accounts connect google` asks for gmail.send when digests go
through the connector, against the Google emulator's consent flow."""

# The fixtures imported from the Google pipeline tests are test parameters
# here, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import select

from connectors.google import requested_scopes
from connectors.google.send import GMAIL_SEND_SCOPE
from tests.connectors.test_google_pipeline import (  # noqa: F401  (fixtures)
    app,
    connect,
    emulator,
    loopback,
    server,
)
from warmline.models import Account
from warmline.workspaces import get_or_create_workspace, set_workspace_setting


def use_connector(app) -> None:
    with app.sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        set_workspace_setting(session, workspace, "digest_transport", "connector")


def gmail_scopes(app) -> list[str]:
    with app.sessions() as session:
        gmail = session.scalars(select(Account).where(Account.provider == "gmail"))
        return list(gmail.one().options["scopes"])


def test_connector_transport_asks_send(app, emulator):
    use_connector(app)

    connect(app)

    requested = emulator.oauth.authorization_requests[-1]["scope"].split()
    assert requested == [*requested_scopes(), GMAIL_SEND_SCOPE]
    assert GMAIL_SEND_SCOPE in gmail_scopes(app)


def test_flag_overrides_transport(app, emulator):
    use_connector(app)

    connect(app, "--no-send-digests")

    requested = emulator.oauth.authorization_requests[-1]["scope"].split()
    assert GMAIL_SEND_SCOPE not in requested
    assert GMAIL_SEND_SCOPE not in gmail_scopes(app)


def test_smtp_transport_flag_asks_send(app, emulator):
    connect(app, "--send-digests")

    requested = emulator.oauth.authorization_requests[-1]["scope"].split()
    assert GMAIL_SEND_SCOPE in requested
