"""Helpers for tests that drive the Outlook connectors against the emulator.

- `follow_sign_in` plays the browser: it opens the authorization URL and
  submits the emulator's auto-post form (or follows its redirect) to the
  redirect URI.
- `MemoryCredentialStore` is a CredentialStore in memory with a real lock.
- `loopback_only` makes any connection to a non-loopback address fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import re
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.microsoft import (
    AuthorizationCodeFlow,
    DelegatedTokenSource,
    GraphClient,
    GraphConfig,
    delegated_scopes,
)
from tests.emulators.microsoft.server import GraphEmulator

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
_FORM = re.compile(r'<form method="POST" action="([^"]+)">(.*)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"/>')
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def follow_sign_in(auth_uri: str, ca_file: str) -> httpx.Response:
    """Open `auth_uri` as a browser would and deliver the code to the redirect URI."""
    context = ssl.create_default_context(cafile=ca_file)
    with httpx.Client(verify=context, trust_env=False) as browser:
        page = browser.get(auth_uri)
        if page.status_code == 302:
            return browser.get(page.headers["location"])
        match = _FORM.search(page.text)
        if match is None:
            raise AssertionError(
                f"the sign-in page has no form: {page.status_code} {page.text[:200]}"
            )
        fields = {
            html.unescape(k): html.unescape(v)
            for k, v in _INPUT.findall(match.group(2))
        }
        return browser.post(html.unescape(match.group(1)), data=fields)


def redirect_params(auth_uri: str, ca_file: str) -> dict[str, str]:
    """Return the authorization response the emulator sends for `auth_uri`."""
    context = ssl.create_default_context(cafile=ca_file)
    with httpx.Client(verify=context, trust_env=False) as browser:
        page = browser.get(auth_uri)
    if page.status_code == 302:
        query = urllib.parse.urlsplit(page.headers["location"]).query
        return dict(urllib.parse.parse_qsl(query))
    match = _FORM.search(page.text)
    assert match is not None, page.text
    return {
        html.unescape(k): html.unescape(v) for k, v in _INPUT.findall(match.group(2))
    }


class MemoryCredentialStore:
    """A CredentialStore kept in memory; `saves` counts writes."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value
        self.saves = 0
        self._lock = threading.RLock()

    def load(self) -> str | None:
        return self.value

    def save(self, value: str) -> None:
        self.value = value
        self.saves += 1

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield


def config_for(emulator: GraphEmulator, **overrides: Any) -> GraphConfig:
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "authority_host": emulator.base_url,
        "graph_url": emulator.graph_url,
        "ca_file": str(emulator.ca_file),
        "page_size": 10,
    }
    values.update(overrides)
    return GraphConfig(**values)


@dataclasses.dataclass
class SignedIn:
    username: str
    store: MemoryCredentialStore
    config: GraphConfig

    def tokens(self) -> DelegatedTokenSource:
        return DelegatedTokenSource(
            self.config, self.store, self.username, delegated_scopes()
        )

    def client(self, clock: Any = None, **overrides: Any) -> GraphClient:
        config = (
            dataclasses.replace(self.config, **overrides) if overrides else self.config
        )
        return GraphClient(config, self.tokens(), self.username, clock=clock)


def sign_in(emulator: GraphEmulator, upn: str, **overrides: Any) -> SignedIn:
    """Run the delegated auth-code flow for `upn` and keep its cache in memory."""
    config = config_for(emulator, **overrides)
    flow = AuthorizationCodeFlow(
        config, delegated_scopes(), "http://localhost:8400", login_hint=upn
    )
    authorization = flow.complete(redirect_params(flow.auth_uri, str(emulator.ca_file)))
    return SignedIn(
        authorization.username, MemoryCredentialStore(authorization.token_cache), config
    )


class LoopbackGuard:
    """Records, and refuses, look-ups and connections beyond loopback."""

    def __init__(self) -> None:
        self.refused: list[Any] = []
        self._connect = socket.socket.connect
        self._getaddrinfo = socket.getaddrinfo

    def install(self, monkeypatch: Any) -> None:
        guard = self

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name is not None and name not in LOOPBACK_HOSTS:
                guard.refused.append(name)
                raise socket.gaierror(f"test refused a look-up of {name!r}")
            return guard._getaddrinfo(host, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> Any:
            host = address[0] if isinstance(address, tuple) else address
            if (
                sock.family in (socket.AF_INET, socket.AF_INET6)
                and host not in LOOPBACK_HOSTS
            ):
                guard.refused.append(address)
                raise ConnectionRefusedError(
                    f"test refused a connection to {address!r}"
                )
            return guard._connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
