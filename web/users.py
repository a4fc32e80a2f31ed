"""Web users: the people who sign in to the review site."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import StaffAddress, Workspace
from warmline.staff import StaffError, normalize_address
from warmline.web_models import WebRole, WebUser
from web.passwords import Passwords


class UserError(ValueError):
    """A web user cannot be created or changed as requested."""


def upsert_user(
    session: Session,
    workspace: Workspace,
    email: str,
    password: str,
    role: WebRole,
    passwords: Passwords,
) -> tuple[WebUser, bool]:
    """Create the user, or set the password and role of the existing one.

    Returns the user and whether it was created.  An address signs in to one
    workspace only, so one registered in another workspace is rejected.
    """
    try:
        address = normalize_address(email)
    except StaffError as error:
        raise UserError(str(error)) from error
    password_hash = passwords.hash(password)
    user = session.scalar(select(WebUser).where(WebUser.email == address))
    if user is not None and user.workspace_id != workspace.id:
        raise UserError(
            f"{address} already signs in to another workspace; one address "
            "belongs to one workspace"
        )
    created = user is None
    if user is None:
        user = WebUser(workspace_id=workspace.id, email=address)
        session.add(user)
    user.password_hash = password_hash
    user.role = role
    session.flush()
    return user, created


def list_users(session: Session, workspace: Workspace) -> list[WebUser]:
    return list(
        session.scalars(
            select(WebUser)
            .where(WebUser.workspace_id == workspace.id)
            .order_by(WebUser.email)
        )
    )


def staff_member_id(session: Session, user: WebUser) -> int | None:
    """Return the id of the staff member with the user's address, if any."""
    return session.scalar(
        select(StaffAddress.staff_member_id).where(
            StaffAddress.workspace_id == user.workspace_id,
            StaffAddress.address == user.email,
        )
    )
