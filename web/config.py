"""The review site's configuration, built from the process settings at start-up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from warmline.models import utcnow
from warmline.settings import ProcessSettings

Clock = Callable[[], dt.datetime]


@dataclasses.dataclass(frozen=True)
class WebConfig:
    """Everything the site reads from settings, resolved once by create_app."""

    database_url: str
    session_key: bytes
    session_lifetime: dt.timedelta
    login_max_failures: int
    login_window: dt.timedelta
    upload_max_bytes: int
    digest_hour: int
    """Local hour of the daily digests; the settings page shows it."""
    clock: Clock = utcnow


def load_session_key(key: str, key_file: Path) -> bytes:
    """Return the cookie-signing key, creating the key file when it is needed."""
    if key.strip():
        return key.strip().encode()
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text(encoding="ascii").strip().encode()


def web_config(settings: ProcessSettings, clock: Clock = utcnow) -> WebConfig:
    return WebConfig(
        database_url=settings.database_url,
        session_key=load_session_key(
            settings.web_session_key, Path(settings.web_session_key_file)
        ),
        session_lifetime=dt.timedelta(hours=settings.web_session_hours),
        login_max_failures=settings.web_login_max_failures,
        login_window=dt.timedelta(minutes=settings.web_login_window_minutes),
        upload_max_bytes=settings.web_upload_max_bytes,
        digest_hour=settings.digest_hour,
        clock=clock,
    )
