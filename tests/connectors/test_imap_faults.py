"""ImapReader under faults: dropped connections and throttling replies.

Two loopback proxies stand between the reader and Dovecot.  `CuttingProxy`
forwards the TLS bytes untouched and closes a connection after a set number
of server bytes.  `ThrottlingProxy` ends TLS itself, reads the reader's
commands, and replies to chosen UID FETCH commands or greetings with the
refusals that Exchange Online and Gmail send, which Dovecot never sends.
It can also rewrite the server's reply lines, to play servers whose
HIGHESTMODSEQ replies Dovecot does not send.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from connectors.errors import RateLimited, TransientError
from connectors.imap import ImapReader, RetryPolicy, watch
from connectors.records import Item, ScopeListed
from tests.servers.dovecot import HOST, DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from tests.servers.dovecot import (
    dovecot_without_condstore as dovecot_without_condstore,  # noqa: F401
)

RECEIVED_HEADER = "Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
FETCH_COMMAND = re.compile(rb"^(\S+) UID FETCH (\S+) ")
OPEN_COMMAND = re.compile(rb"^\S+ (?:EXAMINE|SELECT) \"?([^\"\s]+)", re.IGNORECASE)
ServerLineRewrite = Callable[[bytes, bytes | None], bytes]
"""Takes a server reply line and the folder last opened; returns the new line."""


def message(number: int) -> bytes:
    padding = "".join(f"X-Trace-{i}: {'x' * 60}\r\n" for i in range(10))
    return (
        f"From: Ana Diaz <ana@lakeside-fm.example>\r\n"
        f"To: sam.ortiz@brookside-pt.example\r\n"
        f"{RECEIVED_HEADER}"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <m{number}@lakeside-fm.example>\r\n"
        f"{padding}"
        f"\r\n"
        f"Patient letter {number}.\r\n"
    ).encode()


def seeded_user(server: DovecotServer, count: int) -> tuple[str, str]:
    user = server.add_user()
    with server.client(*user) as client:
        for number in range(count):
            client.append("INBOX", message(number))
    return user


def message_keys(items: Sequence[Item]) -> list[str]:
    return [item.provider_key for item in items if not isinstance(item, ScopeListed)]


class _Proxy:
    """Accepts loopback connections and relays each one in its own thread."""

    def __init__(self) -> None:
        self.listener = socket.create_server((HOST, 0))
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            index = self.connections
            self.connections += 1
            thread = threading.Thread(
                target=self._serve_quietly, args=(client, index), daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _serve_quietly(self, client: socket.socket, index: int) -> None:
        # A connection that the reader or the proxy broke ends its thread
        # quietly; pytest would turn the exception into a failing warning.
        with contextlib.suppress(OSError):
            self._serve(client, index)

    def _serve(self, client: socket.socket, index: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stopped.set()
        self.listener.close()
        self._acceptor.join(2)
        for thread in self._threads:
            thread.join(2)


def _relay(
    client: socket.socket,
    upstream: socket.socket,
    stopped: threading.Event,
    server_limit: int | None = None,
    on_client_data: object = None,
    on_server_data: Callable[[bytes], None] | None = None,
) -> int:
    """Copy bytes both ways until a side closes; return the server bytes sent.

    With `server_limit`, only that many server bytes reach the client and
    then both connections are closed, as a network failure would.
    """
    sent = 0
    sockets = [client, upstream]
    while not stopped.is_set():
        ready: list[socket.socket] = [
            s for s in sockets if isinstance(s, ssl.SSLSocket) and s.pending()
        ]
        if not ready:
            ready, _, _ = select.select(sockets, [], [], 0.05)
        for source in ready:
            try:
                data = source.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                return sent
            if not data:
                return sent
            if source is upstream and on_server_data is not None:
                on_server_data(data)
            elif source is upstream:
                if server_limit is not None and sent + len(data) >= server_limit:
                    client.sendall(data[: server_limit - sent])
                    return server_limit
                client.sendall(data)
                sent += len(data)
            elif callable(on_client_data):
                on_client_data(data)
            else:
                upstream.sendall(data)
    return sent


class CuttingProxy(_Proxy):
    """Forwards TCP to Dovecot's TLS port; cuts chosen connections short."""

    def __init__(
        self, upstream_port: int, cut_after: dict[int, int] | None = None
    ) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after or {}
        self.server_bytes: list[int] = []
        self._open: list[socket.socket] = []
        super().__init__()

    def _serve(self, client: socket.socket, index: int) -> None:
        with client, socket.create_connection((HOST, self.upstream_port)) as upstream:
            self._open.append(client)
            sent = _relay(client, upstream, self._stopped, self.cut_after.get(index))
            self.server_bytes.append(sent)

    def drop(self) -> None:
        """Break every open connection, as a network failure would."""
        for client in self._open:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


