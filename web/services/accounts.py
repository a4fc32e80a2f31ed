"""The accounts page: each account's sync state and what its syncs stored,
connecting Google and Microsoft accounts through their web OAuth flows, and
syncing an account now.

Connecting reuses the command line's `connect_staff_member` of
warmline.providers.google and .microsoft.  Only the way the grant is
obtained differs, because the site redirects to the provider and back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import google.oauth2.credentials
import requests
import structlog
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors import ConnectorError
from connectors.microsoft import AuthorizationCodeFlow, GraphConfig
from warmline import pipeline
from warmline.dropped_models import DroppedItem
from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    Activity,
    QuarantinedItem,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)
from warmline.providers import GrantPurposes, grant_purposes
from warmline.providers import google as google_provider
from warmline.providers import microsoft as microsoft_provider
from warmline.providers.google import CALENDAR_PROVIDER as GOOGLE_CALENDAR_PROVIDER
from warmline.providers.google import GMAIL_PROVIDER
from warmline.providers.microsoft import CALENDAR_PROVIDER as OUTLOOK_CALENDAR_PROVIDER
from warmline.providers.microsoft import MAIL_PROVIDER as OUTLOOK_MAIL_PROVIDER
from warmline.secrets import load_secret_box
from warmline.settings import SettingError
from warmline.staff import StaffError
from web.auth import Principal
from web.oidc import OAuthSetup

if TYPE_CHECKING:
    from warmline.cli.app import AppContext

log = structlog.get_logger(__name__)

STATUS_TEXT = {
    AccountStatus.ACTIVE: "Syncing normally.",
    AccountStatus.NEEDS_REAUTH: (
        "The provider no longer accepts the stored sign-in; connect the account again."
    ),
    AccountStatus.ERROR: (
        "The last sync failed and the account is paused until someone fixes "
        "the cause and syncs it again."
    ),
    AccountStatus.DISABLED: "Turned off; it is not synced.",
}


@dataclasses.dataclass(frozen=True)
class AccountOverview:
    id: int
    provider: str
    location: str
    staff_member_id: int
    staff_email: str
    status: AccountStatus
    status_text: str
    last_sync_at: dt.datetime | None
    cursor_age: dt.timedelta | None
    """Time since the last successful sync, which saved the current cursor."""
    has_cursor: bool
    last_error: str | None
    stored: int
    matched: int
    dropped: dict[str, int]
    """Dropped activities by reason: the matcher's reasons and "blocklisted"."""
    quarantined: int
    """Items the connector could not read (unreadable), kept in quarantine."""
    reconnect_flow: str | None
    """The connect flow that reconnects the account when it needs re-authorization."""


def account_overviews(
    session: Session, workspace_id: int, as_of: dt.datetime
) -> list[AccountOverview]:
    accounts = session.execute(
        select(Account, StaffMember.email)
        .join(StaffMember, StaffMember.id == Account.staff_member_id)
        .where(Account.workspace_id == workspace_id)
        .order_by(Account.id)
    ).all()
    ids = [account.id for account, _email in accounts]
    stored = _count_by_account(session, ids, None)
    matched = _count_by_account(session, ids, True)
    dropped = _dropped_by_account(session, ids)
    quarantined_rows = session.execute(
        select(QuarantinedItem.account_id, func.count(QuarantinedItem.id))
        .where(QuarantinedItem.account_id.in_(ids))
        .group_by(QuarantinedItem.account_id)
    )
    quarantined = {account_id: count for account_id, count in quarantined_rows}
    return [
        AccountOverview(
            id=account.id,
            provider=account.provider,
            location=account.location,
            staff_member_id=account.staff_member_id,
            staff_email=email,
            status=account.status,
            status_text=STATUS_TEXT[account.status],
            last_sync_at=account.last_sync_at,
            # NOTE: no column records when the cursor last moved, so the age
            # is measured from the last successful sync.
            cursor_age=as_of - account.last_sync_at if account.last_sync_at else None,
            has_cursor=account.cursor is not None,
            last_error=account.last_error,
            stored=stored.get(account.id, 0),
            matched=matched.get(account.id, 0),
            dropped=dict(sorted(dropped.get(account.id, Counter()).items())),
            quarantined=quarantined.get(account.id, 0),
            reconnect_flow=(
                connect_flow_of(account.provider)
                if account.status is AccountStatus.NEEDS_REAUTH
                else None
            ),
        )
        for account, email in accounts
    ]


