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
    if value not in {"redact", "drop", "full"}:
        raise ValueError(f"{text!r} is not one of redact, drop, full")
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
        "redact",
        "redact, drop or full",
        "What an activity keeps of its subject: patient identifiers redacted, "
        "nothing, or the subject as written.",
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