class ThrottlingProxy(_Proxy):
    """Ends TLS, forwards commands, and refuses chosen ones.

    `refusals` maps the number of a UID FETCH command (1 for the first, over
    all connections) to the reply text sent in place of the server's.
    `bye_connections` get a BYE greeting instead of Dovecot's.  `rewrite`
    replaces each reply line of the server.  `commands` lists the reader's
    command lines.
    """

    def __init__(
        self,
        server: DovecotServer,
        refusals: dict[int, bytes] | None = None,
        bye_connections: Sequence[int] = (),
        rewrite: ServerLineRewrite | None = None,
    ) -> None:
        self.server = server
        self.refusals = refusals or {}
        self.bye_connections = set(bye_connections)
        self.rewrite = rewrite
        self.commands: list[bytes] = []
        self.fetches: list[tuple[int, bytes, bool]] = []
        self._lock = threading.Lock()
        self._server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_context.load_cert_chain(
            server.certificates.server_cert, server.certificates.server_key
        )
        self._client_context = ssl.create_default_context(cafile=str(server.ca_file))
        super().__init__()

    def _serve(self, raw_client: socket.socket, index: int) -> None:
        try:
            client = self._server_context.wrap_socket(raw_client, server_side=True)
        except (ssl.SSLError, OSError):
            raw_client.close()
            return
        with client:
            if index in self.bye_connections:
                client.sendall(
                    b"* BYE [ALERT] Too many simultaneous connections. (Failure)\r\n"
                )
                return
            upstream_raw = socket.create_connection((HOST, self.server.tls_port))
            with self._client_context.wrap_socket(
                upstream_raw, server_hostname=HOST
            ) as upstream:
                pending = bytearray()
                replies = bytearray()
                opened: list[bytes | None] = [None]

                def on_client_data(data: bytes) -> None:
                    pending.extend(data)
                    while b"\r\n" in pending:
                        line, _, rest = bytes(pending).partition(b"\r\n")
                        pending[:] = rest
                        folder = OPEN_COMMAND.match(line)
                        if folder is not None:
                            opened[0] = folder.group(1)
                        self._forward_line(line, client, upstream, index)

                def on_server_data(data: bytes) -> None:
                    assert self.rewrite is not None
                    replies.extend(data)
                    while b"\r\n" in replies:
                        line, _, rest = bytes(replies).partition(b"\r\n")
                        replies[:] = rest
                        client.sendall(self.rewrite(line, opened[0]) + b"\r\n")

                _relay(
                    client,
                    upstream,
                    self._stopped,
                    on_client_data=on_client_data,
                    on_server_data=on_server_data if self.rewrite else None,
                )

    def _forward_line(
        self, line: bytes, client: ssl.SSLSocket, upstream: ssl.SSLSocket, index: int
    ) -> None:
        self.commands.append(line)
        match = FETCH_COMMAND.match(line)
        if match:
            with self._lock:
                number = sum(1 for _ in self.fetches) + 1
                refusal = self.refusals.get(number)
                self.fetches.append((index, match.group(2), refusal is not None))
            if refusal is not None:
                client.sendall(match.group(1) + b" " + refusal + b"\r\n")
                return
        upstream.sendall(line + b"\r\n")


@pytest.fixture
def recorded_sleeps() -> Iterator[list[float]]:
    yield []


