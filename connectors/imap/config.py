"""Settings of one IMAP account: server, credential, folders, limits."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, Protocol

Security = Literal["tls", "starttls"]
"""Connection encryption: implicit TLS (RFC 8314) or STARTTLS (RFC 3501)."""

DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143}


class AccessTokenSource(Protocol):
    """OAuth 2.0 access tokens of one grant, refreshed when they expire.

    `access_token` returns a token valid for some minutes more.  With
    `force_refresh` it requests a new one from the token endpoint, because
    the server rejected the last.  It raises NeedsReauthorization when the
    grant was revoked or expired, and TransientError when the token
    endpoint cannot be reached.
    """

    def access_token(self, force_refresh: bool = False) -> str: ...


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings of the reader and the IDLE watcher for transient errors.

    The delay before retry n (from 0) is `base_delay * 2**n`, capped at
    `max_delay`, times a random factor between 0.5 and 1.  A wait that the
    server requests, such as Exchange's "Suggested Backoff Time", is obeyed
    when it is at most `max_server_delay` seconds.  A longer one is raised
    as RateLimited, so that the account is paused and no worker blocks.
    After `max_attempts` failed attempts in a row without progress, the
    last error is raised.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_server_delay: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts is {self.max_attempts}; it must be >= 1")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ValueError(
                f"base_delay {self.base_delay} and max_delay {self.max_delay} "
                "must satisfy 0 <= base_delay <= max_delay"
            )


@dataclasses.dataclass(frozen=True, slots=True)
class ImapConfig:
    """One IMAP account.

    The credential is one of `password` (sent with LOGIN), `access_token`
    (a fixed OAuth 2.0 access token) or `token_source` (the tokens of a
    stored grant, refreshed as needed).  A token goes with `username` in
    AUTHENTICATE OAUTHBEARER (RFC 7628) when the server offers it, else in
    AUTHENTICATE XOAUTH2.  Credentials never appear in `repr()` or in logs.
    `folders` None means: on Gmail (capability X-GM-EXT-1) the folder with
    the SPECIAL-USE attribute \\All, elsewhere INBOX and the folders marked
    \\Sent (RFC 6154).  Timeouts are in seconds and always finite.
    """

    host: str
    username: str
    password: str | None = dataclasses.field(default=None, repr=False)
    access_token: str | None = dataclasses.field(default=None, repr=False)
    token_source: AccessTokenSource | None = dataclasses.field(default=None, repr=False)
    port: int | None = None
    security: Security = "tls"
    verify_certificates: bool = True
    ca_file: Path | None = None
    folders: tuple[str, ...] | None = None
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    chunk_size: int = 500
    # RFC 2177 section 3: servers may log a client out after 30 minutes of
    # inactivity, so IDLE is re-issued well before that.
    idle_renewal: float = 25 * 60.0
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        credentials = [self.password, self.access_token, self.token_source]
        if sum(value is not None for value in credentials) != 1:
            raise ValueError(
                f"IMAP account {self.username}@{self.host} needs exactly one "
                "credential: password, access_token or token_source"
            )
        if self.security not in DEFAULT_PORTS:
            raise ValueError(f"security is {self.security!r}; use 'tls' or 'starttls'")
        for name in ("connect_timeout", "read_timeout", "idle_renewal"):
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} is {value!r}; it must be finite and > 0")
        if not 0 < self.idle_renewal < 29 * 60:
            raise ValueError(
                f"idle_renewal is {self.idle_renewal} s; RFC 2177 needs IDLE "
                "re-issued within 29 minutes"
            )
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size is {self.chunk_size}; it must be >= 1")
        if self.folders is not None and not self.folders:
            raise ValueError("folders is empty; give folder names or None")

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

    @property
    def account_label(self) -> str:
        """The account as `user@host:port`, for error messages."""
        return f"{self.username}@{self.host}:{self.effective_port}"

    @property
    def log_label(self) -> str:
        """The account for logs, with the user name's local part masked."""
        local, at, domain = self.username.partition("@")
        return f"{local[:1]}***{at}{domain}@{self.host}:{self.effective_port}"