def _count_by_account(
    session: Session, ids: list[int], matched: bool | None
) -> dict[int, int]:
    """Count the activities each account has seen; `matched`: only linked ones."""
    query = select(
        AccountActivity.account_id,
        func.count(func.distinct(AccountActivity.activity_id)),
    ).where(AccountActivity.account_id.in_(ids))
    if matched:
        linked = select(Touchpoint.activity_id).where(
            Touchpoint.status != TouchpointStatus.REJECTED
        )
        query = query.where(AccountActivity.activity_id.in_(linked))
    rows = session.execute(query.group_by(AccountActivity.account_id))
    return {account_id: count for account_id, count in rows}


def _dropped_by_account(session: Session, ids: list[int]) -> dict[int, Counter[str]]:
    """Count each account's dropped activities by reason.

    The matcher's reasons (bulk, internal, ...) are on stored activities.
    A blocklisted activity is never stored, so its count comes from
    `DroppedItem`.
    """
    stored = session.execute(
        select(AccountActivity.account_id, Activity.dropped, func.count(Activity.id))
        .join(Activity, Activity.id == AccountActivity.activity_id)
        .where(AccountActivity.account_id.in_(ids), Activity.dropped.is_not(None))
        .group_by(AccountActivity.account_id, Activity.dropped)
    )
    before_storage = session.execute(
        select(DroppedItem.account_id, DroppedItem.reason, func.count(DroppedItem.id))
        .where(DroppedItem.account_id.in_(ids))
        .group_by(DroppedItem.account_id, DroppedItem.reason)
    )
    result: dict[int, Counter[str]] = {}
    for account_id, reason, count in [*stored, *before_storage]:
        result.setdefault(account_id, Counter())[str(reason)] += count
    return result


# --- connecting Google and Microsoft accounts -------------------------------------

CONNECTABLE = {
    "google": frozenset({GMAIL_PROVIDER, GOOGLE_CALENDAR_PROVIDER}),
    "microsoft": frozenset({OUTLOOK_MAIL_PROVIDER, OUTLOOK_CALENDAR_PROVIDER}),
}
"""The account providers that each connect flow creates."""


class ConnectError(Exception):
    """A connect flow or a sync request failed; the message is for the user."""


def connect_flow_of(account_provider: str) -> str | None:
    """Return the connect flow ("google", "microsoft") that reconnects an account."""
    for flow, providers in CONNECTABLE.items():
        if account_provider in providers:
            return flow
    return None


def connect_choices(setup: OAuthSetup) -> list[tuple[str, str]]:
    """Return (flow, title) of each connect flow the site's settings allow."""
    choices = []
    if setup.google.web_client_secrets_file:
        choices.append(("google", "Google (Gmail and Google Calendar)"))
    if setup.microsoft.client_id:
        choices.append(("microsoft", "Microsoft 365 (Outlook mail and calendar)"))
    return choices


def staff_choices(session: Session, principal: Principal) -> list[StaffMember]:
    """Return the staff members whose accounts `principal` may connect and sync.

    Admins act for every staff member of the workspace, members only for
    the staff member with their own address.
    """
    query = select(StaffMember).where(
        StaffMember.workspace_id == principal.workspace_id
    )
    if not principal.is_admin:
        query = query.where(StaffMember.id == principal.staff_member_id)
    return list(session.scalars(query.order_by(StaffMember.email)))


