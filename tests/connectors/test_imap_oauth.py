"""IMAP sign-in with Google and Microsoft OAuth grants, against a real Dovecot.

Each Dovecot checks bearer tokens with its oauth2 passdb.  The Google one
calls the Google emulator's tokeninfo endpoint, requires the scope
https://mail.google.com/ and offers XOAUTH2 and OAUTHBEARER, as Gmail
does.  The Microsoft one calls the Microsoft emulator's introspection
endpoint, requires IMAP.AccessAsUser.All and offers XOAUTH2 alone, as
Outlook does.  Tokens come from grants the emulators issued, refreshed by
google-auth and msal.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import pytest
from structlog.testing import capture_logs

from connectors.errors import NeedsReauthorization
from connectors.google import StoredCredentials
from connectors.imap import AccessTokenSource, ImapReader
from connectors.microsoft import AuthorizationCodeFlow, DelegatedTokenSource
from connectors.records import Activity, Item
from tests.emulators.google import GoogleEmulator
from tests.emulators.google.harness import MemoryCredentialStore as GoogleStore
from tests.emulators.microsoft import GraphEmulator, SystemClock
from tests.emulators.microsoft.harness import (
    CLIENT_ID,
    MemoryCredentialStore,
    config_for,
    redirect_params,
)
from tests.servers.dovecot import DovecotServer, OAuth2Validation, start_dovecot
from warmline.providers.imap_oauth import (
    GOOGLE_IMAP_SCOPE,
    MICROSOFT_IMAP_SCOPE,
    GoogleAccessTokens,
)

DOMAIN = "brookside-pt.example"
METADATA_SCOPE = "https://www.googleapis.com/auth/gmail.metadata"


def message(number: int) -> bytes:
    return (
        "From: Ana Diaz <ana@lakeside-fm.example>\r\n"
        f"To: sam.ortiz@{DOMAIN}\r\n"
        "Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <oauth{number}@lakeside-fm.example>\r\n"
        "\r\n"
        f"Patient letter {number}.\r\n"
    ).encode()


class Provider(Protocol):
    """One provider's emulator and the Dovecot that trusts its tokens."""

    dovecot: DovecotServer
    mechanism: str

    def grant(self, user: str) -> Callable[[], AccessTokenSource]: ...
    def token_requests(self) -> int: ...
    def expire_access_tokens(self) -> None: ...
    def revoke(self, user: str) -> None: ...
    def issued_tokens(self) -> set[str]: ...
    def expire_stored_token(self, user: str) -> None: ...


class GoogleProvider:
    mechanism = "OAUTHBEARER"

    def __init__(self, emulator: GoogleEmulator, dovecot: DovecotServer) -> None:
        self.emulator = emulator
        self.dovecot = dovecot
        self.stores: dict[str, GoogleStore] = {}

    def grant(
        self, user: str, scopes: tuple[str, ...] = (GOOGLE_IMAP_SCOPE,)
    ) -> Callable[[], AccessTokenSource]:
        self.emulator.add_user(user)
        info = self.emulator.authorized_user_info(user, list(scopes))
        store = GoogleStore(json.dumps(info))
        self.stores[user] = store
        token_uri = self.emulator.url + "token"
        return lambda: GoogleAccessTokens(
            lambda: StoredCredentials.from_store(store, token_uri), timeout=5.0
        )

    def token_requests(self) -> int:
        return len(self.emulator.oauth.token_requests)

    def expire_access_tokens(self) -> None:
        self.emulator.oauth.expire_access_tokens()

    def revoke(self, user: str) -> None:
        self.emulator.oauth.revoke_user(user)

    def issued_tokens(self) -> set[str]:
        oauth = self.emulator.oauth
        return set(oauth.access_tokens) | set(oauth.refresh_tokens)

    def expire_stored_token(self, user: str) -> None:
        store = self.stores[user]
        assert store.value is not None
        info = json.loads(store.value)
        info["expiry"] = "2020-01-01T00:00:00Z"
        store.value = json.dumps(info)


