"""A clinic with one generated mailbox per staff member, and its snapshot.

Each mailbox comes from benchmarks/generate.py with the same seed, so every
one refers to the same referral sources, and its owner is a different staff
member.  Message-IDs get a per-mailbox suffix, so the mailboxes share no
message and a clean run's result does not depend on the order of syncs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from warmline import accounts, sources, staff
from warmline.models import Activity, ReferralSource, Touchpoint
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

ROOT = Path(__file__).parents[2]
DOMAIN = "brookside-pt.example"
MESSAGE_ID = re.compile(rb"(\d{9}\.[0-9a-f]{10})@")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "benchmark_generate", ROOT / "benchmarks" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up in sys.modules while the file runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def staff_email(index: int) -> str:
    return f"staff{index:03d}.ortiz@{DOMAIN}"


def generate_mailboxes(folder: Path, count: int, messages: int) -> list[Path]:
    """Write `count` mailboxes and sources.csv under `folder`."""
    generate = _generator()
    paths = []
    for index in range(count):
        out = folder / f"mailbox{index:03d}"
        argv = ["--messages", str(messages), "--sources", "200", "--out", str(out)]
        argv += ["--staff-email", staff_email(index)]
        with contextlib.redirect_stdout(io.StringIO()):
            generate.main(argv)
        path = out / "mail.mbox"
        suffix = f"m{index:03d}".encode()
        path.write_bytes(MESSAGE_ID.sub(rb"\1." + suffix + rb"@", path.read_bytes()))
        paths.append(path)
    return paths


def set_up_clinic(sessions: sessionmaker[Session], mailboxes: list[Path]) -> list[int]:
    """Add the staff, the sources and one mbox account per mailbox."""
    ids = []
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        set_workspace_setting(session, workspace, "own_domains", DOMAIN)
        members = []
        for index in range(len(mailboxes)):
            members.append(
                staff.upsert_staff(
                    session,
                    workspace,
                    staff.StaffInput(
                        staff_email(index), f"Staff {index} Ortiz", (), "UTC"
                    ),
                )
            )
        sources.import_sources(session, workspace, mailboxes[0].parent / "sources.csv")
        for member, path in zip(members, mailboxes, strict=True):
            account, _created = accounts.add_file_account(
                session, workspace, member, "mbox", path
            )
            session.flush()
            ids.append(account.id)
    return ids


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[object, ...]]]:
    """Return activities and touchpoints by natural key, duplicates kept."""
    practice = aliased(ReferralSource)
    person = aliased(ReferralSource)
    with sessions() as session:
        activities = session.execute(
            select(Activity.kind, Activity.external_id, Activity.occurrence_key)
        ).all()
        touchpoints = session.execute(
            select(
                Activity.external_id,
                Activity.occurrence_key,
                practice.name,
                person.name,
                Touchpoint.status,
                Touchpoint.confidence,
            )
            .join(Activity, Activity.id == Touchpoint.activity_id)
            .join(practice, practice.id == Touchpoint.practice_id)
            .outerjoin(person, person.id == Touchpoint.person_id)
        ).all()
    return {
        "activities": sorted(tuple(row) for row in activities),
        "touchpoints": sorted((tuple(row) for row in touchpoints), key=repr),
    }
