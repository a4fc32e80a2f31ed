"""The main job on the shipped example data, as one call."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from warmline import accounts, pipeline, sources, staff
from warmline.remind.referrals import ReferralImportSummary, import_referrals
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

CLINIC_DOMAIN = "brookside-pt.example"
SAM = "sam.ortiz@brookside-pt.example"
BO = "bo.lindgren@brookside-pt.example"
ACCOUNT_FILES = (
    ("mbox", "sam-ortiz-takeout.mbox", SAM),
    ("ics", "sam-ortiz-calendar.ics", SAM),
    ("ics", "outlook-calendar.ics", BO),
)
"""Each example export: its connector, its file and the staff member it belongs to."""


class ExamplesNotFoundError(FileNotFoundError):
    """The examples folder is missing a file the demo needs."""


@dataclasses.dataclass
class DemoResult:
    sources: sources.ImportSummary
    referrals: ReferralImportSummary
    staff_count: int
    reports: list[pipeline.SyncReport]


def check_examples(folder: Path) -> None:
    needed = [
        "sources.csv",
        "staff.csv",
        "referrals.csv",
        *(name for _kind, name, _owner in ACCOUNT_FILES),
    ]
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
    """Import the example clinic's staff, sources and referrals, then sync its files."""
    check_examples(folder)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        set_workspace_setting(session, workspace, "own_domains", CLINIC_DOMAIN)
        staff_count = staff.import_staff(session, workspace, folder / "staff.csv")
        summary = sources.import_sources(session, workspace, folder / "sources.csv")
        today = dt.datetime.now(dt.UTC).date()
        referrals = import_referrals(
            session, workspace, folder / "referrals.csv", today
        )
        account_ids = []
        for provider, name, owner in ACCOUNT_FILES:
            member = staff.find_staff(session, workspace, owner)
            account, _created = accounts.add_file_account(
                session, workspace, member, provider, folder / name
            )
            account_ids.append(account.id)
    reports = pipeline.sync_accounts(
        sessions, account_ids, batch_size, progress_factory
    )
    return DemoResult(summary, referrals, staff_count, reports)
