"""The settings table: every setting Warmline reads, with its default and help.

Two scopes exist.  Process settings come from the environment and are read
once, by `load_settings()` at start-up, never at import.  Workspace settings
are stored in the database per workspace and changed with
`warmline config set`.  docs/settings.md documents every row; a test checks
that the two agree.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Callable, Mapping
from typing import Any


class Scope(enum.StrEnum):
    PROCESS = "process"
    WORKSPACE = "workspace"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    scope: Scope
    default: Any
    unit: str
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env_var(self) -> str | None:
        if self.scope is Scope.WORKSPACE:
            return None
        return "WARMLINE_" + self.name.upper()


def _domain_list(text: str) -> list[str]:
    return sorted({part.strip().lower() for part in text.split(";") if part.strip()})


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive whole number")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{text!r} is not between 0 and 1")
    return value


def _subject_mode(text: str) -> str:
    value = text.strip().lower()
    if value == "drop":
        # The earlier name of "metadata", still accepted.
        return "metadata"
    if value not in {"metadata", "redact", "full"}:
        raise ValueError(f"{text!r} is not one of metadata, redact, full")
    return value


def _optional_months(text: str) -> int | None:
    value = text.strip().lower()
    if value in {"", "none", "keep"}:
        return None
    try:
        months = int(value)
    except ValueError:
        months = 0
    if months <= 0:
        raise ValueError(f"{text!r} is not a positive number of months or 'none'")
    return months


def _hour_of_day(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 23:
        raise ValueError(f"{text!r} is not an hour from 0 to 23")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        Scope.PROCESS,
        "sqlite:///warmline.db",
        "SQLAlchemy URL",
        "Database to use; the default is a SQLite file in the working directory.",
    ),
    Setting(
        "log_level",
        Scope.PROCESS,
        "WARNING",
        "level name",
        "Lowest level of log events written to standard error.",
    ),
    Setting(
        "batch_size",
        Scope.PROCESS,
        500,
        "items",
        "Items committed together during a sync; the cursor moves per batch.",
        _positive_int,
    ),
    Setting(
        "secret_keys",
        Scope.PROCESS,
        "",
        "Fernet keys separated by ';'",
        "Keys that encrypt stored credentials, newest first; older keys only "
        "decrypt. When empty, the key in secret_key_file is used.",
    ),
    Setting(
        "secret_key_file",
        Scope.PROCESS,
        "warmline.key",
        "path",
        "Key file made with mode 0600 on first use when secret_keys is empty.",
    ),
    Setting(
        "own_domains",
        Scope.WORKSPACE,
        [],
        "domains separated by ';'",
        "The workspace's own mail domains: mail among them is internal, and "
        "they never count as a referral source's domain.",
        _domain_list,
    ),
    Setting(
        "blocklist",
        Scope.WORKSPACE,
        [],
        "addresses or domains separated by ';'",
        "Activities with any participant at these addresses or domains are "
        "dropped before they are stored.",
        _domain_list,
    ),
    Setting(
        "subject_mode",
        Scope.WORKSPACE,
        "metadata",
        "metadata, redact or full",
        "What an activity keeps of its subject: nothing (metadata only), the "
        "subject with patient identifiers redacted, or the subject as written. "
        "'drop' is read as metadata.",
        _subject_mode,
    ),
    Setting(
        "default_cadence_days",
        Scope.WORKSPACE,
        30,
        "days",
        "Cadence of a source whose import gives none.",
        _positive_int,
    ),
    Setting(
        "confirm_threshold",
        Scope.WORKSPACE,
        0.85,
        "confidence 0 to 1",
        "Links at or above this confidence are confirmed.",
        _fraction,
    ),
    Setting(
        "review_threshold",
        Scope.WORKSPACE,
        0.5,
        "confidence 0 to 1",
        "Links at or above this confidence and below the confirm threshold "
        "wait for review; lower ones are not stored.",
        _fraction,
    ),
    Setting(
        "suggest_window_days",
        Scope.WORKSPACE,
        90,
        "days",
        "Unmatched correspondents with activity in this many past days are "
        "considered for `warmline sources suggest`; older ones drop out.",
        _positive_int,
    ),
    Setting(
        "suggest_min_activities",
        Scope.WORKSPACE,
        3,
        "activities",
        "A domain is suggested as a new practice once this many unmatched "
        "activities in the window involve it.",
        _positive_int,
    ),
    Setting(
        "loop_close_days",
        Scope.WORKSPACE,
        14,
        "days",
        "Days after a referral within which an outbound email to its practice "
        "should report back (closing the loop); after that the loop is overdue.",
        _positive_int,
    ),
    Setting(
        "learned_cadence_min_days",
        Scope.WORKSPACE,
        6,
        "days with a touch",
        "A source with no cadence of its own or of its practice takes the median "
        "gap between its touches of the last year as cadence once it was touched "
        "on this many days of that year.",
        _positive_int,
    ),
    Setting(
        "drift_ratio",
        Scope.WORKSPACE,
        0.5,
        "fraction 0 to 1",
        "A source's referrals drift when those of the last 90 days fall below "
        "this fraction of the number its previous 12 months predict.",
        _fraction,
    ),
    Setting(
        "drift_min_expected",
        Scope.WORKSPACE,
        3,
        "referrals per 90 days",
        "Sources whose previous 12 months predict fewer referrals than this in "
        "90 days are never flagged for drift.",
        _positive_int,
    ),
    Setting(
        "stale_sync_hours",
        Scope.WORKSPACE,
        24,
        "hours",
        "A connected mailbox or calendar not synced for this long is listed in "
        "its owner's digest as stopped syncing; imported files are exempt.",
        _positive_int,
    ),
    Setting(
        "smtp_host",
        Scope.WORKSPACE,
        "",
        "host name",
        "SMTP server that sends the digests; it must offer STARTTLS.",
    ),
    Setting(
        "smtp_port",
        Scope.WORKSPACE,
        587,
        "port",
        "Port of the SMTP server, where the session starts in plain text and "
        "switches to TLS with STARTTLS.",
        _positive_int,
    ),
    Setting(
        "smtp_user",
        Scope.WORKSPACE,
        "",
        "login name",
        "Login on the SMTP server, with the password in WARMLINE_SMTP_PASSWORD or "
        "stored by 'warmline secrets set-smtp-password'; empty: no login.",
    ),
    Setting(
        "smtp_ca_file",
        Scope.WORKSPACE,
        "",
        "path",
        "PEM file of a private CA that signed the SMTP server's certificate; "
        "empty: the system's CAs.",
    ),
    Setting(
        "digest_sender",
        Scope.WORKSPACE,
        "",
        "email address",
        "From address of the daily digests.",
    ),
    Setting(
        "retention_months",
        Scope.WORKSPACE,
        None,
        "months, or none",
        "Activities and touchpoints older than this are deleted by "
        "'warmline retention apply', keeping monthly counts per source; "
        "none keeps everything.",
        _optional_months,
    ),
    Setting(
        "web_session_key",
        Scope.PROCESS,
        "",
        "secret text",
        "Key that signs the review site's session cookies. When empty, the key "
        "in web_session_key_file is used.",
    ),
    Setting(
        "web_session_key_file",
        Scope.PROCESS,
        "warmline-web.key",
        "path",
        "Key file made with mode 0600 on first use when web_session_key is empty.",
    ),
    Setting(
        "web_session_hours",
        Scope.PROCESS,
        12,
        "hours",
        "A review site session ends this long after sign-in.",
        _positive_int,
    ),
    Setting(
        "web_login_max_failures",
        Scope.PROCESS,
        5,
        "failed sign-ins",
        "Failed sign-ins allowed per address and per client within "
        "web_login_window_minutes; later attempts are rejected until the window "
        "passes.",
        _positive_int,
    ),
    Setting(
        "web_login_window_minutes",
        Scope.PROCESS,
        15,
        "minutes",
        "Period over which failed sign-ins are counted.",
        _positive_int,
    ),
    Setting(
        "web_upload_max_bytes",
        Scope.PROCESS,
        2_000_000,
        "bytes",
        "Largest referral sources CSV the review site accepts.",
        _positive_int,
    ),
    Setting(
        "broker_url",
        Scope.PROCESS,
        "",
        "Celery broker URL",
        "Message broker of 'warmline worker' and 'warmline beat', such as "
        "redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//. "
        "Empty: both commands exit with an error; other commands ignore it.",
    ),
    Setting(
        "result_backend",
        Scope.PROCESS,
        "",
        "Celery result backend URL",
        "Where task results are stored, such as redis://127.0.0.1:6379/1. "
        "Empty: results are not stored, and the tasks need none.",
    ),
    Setting(
        "task_queue",
        Scope.PROCESS,
        "warmline",
        "queue name",
        "Broker queue that the tasks are sent to and the workers read; each "
        "deployment that shares a broker needs its own. On Redis it also "
        "prefixes every key of the broker and the result backend.",
    ),
    Setting(
        "lease_seconds",
        Scope.PROCESS,
        120,
        "seconds",
        "Lifetime of an account's sync lease. The worker renews it every third "
        "of this while the sync runs, so the sync of a worker that died is "
        "taken over after at most this long.",
        _positive_int,
    ),
    Setting(
        "task_max_attempts",
        Scope.PROCESS,
        5,
        "attempts",
        "Consecutive failed attempts of an account's sync (transient errors, "
        "database errors, lost workers) before it is parked: the account's "
        "status becomes error and last_error says why.",
        _positive_int,
    ),
    Setting(
        "retry_backoff_seconds",
        Scope.PROCESS,
        30,
        "seconds",
        "Delay before the first retry of a failed task; each further retry "
        "doubles it, and a random jitter of up to the delay itself is added.",
        _positive_int,
    ),
    Setting(
        "retry_backoff_max_seconds",
        Scope.PROCESS,
        1800,
        "seconds",
        "Maximum delay before a retry, jitter included, unless a provider's "
        "Retry-After asks for longer.",
        _positive_int,
    ),
    Setting(
        "sync_interval_minutes",
        Scope.PROCESS,
        5,
        "minutes",
        "How often 'warmline beat' has each active account synced; each account "
        "gets a fixed offset within the interval, so the syncs are spread out.",
        _positive_int,
    ),
    Setting(
        "sync_time_limit_seconds",
        Scope.PROCESS,
        3600,
        "seconds",
        "Time after which a worker stops one sync; the batches committed so far "
        "are kept and the next sync resumes from the cursor.",
        _positive_int,
    ),
    Setting(
        "broker_visibility_timeout_seconds",
        Scope.PROCESS,
        3600,
        "seconds",
        "Redis broker only: time after which a task that a worker took but never "
        "acknowledged, because the worker died, is delivered again.",
        _positive_int,
    ),
    Setting(
        "reminders_hour",
        Scope.PROCESS,
        6,
        "hour 0 to 23, UTC",
        "Hour at which 'warmline beat' runs the reminder pass of every workspace "
        "each day.",
        _hour_of_day,
    ),
    Setting(
        "digest_hour",
        Scope.PROCESS,
        7,
        "hour 0 to 23, local time",
        "Hour at which 'warmline beat' sends each staff member's digest, in the "
        "staff member's own time zone.",
        _hour_of_day,
    ),
)

BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}


class SettingError(ValueError):
    """A setting's name or value is invalid."""