def connect_purposes(
    session: Session, workspace: Workspace, setup: OAuthSetup, flow: str
) -> GrantPurposes:
    """Return the access a grant through `flow` needs under the workspace's settings.

    The command line's connect requests the same: event writing when
    follow-ups are placed on calendars, and sending when digests go through
    the staff member's own mailbox.
    """
    places = (
        setup.google.place_follow_ups
        if flow == "google"
        else setup.microsoft.place_follow_ups
    )
    return grant_purposes(session, workspace, places)


def start_connect(
    setup: OAuthSetup,
    flow: str,
    redirect_uri: str,
    staff_email: str,
    purposes: GrantPurposes,
) -> tuple[str, dict[str, Any]]:
    """Return the provider's authorization URL and the values its callback needs.

    The values contain the PKCE verifier and the purposes the scopes were
    chosen for: keep them in the sealed flow cookie.
    """
    chosen = dataclasses.asdict(purposes)
    if flow == "google":
        oauth = _google_flow(setup, redirect_uri, purposes)
        url, state = oauth.authorization_url(
            access_type="offline", prompt="consent", login_hint=staff_email
        )
        return url, {"state": state, "verifier": oauth.code_verifier, **chosen}
    sign_in = AuthorizationCodeFlow(
        _graph_config(setup),
        microsoft_provider.grant_scopes(purposes),
        redirect_uri,
        login_hint=staff_email,
        response_mode="query",
    )
    # msal does not need the URL again, and leaving it out keeps the cookie small.
    saved = {k: v for k, v in sign_in.saved_flow.items() if k != "auth_uri"}
    return sign_in.auth_uri, {"msal_flow": saved, **chosen}


def _saved_purposes(saved: Mapping[str, Any]) -> GrantPurposes:
    return GrantPurposes(
        place_follow_ups=bool(saved.get("place_follow_ups")),
        send_digests=bool(saved.get("send_digests")),
    )


def finish_connect(
    app: AppContext,
    setup: OAuthSetup,
    flow: str,
    saved: Mapping[str, Any],
    callback: Mapping[str, str],
    redirect_uri: str,
    staff_email: str,
) -> list[int]:
    """Redeem the callback's code and connect the accounts as the command line does.

    Returns the ids of the accounts created or reconnected.  Raises
    ConnectError with the reason when the provider refused or the consent
    was given for another account than the staff member's.
    """
    purposes = _saved_purposes(saved)
    try:
        if flow == "google":
            grant = _google_grant(setup, saved, callback, redirect_uri, purposes)
            google = google_provider.connect_staff_member(
                app,
                setup.google,
                staff_email,
                follow_ups=purposes.place_follow_ups,
                send_digests=purposes.send_digests,
                authorized=grant,
            )
            return [google.gmail_account_id, google.calendar_account_id]
        sign_in = AuthorizationCodeFlow(
            _graph_config(setup),
            microsoft_provider.grant_scopes(purposes),
            redirect_uri,
            saved_flow=saved["msal_flow"],
        )
        authorization = sign_in.complete(callback)
        outlook = microsoft_provider.connect_staff_member(
            app,
            setup.microsoft,
            staff_email,
            place_follow_ups=purposes.place_follow_ups,
            send_digests=purposes.send_digests,
            signed_in=authorization,
        )
        return [outlook.mail_account_id, outlook.calendar_account_id]
    except (ConnectorError, StaffError, SettingError, click.ClickException) as error:
        message = (
            error.format_message()
            if isinstance(error, click.ClickException)
            else str(error)
        )
        raise ConnectError(_sentence(message)) from error


def _google_flow(
    setup: OAuthSetup,
    redirect_uri: str,
    purposes: GrantPurposes,
    state: str | None = None,
    verifier: str | None = None,
) -> Flow:
    return Flow.from_client_config(
        setup.google.web_client_config(),
        scopes=google_provider.grant_scopes(purposes),
        redirect_uri=redirect_uri,
        state=state,
        code_verifier=verifier,
        autogenerate_code_verifier=verifier is None,
    )


