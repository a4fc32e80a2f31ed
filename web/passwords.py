"""Password hashing with argon2id (argon2-cffi's default parameters, RFC 9106)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12


class PasswordError(ValueError):
    """A new password is too weak to be stored."""


class Passwords:
    """Hashes and verifies passwords; one instance per application."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    @functools.cached_property
    def _decoy_hash(self) -> str:
        # Verified against when the address is unknown, so that a sign-in
        # for a missing user costs as much time as one for a real user.
        return self._hasher.hash("decoy password never assigned")

    def hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise PasswordError(
                f"the password has {len(password)} characters; use at least "
                f"{MIN_PASSWORD_LENGTH}"
            )
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; a missing user (stored_hash None) never matches."""
        try:
            self._hasher.verify(stored_hash or self._decoy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def rehash(self, password: str) -> str:
        """Hash an accepted password again with the current parameters."""
        return self._hasher.hash(password)
