"""Account credentials, encrypted at rest with Fernet, and their per-account lock.

Keys come from WARMLINE_SECRET_KEYS (Fernet keys separated by ';', newest
first) or, when that is unset, from the key file WARMLINE_SECRET_KEY_FILE,
which is created with mode 0600 the first time a secret is stored.  Rotation:
put a new key first, keep the old ones after it, run `warmline secrets
rotate`, then drop the old keys.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["DatabaseCredentialStore", "Fernet", "SecretBox", "SecretKeyError"]
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from warmline.models import Account


class SecretKeyError(ValueError):
    """The configured keys are missing, malformed or cannot decrypt a secret."""


class SecretBox:
    """Encrypts with the first key and decrypts with any of them."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("no secret key configured; set WARMLINE_SECRET_KEYS")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as error:
            raise SecretKeyError(
                "a key in WARMLINE_SECRET_KEYS is not a Fernet key; make one with "
                "'warmline secrets new-key'"
            ) from error

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise SecretKeyError(
                "a stored credential cannot be decrypted with the configured keys; "
                "add the key it was stored with to WARMLINE_SECRET_KEYS"
            ) from error

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()


def load_secret_box(keys_setting: str, key_file: Path) -> SecretBox:
    """Build the box from the keys setting, else from (a new) key file."""
    if keys_setting.strip():
        keys = [key.strip().encode() for key in keys_setting.split(";") if key.strip()]
        return SecretBox(keys)
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return SecretBox([key_file.read_bytes().strip()])


def rotate_secrets(session: Session, box: SecretBox) -> int:
    """Re-encrypt every stored credential with the newest key; return the count."""
    accounts = session.scalars(select(Account).where(Account.secret.is_not(None)))
    count = 0
    for account in accounts:
        assert account.secret is not None
        account.secret = box.rotate(account.secret)
        count += 1
    return count


class DatabaseCredentialStore:
    """connectors.CredentialStore over the account row, encrypted with `box`."""

    def __init__(
        self, sessions: sessionmaker[Session], account_id: int, box: SecretBox
    ) -> None:
        self._sessions = sessions
        self._account_id = account_id
        self._box = box

    def load(self) -> str | None:
        with self._sessions() as session:
            token = session.get_one(Account, self._account_id).secret
        return None if token is None else self._box.decrypt(token)

    def save(self, value: str) -> None:
        with self._sessions.begin() as session:
            session.get_one(Account, self._account_id).secret = self._box.encrypt(value)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        engine = self._sessions.kw["bind"]
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                # A session-level advisory lock on a connection of its own:
                # it is held across the refresh and released on unlock.
                key = 0x57A8_0000 + self._account_id
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": key}
                    )
            return
        with _file_lock(_lock_path(str(engine.url), self._account_id)):
            yield


def _lock_path(database_url: str, account_id: int) -> Path:
    # SQLite means one machine, so a lock file per database and account in
    # the temporary folder serializes every process that shares the file.
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"warmline-{digest}-account-{account_id}.lock"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