def sleeper(record: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        record.append(seconds)
        time.sleep(seconds)

    return sleep


# Dropped connections


def test_dropped_connection_resumes_without_loss(dovecot: DovecotServer) -> None:
    user = seeded_user(dovecot, 30)
    counting = CuttingProxy(dovecot.tls_port)
    try:
        full = list(
            ImapReader(
                dovecot.config(
                    *user, folders=("INBOX",), chunk_size=5, port=counting.port
                )
            ).read(None)
        )
    finally:
        counting.close()
    cutting = CuttingProxy(
        dovecot.tls_port, cut_after={0: counting.server_bytes[0] // 2}
    )
    reader = ImapReader(
        dovecot.config(*user, folders=("INBOX",), chunk_size=5, port=cutting.port)
    )

    try:
        items = list(reader.read(None))
    finally:
        cutting.close()

    keys = message_keys(items)
    assert keys == message_keys(full)
    assert len(keys) == len(set(keys)) == 30
    assert cutting.connections == 2
    assert reader.commands.count("LOGIN") == 2
    second_session = reader.commands[reader.commands.index("LOGIN", 1) :]
    assert 0 < second_session.count("UID FETCH") < 6, (
        "the resumed session refetched everything"
    )


def test_dropped_connection_retries_are_bounded(dovecot: DovecotServer) -> None:
    user = seeded_user(dovecot, 1)
    attempts = 3
    proxy = CuttingProxy(dovecot.tls_port, cut_after={i: 100 for i in range(10)})
    retry = RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.02)
    reader = ImapReader(dovecot.config(*user, port=proxy.port, retry=retry))

    try:
        with pytest.raises(TransientError, match="connecting to"):
            list(reader.read(None))
    finally:
        proxy.close()

    assert proxy.connections == attempts


# Throttling (C17)


def test_exchange_throttling_waits_and_resumes(
    dovecot: DovecotServer, recorded_sleeps: list[float]
) -> None:
    user = seeded_user(dovecot, 9)
    refusal = b"NO Request is throttled. Suggested Backoff Time: 300 milliseconds"
    proxy = ThrottlingProxy(dovecot, refusals={2: refusal})
    config = dovecot.config(*user, folders=("INBOX",), chunk_size=3, port=proxy.port)
    reader = ImapReader(config, sleep=sleeper(recorded_sleeps))

    try:
        items = list(reader.read(None))
    finally:
        proxy.close()

    keys = message_keys(items)
    assert len(keys) == len(set(keys)) == 9
    assert len(recorded_sleeps) == 1
    assert recorded_sleeps[0] >= 0.3
    fetched = [(uids, refused) for _, uids, refused in proxy.fetches]
    assert fetched[1] == (b"4,5,6", True)
    assert fetched[2] == (b"4,5,6", False), "the refused chunk was not fetched again"
    assert fetched[0] == (b"1,2,3", False)
    assert all(uids != b"1,2,3" for uids, _ in fetched[1:]), (
        "resumed before the last chunk"
    )


def test_gmail_throttled_reply_backs_off(
    dovecot: DovecotServer, recorded_sleeps: list[float]
) -> None:
    user = seeded_user(dovecot, 4)
    proxy = ThrottlingProxy(
        dovecot, refusals={1: b"NO [THROTTLED] Account throttled (Failure)"}
    )
    config = dovecot.config(*user, folders=("INBOX",), port=proxy.port)
    reader = ImapReader(config, sleep=sleeper(recorded_sleeps))

    try:
        items = list(reader.read(None))
    finally:
        proxy.close()

    assert len(message_keys(items)) == 4
    assert len(recorded_sleeps) == 1
    assert 0 < recorded_sleeps[0] <= config.retry.max_delay


def test_connection_limit_bye_backs_off(
    dovecot: DovecotServer, recorded_sleeps: list[float]
) -> None:
    user = seeded_user(dovecot, 2)
    proxy = ThrottlingProxy(dovecot, bye_connections=[0])
    reader = ImapReader(
        dovecot.config(*user, folders=("INBOX",), port=proxy.port),
        sleep=sleeper(recorded_sleeps),
    )

    try:
        items = list(reader.read(None))
    finally:
        proxy.close()

    assert len(message_keys(items)) == 2
    assert proxy.connections == 2
    assert len(recorded_sleeps) == 1


def test_bandwidth_lockout_pauses_account(
    dovecot: DovecotServer, recorded_sleeps: list[float]
) -> None:
    user = seeded_user(dovecot, 6)
    lockout = b"NO [ALERT] Account exceeded command or bandwidth limits. (Failure)"
    proxy = ThrottlingProxy(dovecot, refusals={2: lockout})
    config = dovecot.config(*user, folders=("INBOX",), chunk_size=3)
    reader = ImapReader(
        dovecot.config(*user, folders=("INBOX",), chunk_size=3, port=proxy.port),
        sleep=sleeper(recorded_sleeps),
    )
    seen: list[Item] = []

    try:
        with pytest.raises(RateLimited) as raised:
            for item in reader.read(None):
                seen.append(item)
    finally:
        proxy.close()
    rest = list(ImapReader(config).read(seen[-1].position))

    assert raised.value.retry_after == 3600
    assert recorded_sleeps == []
    keys = message_keys(seen) + message_keys(rest)
    assert len(keys) == len(set(keys)) == 6


# HIGHESTMODSEQ replies Dovecot does not send


def test_highestmodseq_without_condstore_ignored(
    dovecot_without_condstore: DovecotServer,
) -> None:
    # Yahoo sends HIGHESTMODSEQ without offering CONDSTORE; CHANGEDSINCE
    # would then fail, so the capability decides, not the reply.
    server = dovecot_without_condstore
    user = seeded_user(server, 4)

    injected: list[bytes] = []

    def add_modseq(line: bytes, _folder: bytes | None) -> bytes:
        if line.startswith(b"* OK [UIDVALIDITY "):
            injected.append(line)
            return line + b"\r\n* OK [HIGHESTMODSEQ 88214] Highest"
        return line

    proxy = ThrottlingProxy(server, rewrite=add_modseq)
    config = server.config(*user, folders=("INBOX",), port=proxy.port)
    reader = ImapReader(config)
    try:
        list(reader.read(None))
        with server.client(*user) as client:
            client.select_folder("INBOX")
            client.delete_messages([2])
            client.uid_expunge([2])
        items = list(reader.read(reader.final_cursor))
    finally:
        proxy.close()

    assert len(injected) == 2, "the proxy added HIGHESTMODSEQ to each EXAMINE"
    assert message_keys(items) == [items[0].provider_key]
    assert items[0].provider_key.endswith(":2")
    assert not any(b"CHANGEDSINCE" in line.upper() for line in proxy.commands)
    assert not any(b" ENABLE " in line.upper() for line in proxy.commands)
    assert reader.final_cursor is not None
    assert '"highestmodseq": null' in reader.final_cursor


def test_highestmodseq_zero_empty_folder_skipped(dovecot: DovecotServer) -> None:
    # Purelymail reported HIGHESTMODSEQ 0 for an empty mailbox; stored as 0,
    # it must not look changed on the next poll.
    user = seeded_user(dovecot, 2)

    def zero_for_sent(line: bytes, folder: bytes | None) -> bytes:
        if folder == b"Sent":
            return re.sub(rb"\[HIGHESTMODSEQ \d+\]", b"[HIGHESTMODSEQ 0]", line)
        return line

    proxy = ThrottlingProxy(dovecot, rewrite=zero_for_sent)
    config = dovecot.config(*user, folders=("INBOX", "Sent"), port=proxy.port)
    reader = ImapReader(config)
    try:
        first = list(reader.read(None))
        assert reader.final_cursor is not None
        sent_state = json.loads(reader.final_cursor)["folders"]["Sent"]
        again = list(reader.read(reader.final_cursor))
    finally:
        proxy.close()

    assert len(message_keys(first)) == 2
    assert sent_state["highestmodseq"] == 0
    assert again == []
    assert reader.commands == [
        "LOGIN",
        "CAPABILITY",
        "ENABLE",
        "LIST",
        "EXAMINE",
        "EXAMINE",
    ]


# IDLE


def test_watch_reconnects_after_drop(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    proxy = CuttingProxy(dovecot.tls_port)
    config = dovecot.config(*user, port=proxy.port, idle_renewal=5.0)
    stop = threading.Event()
    calls: list[str] = []
    thread = threading.Thread(
        target=watch,
        args=(config, calls.append, stop),
        kwargs={"poll_interval": 0.1},
    )
    thread.start()
    try:
        assert _wait_for(lambda: proxy.connections == 1)
        assert _wait_for(lambda: len(calls) == 1), "no call on connecting"
        time.sleep(0.5)
        proxy.drop()
        assert _wait_for(lambda: proxy.connections == 2), "watch did not reconnect"
        # The reconnection reads what may have arrived while it was down.
        assert _wait_for(lambda: len(calls) == 2), "no call on reconnecting"
        time.sleep(0.5)
        with dovecot.client(*user) as client:
            client.append("INBOX", message(1))
        assert _wait_for(lambda: len(calls) == 3), "no change after reconnection"
    finally:
        stop.set()
        thread.join(5)
        proxy.close()

    assert not thread.is_alive()


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
