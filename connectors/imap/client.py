"""A logged-in IMAP session over imapclient, with errors translated.

Every call into imapclient, imaplib, ssl and socket happens in this module,
inside `_translated`, so callers see only connectors.errors.

imapclient 4.1 logs each command to the `imapclient.imaplib` logger at
DEBUG level.  Its logging adapter replaces the rest of a LOGIN or
AUTHENTICATE line with "**REDACTED**".  The XOAUTH2 and OAUTHBEARER
responses go out as continuations, which imaplib logs only by their
size.  This module logs no credential, and a test checks the DEBUG log of
both mechanisms.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import imaplib
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

import structlog
from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imapclient_errors
from imapclient.imap_utf7 import decode as decode_utf7

from connectors.errors import NeedsReauthorization, SourceUnavailable
from connectors.imap.config import ImapConfig
from connectors.imap.errors import TRANSLATED, login_error, translate
from connectors.mail import MAX_HEADER_BLOCK_BYTES

logger = structlog.get_logger(__name__)

# BODY.PEEK leaves \Seen alone (RFC 3501 section 6.4.5), and the partial
# range caps what a garbled header block can cost.
HEADER_ITEM = f"BODY.PEEK[HEADER]<0.{MAX_HEADER_BLOCK_BYTES}>"
HEADER_KEY = b"BODY[HEADER]<0>"
FETCH_ITEMS = ("UID", "FLAGS", "INTERNALDATE", HEADER_ITEM)
# Gmail's IMAP extensions, signalled by the capability X-GM-EXT-1
# (developers.google.com/gmail/imap/imap-extensions).
GMAIL_FETCH_ITEMS = ("X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS")


@dataclasses.dataclass(frozen=True, slots=True)
class FolderInfo:
    """One LIST reply: the decoded folder name and its attributes."""

    name: str
    attributes: frozenset[str]

    @property
    def selectable(self) -> bool:
        return not self.attributes & {"\\NOSELECT", "\\NONEXISTENT"}


@dataclasses.dataclass(frozen=True, slots=True)
class MailboxStatus:
    """Folder status from an EXAMINE reply."""

    exists: int
    uidvalidity: int
    uidnext: int | None
    highestmodseq: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message of a UID FETCH reply."""

    uid: int
    header: bytes
    internal_date: dt.datetime | None
    flags: frozenset[str]
    gm_msgid: int | None = None
    gm_thrid: int | None = None
    gm_labels: tuple[str, ...] = ()


