"""The reminder commands end to end on the example clinic and its referrals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

import warmline.cli.reminder_commands  # noqa: F401  (registers the commands)
from tests.conftest import empty_tables
from tests.reminders.smtp_server import PASSWORD, USER, running_smtp_server
from warmline.cli import main
from warmline.secrets import Fernet

EXAMPLES = Path(__file__).parents[2] / "examples"
SAM = "sam.ortiz@brookside-pt.example"


def run(url: str, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database", url, *args], env=env)
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.stdout if code == 0 else result.output


@pytest.fixture(scope="module")
def clinic(migrated_engine: Engine, tmp_path_factory) -> Iterator[str]:
    """The example clinic after 'warmline demo', which imports its referrals.

    Built once per backend for this module, because the demo's sync is the
    slow part, and emptied afterwards like the per-test `engine` fixture.
    """
    url = migrated_engine.url.render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("demo"))
        run(url, "demo", "--examples", str(EXAMPLES))
    yield url
    empty_tables(migrated_engine)


def test_referrals_reimport_unchanged(clinic):
    output = run(clinic, "referrals", "import", str(EXAMPLES / "referrals.csv"))

    assert output.endswith(": 0 created, 0 updated, 33 unchanged\n")


def test_remind_on_examples_then_again(clinic):
    first = run(clinic, "remind", "--as-of", "2026-12-01")
    second = run(clinic, "remind", "--as-of", "2026-12-01")

    assert re.search(r"== Referrals closed by a touchpoint: [1-9]", first)
    assert re.search(r"== Follow-ups created: [1-9]", first)
    assert "(learned)" in first
    assert "(own)" in first
    assert "thank-you owed" in first
    assert "Ridgeway Orthopedic Associates" in first.split("== Referral drift: 1")[1]
    assert "referrals falling despite touches" in first
    assert "== Referrals closed by a touchpoint: 0" in second
    assert "== Follow-ups created: 0" in second
    assert "== Follow-ups closed: 0" in second


def test_cold_prints_remind_ranking(clinic):
    remind_output = run(clinic, "remind", "--as-of", "2026-12-01")

    cold_output = run(clinic, "cold", "--as-of", "2026-12-01")

    ranked = remind_output.split("most urgent first\n\n")[1].split("\n\n== ")[0]
    assert cold_output.strip() == ranked.strip()
    assert "thank-you owed" in cold_output
    assert "referrals 12 mo" in cold_output.splitlines()[0]
    assert SAM in cold_output


def test_digest_dry_run_on_examples(clinic):
    run(clinic, "remind", "--as-of", "2026-12-01")

    output = run(clinic, "digest", "--dry-run", "--as-of", "2026-12-01")

    assert "To: Sam Ortiz <sam.ortiz@brookside-pt.example>" in output
    assert "Subject: Warmline digest for Tue 01 Dec 2026: " in output
    assert "== Follow-ups due (" in output
    assert "== Open loops (" in output
    assert f"{SAM} 2026-12-01: dry run" in output
    assert "amy.chen@brookside-pt.example 2026-12-01: dry run" in output
    assert "bo.lindgren@brookside-pt.example 2026-12-01: dry run" in output


def test_followups_and_loops_by_hand(clinic):
    run(clinic, "remind", "--as-of", "2026-12-01")
    listing = run(clinic, "followups", "list", "--staff", SAM)
    ids = [int(line.split()[0]) for line in listing.splitlines()[2:]]
    loops = run(clinic, "referrals", "loops", "--as-of", "2026-12-01")
    referral_id = loops.splitlines()[2].split()[0]

    done = run(clinic, "followups", "done", str(ids[0]))
    again = run(clinic, "followups", "done", str(ids[0]), code=1)
    snoozed = run(clinic, "followups", "snooze", str(ids[1]), "--for", "2w")
    closed = run(clinic, "referrals", "close", referral_id)
    everything = run(clinic, "followups", "list", "--all")

    assert all(SAM in line for line in listing.splitlines()[2:])
    assert done.endswith(" done\n")
    assert f"follow-up {ids[0]} is already done" in again
    assert f"follow-up {ids[1]} now due " in snoozed
    assert closed == f"referral {referral_id} closed\n"
    assert re.search(rf"^\s*{ids[0]} .* done ", everything, re.MULTILINE)


def test_bad_snooze_period_rejected(clinic):
    output = run(clinic, "followups", "snooze", "1", "--for", "5d", code=2)

    assert "'5d' is not one of '2w', '1m', '3m'" in output


def test_referrals_import_names_patient_column(clinic, tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(
        "date,practice,Patient DOB\n2026-11-02,Northgate Clinic,1961-04-12\n"
    )

    output = run(clinic, "referrals", "import", str(path), code=1)

    assert f"{path}, line 1: column 'Patient DOB' looks like patient data" in output


def test_digest_sent_once_through_smtp(clinic, tmp_path):
    env = {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}
    with running_smtp_server(tmp_path) as server:
        for name, value in [
            ("smtp_host", "127.0.0.1"),
            ("smtp_port", str(server.port)),
            ("smtp_user", USER),
            ("smtp_ca_file", str(server.ca_file)),
            ("digest_sender", "digest@brookside-pt.example"),
        ]:
            run(clinic, "config", "set", name, value)
        run(clinic, "secrets", "set-smtp-password", "--password", PASSWORD, env=env)

        first = run(clinic, "digest", "--staff", SAM, "--as-of", "2026-12-02", env=env)
        second = run(clinic, "digest", "--staff", SAM, "--as-of", "2026-12-02", env=env)

    assert first == f"{SAM} 2026-12-02: sent\n"
    assert second == f"{SAM} 2026-12-02: already sent\n"
    (message,) = server.inbox.messages()
    assert message["Subject"].startswith("Warmline digest for Wed 02 Dec 2026")
