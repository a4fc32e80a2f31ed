"""A real Dovecot IMAP server on loopback ports, for connector tests.

`start_dovecot` writes a configuration into a fresh temporary directory and
runs `dovecot -F` from it, so nothing of the system's Dovecot service is
used.  Dovecot runs as the user running the tests.  Under root it runs as
`nobody` instead, because Dovecot refuses to run its login and mail
processes as root.  TLS uses a private CA made with `cryptography`, so the
tests connect with certificate verification on through `ca_file`.

Each test takes its own user from `add_user`, so tests sharing one server
never see each other's mail.  The users are written to the passwd-file
before Dovecot starts, because Dovecot 2.3.19 rejected users appended to
that file while it ran.

The fixtures `dovecot` and `dovecot_without_condstore` start one server
per test session (per xdist worker); the second one hides CONDSTORE and
QRESYNC from its CAPABILITY replies.

With `oauth2=OAuth2Validation(...)`, Dovecot's oauth2 passdb (in Debian's
dovecot-core 2.3) checks the bearer tokens of AUTHENTICATE XOAUTH2 and
OAUTHBEARER at a token-info or introspection URL, which the tests point at
a loopback endpoint of the Google or Microsoft emulator.  Passwords still
work with LOGIN and PLAIN, for seeding mailboxes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import grp
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

from connectors.imap import ImapConfig, RetryPolicy

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
USER_POOL = 300
# The post-login CAPABILITY list of Dovecot 2.3.19 (Debian 12), without
# CONDSTORE and QRESYNC.
CAPABILITIES_WITHOUT_CONDSTORE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
    "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND "
    "URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
    "I18NLEVEL=1 ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "
    "BINARY MOVE LITERAL+ SPECIAL-USE"
)
# Retries in tests are fast, so a failing case fails in seconds.
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2)

_CONFIG = """\
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = warmline-test-{name}
log_path = {directory}/dovecot.log
protocols = imap
listen = {host}
ssl = required
ssl_cert = <{directory}/server.pem
ssl_key = <{directory}/server.key
ssl_min_protocol = TLSv1.2
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
auth_mechanisms = plain login {oauth_mechanisms}
auth_failure_delay = 0
mail_fsync = never
mail_location = maildir:~/Maildir
{passdbs}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # Mode 0 turns off the auth penalty, which delays every login from an
  # address that failed before by up to 15 seconds.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
{imap_settings}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
"""


_PASSWD_FILE_PASSDB = """\
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {directory}/passwd
{mechanisms}}}
"""
_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = {mechanisms}
  args = {directory}/dovecot-oauth2.conf.ext
}}
"""