class MicrosoftProvider:
    mechanism = "XOAUTH2"

    def __init__(self, emulator: GraphEmulator, dovecot: DovecotServer) -> None:
        self.emulator = emulator
        self.dovecot = dovecot
        self.auth_uris: list[str] = []
        self.stores: dict[str, MemoryCredentialStore] = {}

    def grant(self, user: str) -> Callable[[], AccessTokenSource]:
        self.emulator.add_user(user, "Sam Ortiz")
        config = config_for(self.emulator)
        flow = AuthorizationCodeFlow(
            config, [MICROSOFT_IMAP_SCOPE], "http://localhost:8400", login_hint=user
        )
        self.auth_uris.append(flow.auth_uri)
        ca_file = str(self.emulator.ca_file)
        authorization = flow.complete(redirect_params(flow.auth_uri, ca_file))
        store = MemoryCredentialStore(authorization.token_cache)
        self.stores[user] = store
        return lambda: DelegatedTokenSource(
            config, store, authorization.username, [MICROSOFT_IMAP_SCOPE]
        )

    def token_requests(self) -> int:
        return len(self.emulator.identity.token_requests)

    def expire_access_tokens(self) -> None:
        self.emulator.identity.expire_access_tokens()

    def revoke(self, user: str) -> None:
        self.emulator.identity.revoked_consent.add(user)

    def issued_tokens(self) -> set[str]:
        identity = self.emulator.identity
        return set(identity.access_tokens) | set(identity.refresh_tokens)

    def expire_stored_token(self, user: str) -> None:
        store = self.stores[user]
        assert store.value is not None
        cache = json.loads(store.value)
        for entry in cache["AccessToken"].values():
            entry["expires_on"] = entry["extended_expires_on"] = "1577836800"
        store.value = json.dumps(cache)


@pytest.fixture(scope="module")
def google_provider() -> Iterator[GoogleProvider]:
    with GoogleEmulator() as emulator:
        validation = OAuth2Validation(
            tokeninfo_url=emulator.url + "tokeninfo?access_token=",
            scope=GOOGLE_IMAP_SCOPE,
        )
        with start_dovecot(
            "oauth-google", oauth2=validation, user_domain=DOMAIN
        ) as dovecot:
            yield GoogleProvider(emulator, dovecot)