class ImapSession:
    """One connection to the account's server, logged in.

    `commands` lists the IMAP commands this session made, in order, for
    tests and benchmarks.  CAPABILITY is listed even when imapclient
    returns the capabilities that the server sent with its login reply.
    `mechanism` is the last one tried: LOGIN, XOAUTH2 or OAUTHBEARER.
    """

    def __init__(self, config: ImapConfig, client: IMAPClient) -> None:
        self.config = config
        self._client = client
        self.commands: list[str] = []
        self.capabilities: frozenset[str] = frozenset()
        self.condstore = False
        self.qresync = False
        self.mechanism: str | None = None

    @classmethod
    def open(cls, config: ImapConfig) -> ImapSession:
        """Connect, secure the connection, log in and ENABLE extensions."""
        context = f"connecting to {config.log_label}"
        ssl_context = _ssl_context(config)
        with _translated(context):
            client = IMAPClient(
                config.host,
                port=config.effective_port,
                ssl=config.security == "tls",
                ssl_context=ssl_context,
                timeout=SocketTimeout(config.connect_timeout, config.read_timeout),
            )
        session = cls(config, client)
        try:
            session._start(ssl_context)
        except BaseException:
            session.close()
            raise
        return session

    def _start(self, ssl_context: ssl.SSLContext) -> None:
        config = self.config
        if config.security == "starttls":
            self._run("STARTTLS", self._starttls, ssl_context)
        self._login()
        # Without this imapclient turns INTERNALDATE into a naive datetime
        # in this host's time zone; with it the value keeps its offset.
        self._client.normalise_times = False
        self.capabilities = frozenset(
            c.decode("ascii", "replace")
            for c in self._run("CAPABILITY", self._client.capabilities)
        )
        self._enable_extensions()

    def _starttls(self, ssl_context: ssl.SSLContext) -> None:
        try:
            self._client.starttls(ssl_context)
        except imapclient_errors.CapabilityError as error:
            raise SourceUnavailable(
                f"{self.config.account_label} does not offer STARTTLS; "
                "use security='tls' with the server's TLS port"
            ) from error

    def _login(self) -> None:
        config = self.config
        if config.password is not None:
            self._authenticate("LOGIN", config.password)
            return
        mechanism = self._token_mechanism()
        if config.token_source is None:
            self._authenticate(mechanism, config.access_token or "")
            return
        token = config.token_source.access_token()
        try:
            self._authenticate(mechanism, token)
        except NeedsReauthorization:
            # A token can be refused before its expiry, after a password
            # change or a revoked session, so one fresh token is tried.
            logger.info("imap access token rejected", account=config.log_label)
            token = config.token_source.access_token(force_refresh=True)
            self._authenticate(mechanism, token, refreshed=True)

    def _token_mechanism(self) -> str:
        """Choose OAUTHBEARER (RFC 7628) when offered, else XOAUTH2."""
        imap: Any = self._client._imap
        if self.config.security == "starttls":
            # RFC 3501 section 6.2.1: capabilities sent before STARTTLS are
            # not to be trusted after it, so CAPABILITY is sent again.
            _status, data = self._run("CAPABILITY", imap.capability)
            reply = data[-1] if data and data[-1] else b""
            names = reply.decode("ascii", "replace").split()
        else:
            names = list(imap.capabilities)
        offered = {name.upper() for name in names}
        return "OAUTHBEARER" if "AUTH=OAUTHBEARER" in offered else "XOAUTH2"

    def _authenticate(
        self, mechanism: str, secret: str, refreshed: bool = False
    ) -> None:
        config = self.config
        if mechanism == "LOGIN":
            command, call = "LOGIN", self._client.login
        elif mechanism == "OAUTHBEARER":
            command, call = "AUTHENTICATE OAUTHBEARER", self._client.oauthbearer_login
        else:
            command, call = "AUTHENTICATE XOAUTH2", self._client.oauth2_login
        self.commands.append(command.split()[0])
        self.mechanism = mechanism
        with _translated(f"{command} to {config.account_label}"):
            try:
                call(config.username, secret)
            except imapclient_errors.LoginError as error:
                raise login_error(
                    str(error), config.account_label, command, refreshed=refreshed
                ) from error

    def _enable_extensions(self) -> None:
        # RFC 7162: ENABLE QRESYNC turns CONDSTORE on too.  ENABLE must come
        # before the first SELECT or EXAMINE, or the server sends no
        # HIGHESTMODSEQ.  It depends on the CAPABILITY list, because some
        # servers send HIGHESTMODSEQ without supporting CHANGEDSINCE.
        if "ENABLE" not in self.capabilities:
            return
        offered = [c for c in ("QRESYNC", "CONDSTORE") if c in self.capabilities]
        if not offered:
            return
        enabled = self._run("ENABLE", self._client.enable, offered[0])
        names = {name.decode("ascii", "replace").upper() for name in enabled}
        self.qresync = "QRESYNC" in names
        self.condstore = self.qresync or "CONDSTORE" in names

    @property
    def gmail(self) -> bool:
        return "X-GM-EXT-1" in self.capabilities

    def list_folders(self) -> list[FolderInfo]:
        replies = self._run("LIST", self._client.list_folders)
        return [
            FolderInfo(
                name=str(name),
                attributes=frozenset(
                    flag.decode("ascii", "replace").upper() for flag in flags
                ),
            )
            for flags, _delimiter, name in replies
        ]

    def examine(self, folder: str) -> MailboxStatus:
        """Select `folder` read-only, so that nothing in it changes."""
        reply = self._run("EXAMINE", self._client.select_folder, folder, True)
        modseq = reply.get(b"HIGHESTMODSEQ") if self.condstore else None
        if b"UIDVALIDITY" not in reply:
            # RFC 3501 section 6.3.1 requires it; without it no stored UID
            # can be trusted from one session to the next.
            raise SourceUnavailable(
                f"{self.config.account_label} sent no UIDVALIDITY for folder "
                f"{folder!r}, so its UIDs cannot be tracked; leave it out of "
                "the account's folders"
            )
        return MailboxStatus(
            exists=int(reply[b"EXISTS"]),
            uidvalidity=int(reply[b"UIDVALIDITY"]),
            uidnext=reply.get(b"UIDNEXT"),
            highestmodseq=modseq,
        )

    def search_uids(self, first: int, last: int | None = None) -> list[int]:
        """Return the UIDs from `first` to `last` (or to the end), ascending.

        RFC 3501 section 6.4.8: "N:*" always matches the highest UID, even
        one below N, so the reply is filtered to the range asked for.
        """
        upper = "*" if last is None else str(last)
        found = self._run(
            "UID SEARCH", self._client.search, ["UID", f"{first}:{upper}"]
        )
        return sorted(
            uid for uid in found if uid >= first and (last is None or uid <= last)
        )

    def fetch_headers(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """Fetch header blocks, flags and INTERNALDATE, in UID order."""
        items = list(FETCH_ITEMS)
        if self.gmail:
            items.extend(GMAIL_FETCH_ITEMS)
        reply = self._run("UID FETCH", self._client.fetch, list(uids), items)
        return [_fetched_message(uid, reply[uid]) for uid in sorted(reply)]

    def vanished_since(self, last_uid: int, modseq: int) -> list[int]:
        """Return UIDs up to `last_uid` expunged since mod-sequence `modseq`.

        Uses the VANISHED modifier of UID FETCH (RFC 7162).  imapclient
        cannot send a UID range to fetch() and drops VANISHED replies, so
        imaplib's connection object, `_imap`, is used directly.
        """
        imap: Any = self._client._imap

        def command() -> list[int]:
            imap.untagged_responses.pop("VANISHED", None)
            modifier = f"(CHANGEDSINCE {modseq} VANISHED)"
            status, data = imap.uid("FETCH", f"1:{last_uid}", "(UID)", modifier)
            if status != "OK":
                raise imaplib.IMAP4.error(f"UID FETCH VANISHED failed: {data!r}")
            imap.untagged_responses.pop("FETCH", None)
            replies = imap.untagged_responses.pop("VANISHED", [])
            return _vanished_uids(replies)

        uids: list[int] = self._run("UID FETCH", command)
        return uids

    def idle(self) -> None:
        self._run("IDLE", self._client.idle)

    def idle_check(self, timeout: float) -> list[Any]:
        return list(self._run(None, self._client.idle_check, timeout))

    def idle_done(self) -> list[Any]:
        """End IDLE; return the replies that came after the last check."""
        _text, replies = self._run("DONE", self._client.idle_done)
        return list(replies)

    def close(self) -> None:
        """Log out, or drop the connection when LOGOUT fails."""
        try:
            self._client.logout()
        except (*TRANSLATED, imaplib.IMAP4.error):
            with contextlib.suppress(*TRANSLATED):
                self._client.shutdown()

    def _run(self, command: str | None, call: Any, *args: Any) -> Any:
        if command is not None:
            self.commands.append(command)
        with _translated(f"{command or 'IDLE'} on {self.config.log_label}"):
            return call(*args)


@contextlib.contextmanager
def _translated(context: str) -> Iterator[None]:
    try:
        yield
    except TRANSLATED as error:
        raise translate(error, context) from error


def _ssl_context(config: ImapConfig) -> ssl.SSLContext:
    ca_file = str(config.ca_file) if config.ca_file is not None else None
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise SourceUnavailable(
            f"CA file {ca_file} for {config.account_label} cannot be read ({error}); "
            "check the path and that it holds PEM certificates"
        ) from error
    if not config.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _fetched_message(uid: int, data: dict[bytes, Any]) -> FetchedMessage:
    internal_date = data.get(b"INTERNALDATE")
    if isinstance(internal_date, dt.datetime) and internal_date.utcoffset() is None:
        internal_date = (
            None  # RFC 3501 requires a zone; a server that omits one is not trusted
        )
    labels = data.get(b"X-GM-LABELS") or ()
    return FetchedMessage(
        uid=uid,
        header=bytes(data.get(HEADER_KEY) or data.get(b"BODY[HEADER]") or b""),
        internal_date=internal_date,
        flags=frozenset(
            flag.decode("ascii", "replace").upper() for flag in data.get(b"FLAGS", ())
        ),
        gm_msgid=data.get(b"X-GM-MSGID"),
        gm_thrid=data.get(b"X-GM-THRID"),
        gm_labels=tuple(decode_utf7(label) for label in labels),
    )


def _vanished_uids(replies: Sequence[bytes | str]) -> list[int]:
    """Read `* VANISHED (EARLIER) 41,43:45` replies into a list of UIDs."""
    uids: list[int] = []
    for reply in replies:
        text = reply.decode("ascii") if isinstance(reply, bytes) else reply
        text = text.strip()
        if text.upper().startswith("(EARLIER)"):
            text = text[len("(EARLIER)") :].strip()
        for part in filter(None, text.split(",")):
            low, _, high = part.partition(":")
            first, last = int(low), int(high or low)
            uids.extend(range(min(first, last), max(first, last) + 1))
    return sorted(set(uids))
