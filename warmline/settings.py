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
import re
import zoneinfo
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


_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*$")


def _domain_list(text: str) -> list[str]:
    parts = sorted({part.strip().lower() for part in text.split(";") if part.strip()})
    for part in parts:
        if not _DOMAIN.match(part):
            raise ValueError(f"{part!r} is not a domain such as example.com")
    return parts


def _address_or_domain_list(text: str) -> list[str]:
    parts = sorted({part.strip().lower() for part in text.split(";") if part.strip()})
    for part in parts:
        local, at, domain = part.rpartition("@")
        if not _DOMAIN.match(domain) or (at and not local):
            raise ValueError(
                f"{part!r} is neither an address such as name@example.com nor "
                "a domain such as example.com"
            )
    return parts


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError(f"{text!r} is not a port from 1 to 65535")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive whole number")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
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


def _digest_transport(text: str) -> str:
    value = text.strip().lower()
    if value not in {"smtp", "connector"}:
        raise ValueError(f"{text!r} is not one of smtp, connector")
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
    value = _whole_number(text)
    if not 0 <= value <= 23:
        raise ValueError(f"{text!r} is not an hour from 0 to 23")
    return value


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in {"true", "yes", "1"}:
        return True
    if value in {"false", "no", "0"}:
        return False
    raise ValueError(f"{text!r} is not true or false")


SIGN_IN_PROVIDERS = ("google", "microsoft")


def _sign_in_providers(text: str) -> list[str]:
    names = sorted({part.strip().lower() for part in text.split(";") if part.strip()})
    unknown = [name for name in names if name not in SIGN_IN_PROVIDERS]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a sign-in provider; use "
            f"{' or '.join(SIGN_IN_PROVIDERS)}, separated by ';'"
        )
    return names


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"{text!r} is not a positive number of seconds")
    return value


def _http_url(text: str) -> str:
    value = text.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{text!r} is not an http:// or https:// URL")
    return value


def _optional_http_url(text: str) -> str:
    """Parse an http(s) URL, or '' to turn off the feature that uses it."""
    return _http_url(text) if text.strip() else ""


def _id_list(text: str) -> tuple[str, ...]:
    values = tuple(part.strip() for part in text.split(";") if part.strip())
    if not values:
        raise ValueError(f"{text!r} names no id")
    return values


def _gmail_quota(text: str) -> str:
    value = text.strip().lower()
    if value not in {"legacy", "2026"}:
        raise ValueError(f"{text!r} is not one of legacy, 2026")
    return value


def _gmail_batch_calls(text: str) -> int:
    value = _positive_int(text)
    if value > 100:
        raise ValueError(f"{text!r} is over 100, the most calls Gmail takes per batch")
    return value


def _share(text: str) -> float:
    value = _fraction(text)
    if value == 0.0:
        raise ValueError(f"{text!r} is not above 0")
    return value


def _method_units(text: str) -> tuple[tuple[str, int], ...]:
    """Parse "users.messages.get=20; users.history.list=2" into (method, units)."""
    pairs = []
    for part in text.split(";"):
        if not part.strip():
            continue
        method, equals, units = part.partition("=")
        method = method.strip()
        if not equals or not method.startswith("users."):
            raise ValueError(
                f"{part.strip()!r} is not METHOD=UNITS with a Gmail method such "
                "as users.messages.get=20"
            )
        pairs.append((method, _positive_int(units.strip())))
    return tuple(sorted(dict(pairs).items()))


def _optional_positive_int(text: str) -> int | None:
    if text.strip() == "":
        return None
    return _positive_int(text)


def _time_zone(text: str) -> str:
    value = text.strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{text!r} is not an IANA time zone such as America/Los_Angeles"
        ) from None
    return value


def _quarter_hour_time(text: str) -> str:
    """Parse HH:MM on a quarter hour, or '' for none; return it as HH:MM."""
    value = text.strip()
    if not value:
        return ""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match is None or int(match[1]) > 23 or int(match[2]) not in (0, 15, 30, 45):
        raise ValueError(
            f"{text!r} is not a time on the quarter hour such as 07:00 or 07:30"
        )
    return f"{int(match[1]):02d}:{match[2]}"


