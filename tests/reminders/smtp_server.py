"""A real SMTP server (aiosmtpd) on a loopback port, for the digest tests.

The server requires STARTTLS before AUTH and MAIL, with a self-signed
certificate for 127.0.0.1 that the client trusts through its CA file, and
accepts one login.  It keeps every message it accepted in memory so a test
can read back what arrived.  Recipients in `rejected` get a 550 reply to
RCPT TO.  It runs on its own event loop in a thread, on a port the system
picks, so parallel test workers never collide.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import logging
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from reminders.mailer import SmtpConfig
from tests.emulators.microsoft.tls import write_certificate

HOST = "127.0.0.1"
USER = "digest-sender"
PASSWORD = "correct horse battery"
START_TIMEOUT = 10.0


@dataclasses.dataclass
class Inbox:
    """The aiosmtpd handler: stores each accepted message."""

    rejected: set[str] = dataclasses.field(default_factory=set)
    received: list[tuple[list[str], bytes]] = dataclasses.field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.rejected:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for _recipients, raw in self.received
        ]


@dataclasses.dataclass
class SmtpServer:
    port: int
    ca_file: Path
    inbox: Inbox

    def config(self, password: str = PASSWORD) -> SmtpConfig:
        return SmtpConfig(
            host=HOST,
            port=self.port,
            username=USER,
            password=password,
            ca_file=str(self.ca_file),
            timeout=5.0,
        )


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False makes aiosmtpd send the 535 reply itself on failure.
    return AuthResult(success=accepted, handled=False)


async def _close(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()


@contextmanager
def running_smtp_server(folder: Path, starttls: bool = True) -> Iterator[SmtpServer]:
    """Start the server; with `starttls` False it offers no STARTTLS at all."""
    # aiosmtpd 1.4.6 logs a deprecation warning about its own use of
    # Session.login_data at every login.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    certificate, key = write_certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    inbox = Inbox()

    def factory() -> SMTP:
        return SMTP(
            inbox,
            hostname="warmline-test-smtp",
            tls_context=context if starttls else None,
            require_starttls=starttls,
            authenticator=_authenticate,
            auth_required=starttls,
            auth_require_tls=starttls,
        )

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        server = asyncio.run_coroutine_threadsafe(
            loop.create_server(factory, HOST, 0), loop
        ).result(START_TIMEOUT)
        port = server.sockets[0].getsockname()[1]
        try:
            yield SmtpServer(port, certificate, inbox)
        finally:
            # asyncio objects are not thread-safe: close on the loop's thread.
            asyncio.run_coroutine_threadsafe(_close(server), loop).result(START_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
        loop.close()