@dataclasses.dataclass(frozen=True)
class OAuth2Validation:
    """How Dovecot's oauth2 passdb checks a bearer token.

    `tokeninfo_url` gets the token appended and is fetched with GET, as
    Google's tokeninfo endpoint expects.  `introspection_url` is sent the
    token as `introspection_mode` sets: "post" is RFC 7662 (form field
    `token`), "auth" a GET with an Authorization header.  The response's
    `username_attribute` must equal the user name of the login.  When
    `active_attribute` is set, the response must contain it with
    `active_value`.  A non-empty `scope` must be among the token's scopes
    (the reply's space-separated `scope`).  `ca_file` is the CA that
    Dovecot trusts for an https endpoint.  `mechanisms` are the SASL
    mechanisms offered for tokens.
    """

    tokeninfo_url: str = ""
    introspection_url: str = ""
    introspection_mode: str = "post"
    username_attribute: str = "email"
    active_attribute: str = ""
    active_value: str = ""
    scope: str = ""
    ca_file: Path | None = None
    mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer")

    def settings(self, ca_copy: Path | None) -> str:
        """Return the passdb's args file (dovecot-oauth2.conf.ext)."""
        lines = [
            f"username_attribute = {self.username_attribute}",
            "timeout_msecs = 5000",
        ]
        if self.tokeninfo_url:
            lines.append(f"tokeninfo_url = {self.tokeninfo_url}")
        if self.introspection_url:
            lines.append(f"introspection_url = {self.introspection_url}")
            lines.append(f"introspection_mode = {self.introspection_mode}")
        if self.active_attribute:
            lines.append(f"active_attribute = {self.active_attribute}")
            lines.append(f"active_value = {self.active_value}")
            # Dovecot's oauth2 passdb documentation (2.3) asks for
            # force_introspection together with active_attribute.
            lines.append("force_introspection = yes")
        if self.scope:
            lines.append(f"scope = {self.scope}")
        if ca_copy is not None:
            lines.append(f"tls_ca_cert_file = {ca_copy}")
        return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class Certificates:
    """A private CA, a server certificate it signed, and an unrelated CA."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    other_ca_file: Path


@dataclasses.dataclass
class DovecotServer:
    """A running Dovecot; see the module docstring."""

    directory: Path
    port: int
    tls_port: int
    certificates: Certificates
    process: subprocess.Popen[bytes]
    run_as: pwd.struct_passwd
    users: list[tuple[str, str]]
    host: str = HOST

    @property
    def ca_file(self) -> Path:
        return self.certificates.ca_file

    def add_user(self) -> tuple[str, str]:
        """Return (name, password) of a user no other test has had."""
        if not self.users:
            raise RuntimeError(f"all {USER_POOL} test users of this Dovecot are taken")
        return self.users.pop(0)

    def config(
        self, user: str, password: str | None = None, **changes: Any
    ) -> ImapConfig:
        """An ImapConfig for `user` over implicit TLS, verified by the test CA."""
        fields: dict[str, Any] = {
            "host": self.host,
            "port": self.tls_port,
            "username": user,
            "password": password,
            "ca_file": self.ca_file,
            "connect_timeout": 5.0,
            "read_timeout": 10.0,
            "retry": FAST_RETRY,
        }
        fields.update(changes)
        return ImapConfig(**fields)

    @contextlib.contextmanager
    def client(self, user: str, password: str) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection for seeding mailboxes."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = IMAPClient(self.host, self.tls_port, ssl_context=context, timeout=10)
        try:
            client.login(user, password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def maildir(self, user: str) -> Path:
        return self.directory / "home" / user / "Maildir"

    def give_to_server(self, path: Path) -> None:
        """Make files written by the tests owned by Dovecot's user."""
        if os.geteuid() != 0:
            return
        for root, directories, files in os.walk(path):
            for name in [root, *(os.path.join(root, n) for n in directories + files)]:
                os.chown(name, self.run_as.pw_uid, self.run_as.pw_gid)
        os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / "dovecot.log"
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


