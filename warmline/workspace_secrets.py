"""Workspace credentials (the SMTP password, an API key), stored encrypted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import Workspace
from warmline.reminder_models import WorkspaceSecret
from warmline.secrets import SecretBox


def read_secret(
    session: Session, workspace: Workspace, box: SecretBox, name: str
) -> str | None:
    """Return the decrypted secret `name` of the workspace, or None if unset."""
    token = session.scalar(
        select(WorkspaceSecret.token).where(
            WorkspaceSecret.workspace_id == workspace.id,
            WorkspaceSecret.name == name,
        )
    )
    return None if token is None else box.decrypt(token)


def write_secret(
    session: Session, workspace: Workspace, box: SecretBox, name: str, value: str
) -> None:
    """Store the secret `name`, encrypted with the workspace's secret keys."""
    secret = session.scalar(
        select(WorkspaceSecret).where(
            WorkspaceSecret.workspace_id == workspace.id,
            WorkspaceSecret.name == name,
        )
    )
    if secret is None:
        secret = WorkspaceSecret(workspace_id=workspace.id, name=name)
        session.add(secret)
    secret.token = box.encrypt(value)
    secret.updated_at = dt.datetime.now(dt.UTC)
