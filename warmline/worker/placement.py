"""The task `warmline.place_follow_ups(workspace_id)`: one placement pass.

It runs warmline.placement.place_follow_ups under a workspace lease, so two
workers never place the same workspace's follow-ups at once.  A reminder
pass sends it when the workspace's `place_follow_ups` setting is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from warmline import leases, placement
from warmline.models import Workspace, utcnow
from warmline.readers import ReaderServices
from warmline.workspaces import workspace_settings

if TYPE_CHECKING:
    from warmline.worker.app import Runtime
    from warmline.worker.tasks import WarmlineTask

log = structlog.get_logger(__name__)

PLACE_FOLLOW_UPS = "warmline.place_follow_ups"


def placement_enabled(sessions: sessionmaker[Session], workspace_id: int) -> bool:
    """Tell whether the workspace places follow-ups on calendars."""
    with sessions() as session:
        workspace = session.get_one(Workspace, workspace_id)
        return bool(workspace_settings(session, workspace)["place_follow_ups"])


def place_follow_ups(self: WarmlineTask, workspace_id: int) -> dict[str, object]:
    """Place one workspace's follow-ups, unless another pass holds its lease."""
    structlog.contextvars.bind_contextvars(workspace_id=workspace_id)
    runtime = self.runtime
    try:
        with runtime.sessions.begin() as session:
            lease = leases.acquire(
                session,
                f"placement:workspace:{workspace_id}",
                self.request.id,
                runtime.worker_name,
                runtime.settings.lease_seconds,
            )
        if isinstance(lease, leases.LeaseBusy):
            log.info("placement already running", holder=lease.holder)
            return {"result": "already running", "holder": lease.holder}
        return _placement_pass(runtime, lease, workspace_id)
    except OperationalError as error:
        raise self.retry_database_error(error) from error


def _placement_pass(
    runtime: Runtime, lease: leases.Lease, workspace_id: int
) -> dict[str, object]:
    sessions = runtime.sessions
    keeper = leases.LeaseKeeper(sessions, lease, runtime.settings.lease_seconds)
    services = ReaderServices(sessions, runtime.secret_box)
    try:
        with keeper.running():
            with sessions() as session:
                name = session.get_one(Workspace, workspace_id).name
            outcomes = placement.place_follow_ups(sessions, name, services, utcnow())
    except placement.PlacementError as error:
        with sessions.begin() as session:
            leases.release(session, lease, None)
        log.info("placement is off", detail=str(error))
        return {"result": "off"}
    except Exception as error:
        with sessions.begin() as session:
            leases.release(session, lease, f"{type(error).__name__}: {error}")
        raise
    with sessions.begin() as session:
        leases.release(session, lease, None)
    counts: dict[str, object] = {"result": "done"}
    for outcome in outcomes:
        name = outcome.action.replace(" ", "_")
        counts[name] = int(counts.get(name, 0)) + 1  # type: ignore[call-overload]
    return counts
