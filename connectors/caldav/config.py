"""Settings of one CalDAV account: server, credentials, timeouts and window."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import math
import urllib.parse

from connectors.caldav.hrefs import normalize_href
from connectors.calendar import Window, load_iana_zone

_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclasses.dataclass(frozen=True)
class CaldavTimeouts:
    """Timeouts of every HTTP request, in seconds.

    `connect` bounds the TCP and TLS handshake, and `read` bounds each wait
    for response bytes, so a server that stops sending fails the request.
    """

    connect: float = 10.0
    read: float = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "read"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise ValueError(
                    f"CalDAV {name} timeout {value!r} is invalid; "
                    "give a finite number of seconds above 0"
                )


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often a request that failed with a transient error is sent again.

    A request is sent at most `max_attempts` times.  Before attempt n + 1 the
    client waits a random time between 0 and min(`backoff_max`,
    `backoff_base` * 2 ** (n - 1)) seconds.  A Retry-After from the server
    replaces that wait when it is at most `backoff_max`; a longer one ends
    the read with RateLimited at once.
    """

    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        if not (isinstance(self.max_attempts, int) and 1 <= self.max_attempts <= 10):
            raise ValueError(
                f"CalDAV max_attempts {self.max_attempts!r} is invalid; "
                "give a whole number from 1 to 10"
            )
        for name in ("backoff_base", "backoff_max"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < math.inf):
                raise ValueError(
                    f"CalDAV {name} {value!r} is invalid; "
                    "give a finite number of seconds, 0 or more"
                )


@dataclasses.dataclass(frozen=True)
class CaldavConfig:
    """One CalDAV account.

    `url` is the server's CalDAV root or the user's principal URL, such as
    https://dav.example.com/remote.php/dav/ (credentials go in `username`
    and `password`, never in the URL).  `calendars` lists the calendars to
    read, as paths or absolute URLs on that server; None reads every
    calendar that discovery finds (current-user-principal, then
    calendar-home-set).  Plain http is accepted only for a loopback host
    unless `allow_plain_http` is set, because Basic authentication would
    send the password in clear text.

    `default_timezone` (an IANA name) is the zone for all-day dates, floating
    times and time zones an event does not define.  The window runs from
    `window_start` to `window_end`, both aware datetimes.  As for .ics files,
    a bound left out defaults to three years before the read or one year
    after it.  `multiget_size` is the number of calendar objects fetched per
    calendar-multiget REPORT.
    """

    url: str
    username: str
    password: str = dataclasses.field(repr=False)
    calendars: tuple[str, ...] | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    allow_plain_http: bool = False
    timeouts: CaldavTimeouts = CaldavTimeouts()
    retry: RetryPolicy = RetryPolicy()
    default_timezone: str = "UTC"
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    multiget_size: int = 50

    def __post_init__(self) -> None:
        self._check_url()
        if not self.username:
            raise ValueError(f"CalDAV account {self.url} has no username; set one")
        if self.calendars is not None:
            if not self.calendars:
                raise ValueError(
                    f"CalDAV account {self.url} lists no calendars; list at "
                    "least one, or set None to read every calendar found"
                )
            paths = tuple(self._calendar_path(value) for value in self.calendars)
            object.__setattr__(self, "calendars", paths)
        if load_iana_zone(self.default_timezone) is None:
            raise ValueError(
                f"time zone {self.default_timezone!r} set for CalDAV account "
                f"{self.url} is unknown; set an IANA name such as America/Chicago"
            )
        if not (isinstance(self.multiget_size, int) and 1 <= self.multiget_size):
            raise ValueError(
                f"CalDAV multiget_size {self.multiget_size!r} is invalid; "
                "give a whole number of 1 or more"
            )
        # Checked here so that a naive bound fails at once, not at read time.
        Window.around(dt.datetime.now(dt.UTC), self.window_start, self.window_end)

    def _check_url(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"CalDAV URL {self.url!r} is invalid; give an http or https URL "
                "such as https://dav.example.com/"
            )
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                "CalDAV URL contains credentials; remove them from the URL "
                "and set username and password instead"
            )
        plain_allowed = self.allow_plain_http or _is_loopback(parts.hostname)
        if parts.scheme == "http" and not plain_allowed:
            raise ValueError(
                f"CalDAV URL {self.url!r} uses plain http, which would send the "
                "password in clear text; use https, or set allow_plain_http"
            )

    def _calendar_path(self, value: str) -> str:
        """Return the normalized path of a calendar given as a path or URL."""
        parts = urllib.parse.urlsplit(value)
        server = urllib.parse.urlsplit(self.url)
        if parts.scheme or parts.netloc:
            if (parts.scheme, parts.netloc) != (server.scheme, server.netloc):
                raise ValueError(
                    f"calendar {value!r} is not on the CalDAV server {self.url}; "
                    "give a path or a URL on that server"
                )
        if not parts.path.startswith("/"):
            raise ValueError(
                f"calendar {value!r} is not an absolute path; "
                "give a path such as /calendars/sam/work/"
            )
        path = normalize_href(parts.path)
        return path if path.endswith("/") else path + "/"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
