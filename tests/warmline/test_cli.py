"""The command line end to end on the shipped example clinic."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from warmline.cli import main
from warmline.export import COLUMNS

EXAMPLES = Path(__file__).parents[2] / "examples"
SAM = "sam.ortiz@brookside-pt.example"


def warmline(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--database", database_url, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_demo_prints_sources_touchpoints_and_cold(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    output = warmline(database_url, "demo", "--examples", str(EXAMPLES))

    assert "== Referral sources: " in output
    assert "== Referrals: 33 created, 0 updated, 0 unchanged" in output
    assert "Riverside Family Medicine" in output
    assert "== Sync" in output
    assert "== Touchpoints: " in output
    assert "== Going cold: " in output
    assert (tmp_path / "warmline-touchpoints.csv").exists()


def test_demo_twice_adds_nothing(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))
    first = (tmp_path / "warmline-touchpoints.csv").read_bytes()

    output = warmline(database_url, "demo", "--examples", str(EXAMPLES))

    assert " 0 created, 0 updated," in output
    assert "== Referrals: 0 created, 0 updated, 33 unchanged" in output
    assert (tmp_path / "warmline-touchpoints.csv").read_bytes() == first


def test_export_csv_opens_as_spreadsheet(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))
    target = tmp_path / "out.csv"

    warmline(database_url, "touchpoints", "export", "--format", "csv", "-o", str(target))

    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) > 100
    kinds = {row["kind"] for row in rows}
    assert kinds == {"email", "meeting"}
    for row in rows:
        assert row["status"] in {"confirmed", "needs_review"}
        assert 0.0 <= float(row["confidence"]) <= 1.0
        assert row["occurred_at"][19] in "+-"
        assert row["reasons"]
        if row["kind"] == "email":
            assert row["direction"] in {"inbound", "outbound"}
            assert row["occurrence"] == ""
        else:
            assert row["direction"] == ""
    recurring = [row for row in rows if row["occurrence"]]
    assert recurring
    assert all(row["occurrence"].endswith("Z") for row in recurring)


def test_export_json_matches_csv_rows(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))

    output = warmline(database_url, "touchpoints", "export", "--format", "json")

    rows = json.loads(output)
    with (tmp_path / "warmline-touchpoints.csv").open(encoding="utf-8-sig") as handle:
        assert len(rows) == sum(1 for _row in csv.DictReader(handle))
    assert set(rows[0]) == set(COLUMNS)


def test_cold_lists_overdue_with_cadence(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))

    output = warmline(database_url, "cold", "--as-of", "2026-12-01")

    lines = output.splitlines()
    assert lines[0].split()[:5] == ["#", "source", "type", "practice", "owner"]
    assert "never" in output
    assert len(lines) > 4


def test_sync_reports_quarantined_items(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))

    output = warmline(database_url, "sync")

    assert "quarantined (kept out; fix or ignore them)" in output
    assert "limit 65,536" in output


def test_bad_sources_file_exits_with_message(database_url, tmp_path):
    path = tmp_path / "sources.csv"
    path.write_text("type,name\nclinic,Nowhere\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["--database", database_url, "sources", "import", str(path)])

    assert result.exit_code == 1
    assert f"{path}, line 2: type 'clinic' is unknown" in result.output


def test_accounts_add_unknown_staff_names_fix(database_url, tmp_path):
    mbox = tmp_path / "m.mbox"
    mbox.write_bytes(b"")

    result = CliRunner().invoke(
        main, ["--database", database_url, "accounts", "add", "mbox", str(mbox), "--staff", SAM]
    )

    assert result.exit_code == 1
    assert "warmline staff add" in result.output


def test_config_set_rejects_bad_value(database_url):
    result = CliRunner().invoke(
        main, ["--database", database_url, "config", "set", "confirm_threshold", "2"]
    )

    assert result.exit_code == 1
    assert "'2' is not between 0 and 1" in result.output