@pytest.fixture(scope="module")
def microsoft_provider(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MicrosoftProvider]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("imap-oauth"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        validation = OAuth2Validation(
            introspection_url=emulator.base_url + "/_emulator/introspect",
            introspection_mode="post",
            username_attribute="username",
            active_attribute="active",
            active_value="true",
            scope=MICROSOFT_IMAP_SCOPE,
            ca_file=emulator.ca_file,
            mechanisms=("xoauth2",),
        )
        with start_dovecot(
            "oauth-microsoft", oauth2=validation, user_domain=DOMAIN
        ) as dovecot:
            yield MicrosoftProvider(emulator, dovecot)


@pytest.fixture(params=["google", "microsoft"])
def provider(request: pytest.FixtureRequest) -> Provider:
    fixture: Provider = request.getfixturevalue(f"{request.param}_provider")
    return fixture


def seeded_user(dovecot: DovecotServer, count: int) -> tuple[str, str]:
    """Return a new user's name and password, with `count` messages in INBOX."""
    user, password = dovecot.add_user()
    with dovecot.client(user, password) as client:
        for number in range(count):
            client.append("INBOX", message(number))
    return user, password


def logins(dovecot: DovecotServer, user: str) -> list[str]:
    """Return the SASL mechanism of each of `user`'s logins, from Dovecot's log."""
    log = (dovecot.directory / "dovecot.log").read_text(errors="replace")
    pattern = rf"Login: user=<{re.escape(user)}>, method=([A-Z0-9-]+)"
    return re.findall(pattern, log)


def subjects(items: Sequence[Item]) -> list[str]:
    return [item.subject or "" for item in items if isinstance(item, Activity)]


def test_first_sync_with_grant(provider: Provider) -> None:
    dovecot = provider.dovecot
    user, _password = seeded_user(dovecot, 2)
    reader = ImapReader(dovecot.config(user, token_source=provider.grant(user)()))

    items = list(reader.read(None))

    assert subjects(items) == ["Referral 0", "Referral 1"]
    assert logins(dovecot, user)[-1] == provider.mechanism


def test_microsoft_sign_in_asks_offline_access(
    microsoft_provider: MicrosoftProvider,
) -> None:
    user = microsoft_provider.dovecot.add_user()[0]

    microsoft_provider.grant(user)

    scope = re.search(r"[?&]scope=([^&]+)", microsoft_provider.auth_uris[-1])
    assert scope is not None
    requested = scope.group(1).replace("%3A", ":").replace("%2F", "/").split("+")
    assert MICROSOFT_IMAP_SCOPE in requested
    assert "offline_access" in requested


def test_google_xoauth2_when_oauthbearer_missing(
    google_provider: GoogleProvider,
) -> None:
    validation = OAuth2Validation(
        tokeninfo_url=google_provider.emulator.url + "tokeninfo?access_token=",
        scope=GOOGLE_IMAP_SCOPE,
        mechanisms=("xoauth2",),
    )
    with start_dovecot(
        "oauth-google-xoauth2", oauth2=validation, user_domain=DOMAIN
    ) as dovecot:
        user, _password = seeded_user(dovecot, 1)
        tokens = google_provider.grant(user)()
        reader = ImapReader(dovecot.config(user, token_source=tokens))

        items = list(reader.read(None))

        assert subjects(items) == ["Referral 0"]
        assert logins(dovecot, user)[-1] == "XOAUTH2"


def test_starttls_mechanism_from_new_capabilities(
    google_provider: GoogleProvider,
) -> None:
    # RFC 3501 section 6.2.1: capabilities from before STARTTLS are stale,
    # so the mechanism is chosen from a CAPABILITY reply after it.
    dovecot = google_provider.dovecot
    user, _password = seeded_user(dovecot, 1)
    config = dovecot.config(
        user,
        token_source=google_provider.grant(user)(),
        security="starttls",
        port=dovecot.port,
    )
    reader = ImapReader(config)

    items = list(reader.read(None))

    assert subjects(items) == ["Referral 0"]
    assert logins(dovecot, user)[-1] == "OAUTHBEARER"
    assert reader.commands[:3] == ["STARTTLS", "CAPABILITY", "AUTHENTICATE"]


def test_expired_access_token_refreshed(provider: Provider) -> None:
    dovecot = provider.dovecot
    user, password = seeded_user(dovecot, 1)
    tokens = provider.grant(user)
    first = ImapReader(dovecot.config(user, token_source=tokens()))
    list(first.read(None))
    with dovecot.client(user, password) as client:
        client.append("INBOX", message(1))
    # The server now rejects the token that the client still takes as valid.
    provider.expire_access_tokens()
    before = provider.token_requests()
    second = ImapReader(dovecot.config(user, token_source=tokens()))

    items = list(second.read(first.final_cursor))

    assert subjects(items) == ["Referral 1"]
    assert provider.token_requests() == before + 1
    assert "AUTHENTICATE" in second.commands


def test_stored_expired_token_refreshed_first(provider: Provider) -> None:
    dovecot = provider.dovecot
    user, _password = seeded_user(dovecot, 1)
    tokens = provider.grant(user)
    first = ImapReader(dovecot.config(user, token_source=tokens()))
    list(first.read(None))
    provider.expire_stored_token(user)
    before = provider.token_requests()
    logins_before = len(logins(dovecot, user))

    with capture_logs() as events:
        second = ImapReader(dovecot.config(user, token_source=tokens()))
        items = list(second.read(first.final_cursor))

    assert items == []
    assert provider.token_requests() == before + 1
    assert len(logins(dovecot, user)) == logins_before + 1
    rejected = [e for e in events if e["event"] == "imap access token rejected"]
    assert rejected == [], "the expired token was sent instead of refreshed"


def test_revoked_grant_needs_reauthorization(provider: Provider) -> None:
    dovecot = provider.dovecot
    user, _password = seeded_user(dovecot, 1)
    tokens = provider.grant(user)
    list(ImapReader(dovecot.config(user, token_source=tokens())).read(None))
    provider.revoke(user)
    reader = ImapReader(dovecot.config(user, token_source=tokens()))

    with pytest.raises(NeedsReauthorization) as raised:
        list(reader.read(None))

    assert "invalid_grant" in str(raised.value)


def test_tokens_never_logged(
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dovecot = provider.dovecot
    user, _password = seeded_user(dovecot, 1)
    tokens = provider.grant(user)
    caplog.set_level(logging.DEBUG)

    with capture_logs() as events:
        list(ImapReader(dovecot.config(user, token_source=tokens())).read(None))
        provider.expire_access_tokens()
        list(ImapReader(dovecot.config(user, token_source=tokens())).read(None))

    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, repr(events)]
    assert "REDACTED" in caplog.text
    issued = provider.issued_tokens()
    assert issued
    for token in issued:
        for text in texts:
            assert token not in text


def test_token_without_imap_scope_rejected(google_provider: GoogleProvider) -> None:
    dovecot = google_provider.dovecot
    user, _password = seeded_user(dovecot, 1)
    tokens = google_provider.grant(user, scopes=(METADATA_SCOPE,))()
    reader = ImapReader(dovecot.config(user, token_source=tokens))

    with pytest.raises(NeedsReauthorization) as raised:
        list(reader.read(None))

    message_text = str(raised.value)
    assert "AUTHENTICATIONFAILED" in message_text
    assert "newly refreshed access token was rejected too" in message_text
