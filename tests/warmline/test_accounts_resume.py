"""Resuming a removed (disabled) account from the command line, without Celery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"

# Runs the command line with Celery made unimportable, as on an install
# without the worker extra.
NO_CELERY = """
import sys
sys.modules["celery"] = None
from warmline.cli import main
main(sys.argv[1:])
"""


def warmline(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_CELERY, "--database", database_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_removed_account_resumes_without_celery(database_url, tmp_path):
    staff = "sam@brookside-pt.example"
    assert (
        warmline(database_url, "staff", "add", staff, "--name", "Sam").returncode == 0
    )
    calendar = EXAMPLES / "outlook-calendar.ics"
    added = warmline(
        database_url, "accounts", "add", "ics", str(calendar), "--staff", staff
    )
    account_id = added.stdout.split("account ")[1].split(":")[0]

    removed = warmline(database_url, "accounts", "remove", account_id)
    resumed = warmline(database_url, "accounts", "resume", account_id)
    again = warmline(database_url, "accounts", "resume", account_id)
    unknown = warmline(database_url, "accounts", "resume", "999999")

    assert removed.returncode == 0, removed.stderr
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == f"account {account_id} is active again"
    assert again.returncode == 1
    assert "only an account with status error or disabled" in again.stderr
    assert unknown.returncode == 1
    assert "no account with id 999999" in unknown.stderr
    assert "Traceback" not in unknown.stderr
