"""A real Radicale CalDAV server on a loopback port, for connector tests.

`start_radicale` writes a configuration, an htpasswd file with plain-text
passwords and an empty storage folder into a fresh temporary directory,
and runs `python -m radicale` from the test's virtualenv with that
configuration only (no /etc/radicale or ~/.config/radicale is read).

Each test takes its own user from `add_user`.  Radicale reads the htpasswd
file at every login and lets a user see only their own collections, so
tests sharing one server never see each other's calendars.  `seeder`
returns a small client, built on http.client, that creates calendars and
puts and deletes events, so test data never goes through the code under
test.

The fixture `radicale` starts one server per test session (per xdist
worker) and stops it at the end.  `fresh_radicale` starts one for a single
test, for data whose meaning must not depend on what other tests stored.
Radicale 3.9 (with vobject 0.9.9) keeps every VTIMEZONE it has parsed in
one process-wide table.  It adds the definition from that table to a later
event whose TZID has no VTIMEZONE, whichever user stored the first one.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from connectors.caldav import CaldavConfig, CaldavTimeouts, RetryPolicy

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
# Retries in tests are fast, so a failing case fails in well under a second.
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05)
TEST_TIMEOUTS = CaldavTimeouts(connect=5.0, read=10.0)

_CONFIG = """\
[server]
hosts = {host}:{port}

[auth]
type = htpasswd
htpasswd_filename = {directory}/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {directory}/collections

[web]
type = none

[logging]
level = warning
mask_passwords = true
"""

_MKCALENDAR = """\
<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>{name}</D:displayname></D:prop></D:set>
</C:mkcalendar>
"""


@dataclasses.dataclass
class Seeder:
    """Creates calendars and events of one user straight over HTTP."""

    host: str
    port: int
    user: str
    password: str

    def make_calendar(self, name: str) -> str:
        """Create the calendar /user/name/ and return its path."""
        path = f"/{self.user}/{name}/"
        body = _MKCALENDAR.format(name=escape(name))
        self._request("MKCALENDAR", path, body.encode(), "application/xml", 201)
        return path

    def put(self, path: str, ics: str) -> str:
        """Store an event at `path` and return its new ETag."""
        response = self._request(
            "PUT", path, ics.encode("utf-8"), "text/calendar", 201, 204
        )
        return response.getheader("ETag") or ""

    def put_calendar(self, path: str, ics: str) -> None:
        """Create or replace the calendar at `path` with every event of `ics`.

        Radicale stores each UID as the object "<UID>.ics", percent-encoded.
        PUT on a collection is a Radicale extension, far faster than one PUT
        per event because Radicale updates its sync state once.
        """
        body = ics.encode("utf-8")
        # Radicale parses the whole calendar before it replies, which took
        # about 8 s for 2,000 events in benchmarks/bench_caldav.py (2 cores).
        self._request("PUT", path, body, "text/calendar", 201, 204, timeout=300)

    def delete(self, path: str) -> None:
        self._request("DELETE", path, b"", None, 200, 204)

    def _request(
        self,
        method: str,
        path: str,
        body: bytes,
        content_type: str | None,
        *expected: int,
        timeout: float = 10,
    ) -> http.client.HTTPResponse:
        credentials = base64.b64encode(f"{self.user}:{self.password}".encode())
        headers = {"Authorization": f"Basic {credentials.decode()}"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        if response.status not in expected:
            raise AssertionError(
                f"{method} {path} returned {response.status}, expected "
                f"{' or '.join(map(str, expected))}: {text[:500]}"
            )
        return response


@dataclasses.dataclass
class RadicaleServer:
    """A running Radicale; see the module docstring."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    host: str = HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def add_user(self, prefix: str = "user") -> tuple[str, str]:
        """Create a user with a random password and return (name, password)."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        with open(self.directory / "users", "a", encoding="ascii") as users:
            users.write(f"{name}:{password}\n")
        return name, password

    def seeder(self, user: str, password: str) -> Seeder:
        return Seeder(self.host, self.port, user, password)

    def config(self, user: str, password: str, **changes: Any) -> CaldavConfig:
        """A CaldavConfig for `user` on this server, with fast retries."""
        fields: dict[str, Any] = {
            "url": self.url,
            "username": user,
            "password": password,
            "timeouts": TEST_TIMEOUTS,
            "retry": FAST_RETRY,
        }
        fields.update(changes)
        return CaldavConfig(**fields)

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / "radicale.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_radicale(directory: Path) -> RadicaleServer:
    """Start Radicale with its files in `directory`; wait until it listens."""
    (directory / "collections").mkdir()
    (directory / "users").write_text("", encoding="ascii")
    port = _free_port()
    config = directory / "config"
    config.write_text(
        _CONFIG.format(host=HOST, port=port, directory=directory), encoding="utf-8"
    )
    with open(directory / "radicale.log", "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = RadicaleServer(directory, port, process)
    try:
        _wait_until_listening(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_listening(server: RadicaleServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"Radicale exited with status {server.process.returncode}:\n"
                f"{server.log_tail()}"
            )
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"Radicale did not listen on {server.host}:{server.port} within "
        f"{START_TIMEOUT} s:\n{server.log_tail()}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def fresh_radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    """A Radicale for one test; see the module docstring."""
    directory = tmp_path / "radicale"
    directory.mkdir()
    server = start_radicale(directory)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def radicale() -> Iterator[RadicaleServer]:
    """One Radicale for the test session; tests take users from `add_user`."""
    with tempfile.TemporaryDirectory(prefix="warmline-radicale-") as directory:
        server = start_radicale(Path(directory))
        try:
            yield server
        finally:
            server.stop()
