"""Helpers that connect the Google readers to a running emulator in tests."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import urllib.request
import webbrowser
from collections.abc import Iterator
from typing import Any

import pytest

from connectors import Item
from connectors.google import (
    GmailReader,
    GoogleCalendarReader,
    GoogleSettings,
    RetrySettings,
    StoredCredentials,
    requested_scopes,
)
from tests.emulators.google.server import DEFAULT_USER, GoogleEmulator

FAST_RETRY = RetrySettings(
    max_attempts=4, base_delay=0.01, max_delay=0.05, retry_after_jitter=0.01
)


class MemoryCredentialStore:
    """connectors.CredentialStore in memory, counting saves."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value
        self.saves = 0
        self._lock = threading.Lock()

    def load(self) -> str | None:
        return self.value

    def save(self, value: str) -> None:
        self.value = value
        self.saves += 1

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield


class RecordingSleep:
    """A sleep that records each delay and waits only a sliver of it."""

    def __init__(self, scale: float = 0.0) -> None:
        self.delays: list[float] = []
        self.scale = scale
        self._event = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.scale:
            self._event.wait(seconds * self.scale)


def settings_for(emulator: GoogleEmulator, **changes: object) -> GoogleSettings:
    """Return connector settings aimed at `emulator`, with fast retries."""
    base = GoogleSettings(retry=FAST_RETRY).with_endpoint(emulator.url)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def grant_store(
    emulator: GoogleEmulator, email: str = DEFAULT_USER, follow_ups: bool = False
) -> MemoryCredentialStore:
    """Return a store holding a fresh grant of `email` from the emulator."""
    info = emulator.authorized_user_info(email, requested_scopes(follow_ups))
    return MemoryCredentialStore(json.dumps(info))


def gmail_reader(
    emulator: GoogleEmulator,
    store: MemoryCredentialStore | None = None,
    sleep: RecordingSleep | None = None,
    **changes: object,
) -> GmailReader:
    settings = settings_for(emulator, **changes)
    store = store or grant_store(emulator)
    return GmailReader(
        lambda: StoredCredentials.from_store(store, settings.token_uri),
        settings,
        sleep=sleep or RecordingSleep(),
    )


def calendar_reader(
    emulator: GoogleEmulator,
    store: MemoryCredentialStore | None = None,
    sleep: RecordingSleep | None = None,
    **options: object,
) -> GoogleCalendarReader:
    settings = settings_for(emulator)
    store = store or grant_store(emulator)
    return GoogleCalendarReader(
        lambda: StoredCredentials.from_store(store, settings.token_uri),
        settings,
        sleep=sleep or RecordingSleep(),
        **options,  # type: ignore[arg-type]
    )


def read_all(
    reader: GmailReader | GoogleCalendarReader, cursor: str | None
) -> list[Item]:
    return list(reader.read(cursor))


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class LoopbackOnly:
    """Refuses, and records, name look-ups and connections beyond loopback.

    Installed for a test, it proves that nothing (google-auth's token
    endpoint, a discovery document, a metadata server) leaves the machine.
    """

    def __init__(self) -> None:
        self.refused: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and str(host) not in LOOPBACK:
                self.refused.append(str(host))
                raise socket.gaierror(socket.EAI_NONAME, f"{host} is not loopback")
            return real_getaddrinfo(host, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> None:
            if isinstance(address, tuple) and str(address[0]) not in LOOPBACK:
                self.refused.append(str(address[0]))
                raise ConnectionRefusedError(f"{address[0]} is not loopback")
            real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)


class FollowingBrowser(webbrowser.BaseBrowser):
    """A "browser" that follows the authorization URL with urllib.

    The emulator's authorization endpoint consents at once and redirects
    to the flow's loopback server, which urllib follows.  The request runs
    in a thread, because the flow starts serving only after it opened the
    browser.
    """

    def __init__(self) -> None:
        super().__init__("warmline-following-browser")
        self.visited: list[str] = []
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        # No proxy from the environment may see the authorization code.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.visited.append(url)
        thread = threading.Thread(target=self._follow, args=(url,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return True

    def wait(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)

    def _follow(self, url: str) -> None:
        try:
            with self._opener.open(url, timeout=10) as response:
                response.read()
        except OSError as error:
            self.errors.append(error)
