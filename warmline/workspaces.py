"""Workspaces and their stored settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from warmline.models import StaffAddress, Workspace, WorkspaceSetting
from warmline.settings import BY_NAME, Scope, SettingError, parse_setting


def get_or_create_workspace(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    if workspace is None:
        workspace = Workspace(name=name)
        session.add(workspace)
        session.flush()
    return workspace


# Built once, as every page of the site reads the settings.
_STORED_SETTINGS = select(WorkspaceSetting.name, WorkspaceSetting.value).where(
    WorkspaceSetting.workspace_id == bindparam("workspace_id")
)


def workspace_settings(session: Session, workspace: Workspace | int) -> dict[str, Any]:
    """Return every workspace setting, stored values over defaults.

    `workspace` may be the workspace or its id, which saves loading it.
    """
    workspace_id = workspace if isinstance(workspace, int) else workspace.id
    values = {
        setting.name: setting.default
        for setting in BY_NAME.values()
        if setting.scope is Scope.WORKSPACE
    }
    stored = session.execute(_STORED_SETTINGS, {"workspace_id": workspace_id})
    for name, value in stored:
        values[name] = value
    return values


def set_workspace_setting(
    session: Session,
    workspace: Workspace,
    name: str,
    text: str,
    check_order: bool = True,
) -> Any:
    """Parse and store one workspace setting; return the stored value.

    With `check_order` False the caller has checked ORDERED_PAIRS on the
    values it stores together (see `ordering_errors`).
    """
    setting = BY_NAME.get(name)
    if setting is not None and setting.scope is not Scope.WORKSPACE:
        raise SettingError(
            f"{name} is a process setting; set the environment variable "
            f"{setting.env_var} instead"
        )
    value = parse_setting(name, text)
    if check_order:
        _check_thresholds(session, workspace, name, value)
    row = session.scalar(
        select(WorkspaceSetting).where(
            WorkspaceSetting.workspace_id == workspace.id,
            WorkspaceSetting.name == name,
        )
    )
    if row is None:
        session.add(WorkspaceSetting(workspace_id=workspace.id, name=name, value=value))
    else:
        row.value = value
    return value


ORDERED_PAIRS = (
    ("review_threshold", "confirm_threshold"),
    ("tier_2_referrals", "tier_1_referrals"),
)
"""Pairs of settings whose first must stay below its second."""


def ordering_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Return an error for each pair of ORDERED_PAIRS that `values` (every
    workspace setting) puts out of order, keyed by the pair's lower setting."""
    errors = {}
    for lower, higher in ORDERED_PAIRS:
        if values[lower] >= values[higher]:
            errors[lower] = (
                f"{lower} {values[lower]} must be below {higher} "
                f"{values[higher]}; lower {lower} or raise {higher} first"
            )
    return errors


def _check_thresholds(
    session: Session, workspace: Workspace, name: str, value: Any
) -> None:
    """Reject a value that would put a pair of ORDERED_PAIRS out of order."""
    if not any(name in pair for pair in ORDERED_PAIRS):
        return
    current = workspace_settings(session, workspace)
    current[name] = value
    errors = [
        message
        for lower, message in ordering_errors(current).items()
        if name in next(pair for pair in ORDERED_PAIRS if pair[0] == lower)
    ]
    if errors:
        raise SettingError(errors[0])


def staff_addresses(session: Session, workspace: Workspace) -> dict[str, int]:
    """Map every staff address of the workspace to its staff member id."""
    rows = session.execute(
        select(StaffAddress.address, StaffAddress.staff_member_id).where(
            StaffAddress.workspace_id == workspace.id
        )
    )
    return {address: staff_id for address, staff_id in rows}