def make_certificates(directory: Path) -> Certificates:
    """Write a CA, a server certificate for 127.0.0.1 and localhost, and a
    second CA that signed nothing, as PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(
        "Warmline test CA", ca_key, ca_key.public_key(), None, now, is_ca=True
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate(
        "localhost", ca_key, server_key.public_key(), ca_cert, now, is_ca=False
    )
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = _certificate(
        "Unrelated CA", other_key, other_key.public_key(), None, now, is_ca=True
    )

    paths = Certificates(
        ca_file=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        other_ca_file=directory / "other-ca.pem",
    )

    pem = serialization.Encoding.PEM
    paths.ca_file.write_bytes(ca_cert.public_bytes(pem))
    paths.server_cert.write_bytes(server_cert.public_bytes(pem))
    paths.server_key.write_bytes(
        server_key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths.other_ca_file.write_bytes(other_ca.public_bytes(pem))
    return paths


def _certificate(
    common_name: str,
    signing_key: ec.EllipticCurvePrivateKey,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate | None,
    now: dt.datetime,
    is_ca: bool,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        assert issuer is not None
        builder = (
            builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address(HOST)),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    signing_key.public_key()
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False,
            )
        )
    return builder.sign(signing_key, hashes.SHA256())


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin")
    if found is None:
        pytest.fail(
            "dovecot is not installed; run .ci/install-test-servers "
            "(Debian package dovecot-imapd)"
        )
    return found


@contextlib.contextmanager
def start_dovecot(
    name: str,
    *,
    condstore: bool = True,
    oauth2: OAuth2Validation | None = None,
    user_domain: str | None = None,
) -> Iterator[DovecotServer]:
    """Run a Dovecot from a temporary directory until the block ends.

    `user_domain` makes the test users' names addresses in that domain,
    which a token-info reply can name.
    """
    binary = dovecot_binary()
    run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
    directory = Path(tempfile.mkdtemp(prefix=f"warmline-dovecot-{name}-"))
    try:
        for sub in ("run", "state", "home"):
            (directory / sub).mkdir()
        certificates = make_certificates(directory)
        suffix = f"@{user_domain}" if user_domain else ""
        users = [
            (f"user{number}-{secrets.token_hex(3)}{suffix}", secrets.token_urlsafe(16))
            for number in range(USER_POOL)
        ]
        (directory / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in users)
        )
        port, tls_port = free_port(), free_port()
        imap_settings = (
            "" if condstore else f"  imap_capability = {CAPABILITIES_WITHOUT_CONDSTORE}"
        )
        config = _CONFIG.format(
            directory=directory,
            name=f"{name}-{os.getpid()}",
            host=HOST,
            user=run_as.pw_name,
            group=_group_name(run_as.pw_gid),
            uid=run_as.pw_uid,
            gid=run_as.pw_gid,
            port=port,
            tls_port=tls_port,
            imap_settings=imap_settings,
            **_auth_settings(directory, oauth2),
        )
        (directory / "dovecot.conf").write_text(config)
        server = _launch(binary, directory, port, tls_port, certificates, run_as, users)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _auth_settings(directory: Path, oauth2: OAuth2Validation | None) -> dict[str, str]:
    """Return the auth mechanisms and passdb blocks, writing the oauth2 args file."""
    if oauth2 is None:
        # Without a token validator, XOAUTH2 checks the token as the
        # password of the passwd-file.
        return {
            "oauth_mechanisms": "xoauth2",
            "passdbs": _PASSWD_FILE_PASSDB.format(directory=directory, mechanisms=""),
        }
    ca_copy = None
    if oauth2.ca_file is not None:
        # Dovecot's auth process runs as the test user (the `nobody` account under root),
        # which may not read the caller's temporary directory.
        ca_copy = directory / "oauth2-ca.pem"
        shutil.copyfile(oauth2.ca_file, ca_copy)
    (directory / "dovecot-oauth2.conf.ext").write_text(oauth2.settings(ca_copy))
    mechanisms = " ".join(oauth2.mechanisms)
    passdbs = _OAUTH2_PASSDB.format(
        directory=directory, mechanisms=mechanisms
    ) + _PASSWD_FILE_PASSDB.format(
        directory=directory, mechanisms="  mechanisms = plain login\n"
    )
    return {"oauth_mechanisms": mechanisms, "passdbs": passdbs}


def _launch(
    binary: str,
    directory: Path,
    port: int,
    tls_port: int,
    certificates: Certificates,
    run_as: pwd.struct_passwd,
    users: list[tuple[str, str]],
) -> DovecotServer:
    as_root = os.geteuid() == 0
    if as_root:
        for root, directories, files in os.walk(directory):
            for entry in [root, *(os.path.join(root, n) for n in directories + files)]:
                os.chown(entry, run_as.pw_uid, run_as.pw_gid)
    # The child keeps its own copy of the log file's descriptor.
    with open(directory / "stdout.log", "wb") as output:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(directory / "dovecot.conf")],
            stdout=output,
            stderr=subprocess.STDOUT,
            user=run_as.pw_uid if as_root else None,
            group=run_as.pw_gid if as_root else None,
            extra_groups=[] if as_root else None,
            start_new_session=True,
        )
    server = DovecotServer(
        directory, port, tls_port, certificates, process, run_as, users
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not (_accepts(port) and _accepts(tls_port)):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            startup = (directory / "stdout.log").read_text(errors="replace")
            raise RuntimeError(
                f"Dovecot did not start on {HOST}:{port}/{tls_port}: "
                f"{startup}\n{server.log_tail()}"
            )
        time.sleep(0.05)
    return server


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot with CONDSTORE and QRESYNC, shared by the session."""
    with start_dovecot("main") as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_without_condstore() -> Iterator[DovecotServer]:
    """A Dovecot whose CAPABILITY lists neither CONDSTORE nor QRESYNC."""
    with start_dovecot("plain", condstore=False) as server:
        yield server