@dataclasses.dataclass(frozen=True)
class ProcessSettings:
    database_url: str
    log_level: str
    batch_size: int
    secret_keys: str
    secret_key_file: str
    broker_url: str
    result_backend: str
    task_queue: str
    lease_seconds: int
    task_max_attempts: int
    retry_backoff_seconds: int
    retry_backoff_max_seconds: int
    sync_interval_minutes: int
    sync_time_limit_seconds: int
    broker_visibility_timeout_seconds: int
    reminders_hour: int
    digest_hour: int
    web_session_key: str = ""
    web_session_key_file: str = "warmline-web.key"
    web_session_hours: int = 12
    web_login_max_failures: int = 5
    web_login_window_minutes: int = 15
    web_upload_max_bytes: int = 2_000_000


def parse_setting(name: str, text: str) -> Any:
    """Parse `text` as the value of setting `name`, or raise SettingError."""
    setting = BY_NAME.get(name)
    if setting is None:
        known = ", ".join(sorted(BY_NAME))
        raise SettingError(f"unknown setting {name!r}; known settings: {known}")
    try:
        return setting.parse(text)
    except ValueError as error:
        raise SettingError(f"invalid value for {name}: {error}") from error


def load_settings(environ: Mapping[str, str] | None = None) -> ProcessSettings:
    """Read the process settings from the environment, falling back to defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.scope is not Scope.PROCESS:
            continue
        assert setting.env_var is not None
        raw = environ.get(setting.env_var)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise SettingError(
                f"invalid {setting.env_var}={raw!r}: {error}; expected {setting.unit}"
            ) from error
    return ProcessSettings(**values)