def _google_grant(
    setup: OAuthSetup,
    saved: Mapping[str, Any],
    callback: Mapping[str, str],
    redirect_uri: str,
    purposes: GrantPurposes,
) -> google.oauth2.credentials.Credentials:
    if "error" in callback:
        raise ConnectError(f"Google did not grant access ({callback['error'][:100]}).")
    given_state = (callback.get("state") or "").encode()
    if not hmac.compare_digest(str(saved["state"]).encode(), given_state):
        raise ConnectError(
            "Google's response does not belong to the connection started in "
            "this browser; start again."
        )
    oauth = _google_flow(
        setup, redirect_uri, purposes, saved["state"], saved["verifier"]
    )
    try:
        oauth.fetch_token(code=callback.get("code", ""), timeout=setup.google.timeout)
    except (OAuth2Error, requests.RequestException) as error:
        raise ConnectError(
            f"Google rejected the authorization code ({type(error).__name__}); "
            "start again."
        ) from error
    except Warning as warning:
        # oauthlib raises Warning("Scope has changed ...") when a scope was
        # unticked on the consent screen.
        raise ConnectError(
            "Google granted fewer permissions than requested; connect again and "
            "allow every requested access."
        ) from warning
    credentials: google.oauth2.credentials.Credentials = oauth.credentials
    return credentials


def _graph_config(setup: OAuthSetup) -> GraphConfig:
    try:
        return setup.microsoft.graph_config()
    except click.UsageError as error:
        raise ConnectError(_sentence(error.format_message())) from error


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- sync now ------------------------------------------------------------------------


def account_to_sync(session: Session, principal: Principal, account_id: int) -> Account:
    """Return the account if `principal` may sync it now; else raise.

    Raises LookupError for an id outside the principal's workspace or, for
    a member, outside their own accounts, and ConnectError when the
    account's status rules a sync out.
    """
    account = session.get(Account, account_id)
    if account is None or account.workspace_id != principal.workspace_id:
        raise LookupError(account_id)
    if not principal.is_admin and account.staff_member_id != principal.staff_member_id:
        raise LookupError(account_id)
    if account.status is AccountStatus.DISABLED:
        raise ConnectError(f"Account {account.id} is turned off; it is not synced.")
    if account.status is AccountStatus.NEEDS_REAUTH:
        raise ConnectError(
            f"Account {account.id} needs to be connected again before it can sync."
        )
    return account


def sync_in_process(
    setup: OAuthSetup, sessions: sessionmaker[Session], account_id: int
) -> None:
    """Sync one account in this process, as 'warmline sync --account' does.

    NOTE: unlike a worker's sync this takes no lease, so two requests close
    together run two syncs of the account.  The upserts keep the result
    correct, but the second sync repeats the first one's reads.
    """
    settings = setup.settings
    report = pipeline.sync_account(
        sessions,
        account_id,
        settings.batch_size,
        secret_box=lambda: load_secret_box(
            settings.secret_keys, Path(settings.secret_key_file)
        ),
    )
    log.info(
        "sync now finished",
        account_id=account_id,
        failed=report.error is not None,
    )


def enqueue_sync(setup: OAuthSetup, account_id: int) -> None:
    """Send the sync to the workers through the broker in broker_url."""
    from warmline.worker.app import create_app as create_worker_app
    from warmline.worker.tasks import SYNC_ACCOUNT

    # NOTE: no test runs this path against a broker.  The task name and
    # arguments are those that the beat task warmline.schedule_syncs sends.
    if setup.worker_app is None:
        setup.worker_app = create_worker_app(setup.settings)
    setup.worker_app.send_task(SYNC_ACCOUNT, args=(account_id,))
