"""The settings page: the workspace settings an admin may change from the site.

Every change goes through warmline.workspaces.set_workspace_setting and is
written to the audit log as `warmline config set` writes it, so the site
and the command line parse, store and record a value the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from warmline import audit
from warmline.models import Workspace
from warmline.settings import BY_NAME, Scope, Setting
from warmline.workspaces import (
    ordering_errors,
    set_workspace_setting,
    workspace_settings,
)


@dataclasses.dataclass(frozen=True)
class FieldGroup:
    title: str
    names: tuple[str, ...]


def _workspace_settings(*names: str) -> tuple[str, ...]:
    """Keep the names that are workspace settings in warmline.settings."""
    return tuple(
        name
        for name in names
        if name in BY_NAME and BY_NAME[name].scope is Scope.WORKSPACE
    )


GROUPS = (
    FieldGroup("Cadences", ("default_cadence_days", "learned_cadence_min_days")),
    FieldGroup("Tiers", ("tier_1_referrals", "tier_2_referrals")),
    FieldGroup("Match thresholds", ("confirm_threshold", "review_threshold")),
    FieldGroup("Exclusions", ("own_domains", "blocklist")),
    FieldGroup("Privacy", ("subject_mode",)),
    FieldGroup(
        "Reminders",
        _workspace_settings(
            "loop_close_days",
            "digest_time",
            "stale_sync_hours",
            "working_hours",
            "follow_up_event_minutes",
        ),
    ),
)
EDITABLE = tuple(name for group in GROUPS for name in group.names)

CHOICES = {"subject_mode": ("metadata", "redact", "full")}
"""Settings shown as a list of choices instead of a text box."""

EXAMPLES = {
    "default_cadence_days": "30",
    "learned_cadence_min_days": "6",
    "confirm_threshold": "0.85",
    "review_threshold": "0.5",
    "own_domains": "brookside-pt.example; brookside.example",
    "blocklist": "noreply@lab.example; newsletters.example",
    "loop_close_days": "14",
    "digest_time": "07:30",
    "tier_1_referrals": "12",
    "tier_2_referrals": "4",
    "stale_sync_hours": "24",
    "working_hours": "mon-thu 08:00-16:00; fri 08:00-12:00",
    "follow_up_event_minutes": "30",
}


@dataclasses.dataclass(frozen=True)
class Field:
    """One setting as the form shows it: its text, and an error after a bad POST."""

    setting: Setting
    text: str
    error: str | None = None

    @property
    def name(self) -> str:
        return self.setting.name

    @property
    def choices(self) -> tuple[str, ...]:
        return CHOICES.get(self.setting.name, ())

    @property
    def example(self) -> str:
        return EXAMPLES.get(self.setting.name, "")


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A value the page shows but cannot change, with where it is set."""

    label: str
    value: str
    where: str


def as_text(value: Any) -> str:
    """Format a stored value as `warmline config set` accepts it back."""
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    if value is None:
        return ""
    return str(value)


def form_groups(
    values: Mapping[str, Any],
    texts: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[tuple[str, list[Field]]]:
    """Return the form's groups of fields.

    After a rejected POST, `texts` are the submitted values and `errors` the
    messages by setting name, so the form shows what was typed.
    """
    texts = texts or {}
    errors = errors or {}
    return [
        (
            group.title,
            [
                Field(
                    BY_NAME[name],
                    texts.get(name, as_text(values[name])),
                    errors.get(name),
                )
                for name in group.names
            ],
        )
        for group in GROUPS
    ]


def fixed_values(digest_hour: int) -> list[Fixed]:
    """Return the schedule values that are not workspace settings."""
    digest = BY_NAME["digest_hour"]
    return [
        Fixed(
            "Digest time when digest_time is empty",
            f"{digest_hour:02d}:00 in each staff member's time zone",
            f"process setting digest_hour, environment variable {digest.env_var}",
        ),
        Fixed(
            "Due dates",
            "Monday to Friday",
            "fixed in the code: a thank-you follow-up falls due on the next "
            "Monday-to-Friday date, and public holidays are not known",
        ),
    ]


def check_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse every editable setting in `form` and return the values and errors.

    A setting missing from the form is left out of both, so it keeps its value.
    Each error names the value and what to enter instead.
    """
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in EDITABLE:
        if name not in form:
            continue
        setting = BY_NAME[name]
        try:
            parsed[name] = setting.parse(form[name])
        except ValueError as error:
            errors[name] = f"Invalid value: {error}. Enter {setting.unit}."
    return parsed, errors


def save_settings(
    session: Session, workspace: Workspace, form: Mapping[str, str], actor: str
) -> tuple[list[str], dict[str, str]]:
    """Store the settings of `form` that changed, each with an audit record.

    Returns the names changed and the errors by setting name.  When any
    value is invalid, nothing is written and the list of names is empty.
    """
    parsed, errors = check_form(form)
    if errors:
        return [], errors
    current = workspace_settings(session, workspace)
    errors = ordering_errors({**current, **parsed})
    if errors:
        return [], {name: f"Invalid value: {error}." for name, error in errors.items()}
    changed = [name for name, value in parsed.items() if value != current[name]]
    for name in changed:
        # Checked together above, so that two settings of a pair can move at once.
        stored = set_workspace_setting(
            session, workspace, name, form[name], check_order=False
        )
        audit.record(
            session,
            actor,
            audit.SETTING_CHANGE,
            f"setting:{name}",
            audit.setting_details(name, stored),
            workspace=workspace,
        )
    return changed, {}
