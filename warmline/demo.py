"""The main job on the shipped example data, as one call."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from warmline import accounts, pipeline, sources, staff
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

CLINIC_DOMAIN = "brookside-pt.example"
STAFF_EMAIL = "sam.ortiz@brookside-pt.example"
ACCOUNT_FILES = (
    ("mbox", "sam-ortiz-takeout.mbox"),
    ("ics", "sam-ortiz-calendar.ics"),
    ("ics", "outlook-calendar.ics"),
)


class ExamplesNotFoundError(FileNotFoundError):
    """The examples folder is missing a file the demo needs."""


@dataclasses.dataclass
class DemoResult:
    sources: sources.ImportSummary
    staff_count: int
    reports: list[pipeline.SyncReport]


def check_examples(folder: Path) -> None:
    needed = ["sources.csv", "staff.csv", *(name for _kind, name in ACCOUNT_FILES)]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise ExamplesNotFoundError(
            f"{folder} lacks {', '.join(missing)}; run the demo from a checkout of "
            "the repository or pass --examples PATH/TO/examples"
        )


def run_demo(
    sessions: sessionmaker[Session],
    workspace_name: str,
    folder: Path,
    batch_size: int,
    progress_factory: pipeline.ProgressFactory | None = None,
) -> DemoResult:
    """Import the example clinic's staff and sources, register and sync its files."""
    check_examples(folder)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        set_workspace_setting(session, workspace, "own_domains", CLINIC_DOMAIN)
        staff_count = staff.import_staff(session, workspace, folder / "staff.csv")
        summary = sources.import_sources(session, workspace, folder / "sources.csv")
        member = staff.find_staff(session, workspace, STAFF_EMAIL)
        account_ids = []
        for provider, name in ACCOUNT_FILES:
            account, _created = accounts.add_file_account(
                session, workspace, member, provider, folder / name
            )
            account_ids.append(account.id)
    reports = pipeline.sync_accounts(
        sessions, account_ids, batch_size, progress_factory
    )
    return DemoResult(summary, staff_count, reports)