def _working_hours(text: str) -> str:
    from reminders.slots import WorkingHours

    WorkingHours.parse(text)
    return " ".join(text.split()).lower()


GOOGLE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "google_client_secrets_file",
        Scope.PROCESS,
        "",
        "path",
        "JSON file of the Desktop app OAuth client that 'warmline accounts "
        "connect google' signs staff members in with.",
    ),
    Setting(
        "google_web_client_secrets_file",
        Scope.PROCESS,
        "",
        "path",
        "JSON file of the Web application OAuth client that the review site "
        "uses for Google sign-in and for connecting Google accounts; empty: the "
        "site offers neither.",
    ),
    Setting(
        "google_service_account_file",
        Scope.PROCESS,
        "",
        "path",
        "JSON key of the service account that reads mailboxes and calendars "
        "with domain-wide delegation (connect google --service-account).",
    ),
    Setting(
        "google_api_root",
        Scope.PROCESS,
        "",
        "URL",
        "Root URL that every Gmail, Calendar and token request goes to instead "
        "of Google's, such as a local emulator; empty: Google's endpoints.",
        _http_url,
    ),
    Setting(
        "google_quota",
        Scope.PROCESS,
        "legacy",
        "legacy or 2026",
        "Gmail's quota regime: legacy for projects that used the API before "
        "May 2026 (15,000 units per user per minute, messages.get 5 units), "
        "2026 for newer projects (6,000 units, messages.get 20).",
        _gmail_quota,
    ),
    Setting(
        "google_quota_units_per_minute",
        Scope.PROCESS,
        None,
        "units per user per minute",
        "Gmail quota units one user may spend per minute, replacing the "
        "regime's limit; empty: the regime's limit.",
        _optional_positive_int,
    ),
    Setting(
        "google_method_units",
        Scope.PROCESS,
        (),
        "METHOD=UNITS pairs separated by ';'",
        "Gmail quota units per call of the methods named, such as "
        "users.messages.get=20, replacing the regime's costs; empty: the "
        "regime's costs.",
        _method_units,
    ),
    Setting(
        "google_quota_share",
        Scope.PROCESS,
        0.9,
        "fraction above 0, at most 1",
        "Share of the per-user quota that a Gmail sync plans to use, leaving "
        "room for other clients of the same user.",
        _share,
    ),
    Setting(
        "google_threads",
        Scope.PROCESS,
        4,
        "threads",
        "Concurrent batch requests per Gmail mailbox.",
        _positive_int,
    ),
    Setting(
        "google_batch_size",
        Scope.PROCESS,
        50,
        "calls, 1 to 100",
        "messages.get calls per Gmail batch request.",
        _gmail_batch_calls,
    ),
    Setting(
        "google_timeout",
        Scope.PROCESS,
        60.0,
        "seconds",
        "Socket timeout of each request to Google.",
        _positive_seconds,
    ),
    Setting(
        "google_calendars",
        Scope.PROCESS,
        ("primary",),
        "calendar ids separated by ';'",
        "Calendars that a new Google calendar account reads when the connect "
        "command names none.",
        _id_list,
    ),
    Setting(
        "google_calendar_days_back",
        Scope.PROCESS,
        180,
        "days",
        "Start of a calendar's first listing, before today.",
        _positive_int,
    ),
    Setting(
        "google_calendar_days_ahead",
        Scope.PROCESS,
        60,
        "days",
        "End of each calendar listing, after today.",
        _positive_int,
    ),
    Setting(
        "google_calendar_relist_days",
        Scope.PROCESS,
        30,
        "days",
        "Interval between full listings of a calendar; less than "
        "google_calendar_days_ahead.",
        _positive_int,
    ),
    Setting(
        "google_place_follow_ups",
        Scope.PROCESS,
        False,
        "true or false",
        "Whether 'warmline accounts connect google' also requests the scope "
        "that writes calendar events, to place follow-ups.",
        _boolean,
    ),
    Setting(
        "google_authorization_timeout",
        Scope.PROCESS,
        300.0,
        "seconds",
        "How long 'warmline accounts connect google' waits for the consent.",
        _positive_seconds,
    ),
    Setting(
        "google_project_daily_units",
        Scope.PROCESS,
        72_000_000,
        "Gmail quota units per project per day",
        "Gmail quota units that the syncs of one Google Cloud project may spend "
        "in a quota day. First syncs start only while their estimated cost fits "
        "in what is left, and the others wait for the next day; incremental "
        "syncs always run.",
        _positive_int,
    ),
    Setting(
        "google_quota_day_timezone",
        Scope.PROCESS,
        "America/Los_Angeles",
        "IANA time zone",
        "Time zone whose midnight starts a new quota day for "
        "google_project_daily_units.",
        _time_zone,
    ),
)

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
        _address_or_domain_list,
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
        "tier_1_referrals",
        Scope.WORKSPACE,
        12,
        "referrals per 12 months",
        "A source with at least this many referrals in the last 365 days is "
        "tier 1 on the Sources page; a practice counts those of its people too.",
        _positive_int,
    ),
    Setting(
        "tier_2_referrals",
        Scope.WORKSPACE,
        4,
        "referrals per 12 months",
        "A source with at least this many referrals in the last 365 days, and "
        "fewer than tier_1_referrals, is tier 2; one with fewer but at least "
        "one is tier 3.",
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
        _port,
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
        "digest_transport",
        Scope.WORKSPACE,
        "smtp",
        "smtp or connector",
        "How digests are sent: smtp through smtp_host, or connector from each "
        "staff member's own Gmail or Outlook mailbox, connected with "
        "--send-digests.",
        _digest_transport,
    ),
    Setting(
        "feed_base_url",
        Scope.WORKSPACE,
        "",
        "http:// or https:// URL",
        "Address of the review site as staff members' calendar apps reach it; "
        "'warmline staff feed' prints each follow-up feed URL under it.",
        _optional_http_url,
    ),
    Setting(
        "coordination_days",
        Scope.WORKSPACE,
        7,
        "days",
        "Two staff members with meetings at the same practice at most this many "
        "days apart are warned in 'warmline remind' and in their digests.",
        _positive_int,
    ),
    Setting(
        "draft_llm_base_url",
        Scope.WORKSPACE,
        "",
        "http:// or https:// URL",
        "Base URL of an OpenAI-compatible API, such as http://127.0.0.1:8000/v1, "
        "whose model rewrites follow-up drafts. Empty: drafts come from "
        "templates only and nothing is sent.",
        _optional_http_url,
    ),
    Setting(
        "draft_llm_model",
        Scope.WORKSPACE,
        "",
        "model name",
        "Model that rewrites follow-up drafts; needed when draft_llm_base_url "
        "is set. The API key is stored by 'warmline secrets set-draft-api-key'.",
    ),
    Setting(
        "draft_llm_timeout_seconds",
        Scope.WORKSPACE,
        30.0,
        "seconds",
        "Time limit of one rewrite request; when it fails, the draft built from "
        "templates is shown with the reason.",
        _positive_seconds,
    ),
    Setting(
        "place_follow_ups",
        Scope.WORKSPACE,
        False,
        "true or false",
        "Place each open follow-up as an event on its assignee's calendar with "
        "'warmline followups place' and after each reminder pass of the workers. "
        "It also makes 'warmline accounts connect' ask for calendar write access.",
        _boolean,
    ),
    Setting(
        "digest_time",
        Scope.WORKSPACE,
        "",
        "HH:MM local time, on the quarter hour",
        "Time at which the workers send each staff member of the workspace their "
        "digest, in the staff member's own time zone; empty for the process "
        "setting digest_hour.",
        _quarter_hour_time,
    ),
    Setting(
        "working_hours",
        Scope.WORKSPACE,
        "mon-fri 09:00-17:00",
        "days and local times",
        "Hours within which follow-up events are placed, in each staff member's "
        "own time zone, such as 'mon-thu 08:00-16:00; fri 08:00-12:00'.",
        _working_hours,
    ),
    Setting(
        "follow_up_event_minutes",
        Scope.WORKSPACE,
        30,
        "minutes",
        "Length of a follow-up event placed on a calendar.",
        _positive_int,
    ),
    Setting(
        "placement_search_days",
        Scope.WORKSPACE,
        10,
        "days",
        "Days from a follow-up's due date (or today, if later) searched for a "
        "free slot; with none free, the follow-up is reported as not placed.",
        _positive_int,
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
        "web_sign_in_providers",
        Scope.WORKSPACE,
        [],
        "google, microsoft, separated by ';'",
        "Identity providers whose OpenID Connect sign-in the review site accepts "
        "for this workspace; empty: only passwords.",
        _sign_in_providers,
    ),
    Setting(
        "web_sign_in_domains",
        Scope.WORKSPACE,
        [],
        "domains separated by ';'",
        "Only addresses at these domains may sign in with an identity provider; "
        "empty: the domains in own_domains.",
        _domain_list,
    ),
    Setting(
        "web_sign_in_creates_members",
        Scope.WORKSPACE,
        False,
        "true or false",
        "Whether a provider sign-in at an allowed domain by an address that is no "
        "web user yet creates that user as a member.",
        _boolean,
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
    *GOOGLE_SETTINGS,
    Setting(
        "gmail_push_topic",
        Scope.PROCESS,
        "",
        "Pub/Sub topic name",
        "Topic that Gmail publishes mailbox changes to, as "
        "projects/PROJECT/topics/NAME; each Gmail account is watched with it. "
        "Empty: no Gmail watches.",
    ),
    Setting(
        "gmail_push_audience",
        Scope.PROCESS,
        "",
        "audience",
        "Audience that the OIDC token of the Pub/Sub push subscription must "
        "name. Empty: no token is checked, and gmail_push_token must be set.",
    ),
    Setting(
        "gmail_push_service_account",
        Scope.PROCESS,
        "",
        "email address",
        "Service account that the push subscription's OIDC token must be "
        "issued for (its email claim). Empty: any Google-signed token with the "
        "audience.",
    ),
    Setting(
        "gmail_push_certs_url",
        Scope.PROCESS,
        "https://www.googleapis.com/oauth2/v3/certs",
        "URL",
        "JSON Web Key Set with the public keys that sign the push OIDC tokens.",
    ),
    Setting(
        "gmail_push_token",
        Scope.PROCESS,
        "",
        "secret text",
        "Secret that the push endpoint URL must carry as ?token=. Empty: no "
        "such check, and gmail_push_audience must be set.",
    ),
    Setting(
        "gmail_watch_renew_hours",
        Scope.PROCESS,
        24,
        "hours",
        "Age at which a Gmail watch is renewed. A watch lasts 7 days, and "
        "Google asks for a renewal every day.",
        _positive_int,
    ),
    Setting(
        "graph_notification_url",
        Scope.PROCESS,
        "",
        "https URL",
        "Public URL of this site's /push/graph, where Microsoft Graph posts "
        "change and lifecycle notifications. Empty: no Graph subscriptions.",
    ),
    Setting(
        "graph_subscription_minutes",
        Scope.PROCESS,
        4230,
        "minutes",
        "Lifetime requested for each Graph subscription to Outlook messages or "
        "events; Graph rejects more than its maximum for the resource.",
        _positive_int,
    ),
    Setting(
        "graph_renew_before_minutes",
        Scope.PROCESS,
        1440,
        "minutes",
        "A Graph subscription that expires within this is renewed by the next "
        "renewal pass, which runs every 10 minutes.",
        _positive_int,
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
    google_client_secrets_file: str = ""
    google_web_client_secrets_file: str = ""
    google_service_account_file: str = ""
    google_api_root: str = ""
    google_quota: str = "legacy"
    google_quota_units_per_minute: int | None = None
    google_method_units: tuple[tuple[str, int], ...] = ()
    google_quota_share: float = 0.9
    google_threads: int = 4
    google_batch_size: int = 50
    google_timeout: float = 60.0
    google_calendars: tuple[str, ...] = ("primary",)
    google_calendar_days_back: int = 180
    google_calendar_days_ahead: int = 60
    google_calendar_relist_days: int = 30
    google_place_follow_ups: bool = False
    google_authorization_timeout: float = 300.0
    google_project_daily_units: int = 72_000_000
    google_quota_day_timezone: str = "America/Los_Angeles"
    gmail_push_topic: str = ""
    gmail_push_audience: str = ""
    gmail_push_service_account: str = ""
    gmail_push_certs_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    gmail_push_token: str = ""
    gmail_watch_renew_hours: int = 24
    graph_notification_url: str = ""
    graph_subscription_minutes: int = 4230
    graph_renew_before_minutes: int = 1440


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
