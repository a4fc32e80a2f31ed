"""Workspaces and their stored settings."""

from __future__ import annotations

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
    session: Session, workspace: Workspace, name: str, text: str
) -> Any:
    """Parse and store one workspace setting; return the stored value."""
    setting = BY_NAME.get(name)
    if setting is not None and setting.scope is not Scope.WORKSPACE:
        raise SettingError(
            f"{name} is a process setting; set the environment variable "
            f"{setting.env_var} instead"
        )
    value = parse_setting(name, text)
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


def _check_thresholds(
    session: Session, workspace: Workspace, name: str, value: Any
) -> None:
    """Reject a value that would put a lower setting of ORDERED_PAIRS at or
    above its higher one."""
    pairs = [pair for pair in ORDERED_PAIRS if name in pair[:2]]
    if not pairs:
        return
    current = workspace_settings(session, workspace)
    current[name] = value
    for lower, higher in pairs:
        if current[lower] >= current[higher]:
            raise SettingError(
                f"{lower} {current[lower]} must be below {higher} "
                f"{current[higher]}; lower {lower} or raise {higher} first"
            )


def staff_addresses(session: Session, workspace: Workspace) -> dict[str, int]:
    """Map every staff address of the workspace to its staff member id."""
    rows = session.execute(
        select(StaffAddress.address, StaffAddress.staff_member_id).where(
            StaffAddress.workspace_id == workspace.id
        )
    )
    return {address: staff_id for address, staff_id in rows}
