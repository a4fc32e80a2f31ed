"""Mistakes a new user makes on the command line get a message, not a traceback."""

from __future__ import annotations

from click.testing import CliRunner

from warmline.cli import main


def invoke(*args: str, **env: str):
    return CliRunner().invoke(main, list(args), env=env or None)


def test_bad_database_urls_are_named(tmp_path):
    missing = invoke("--database", f"sqlite:///{tmp_path}/no/such/dir/x.db", "init")
    bogus = invoke("--database", "bogus", "init")

    assert missing.exit_code == 2
    assert "cannot open the database" in missing.output
    assert "the folder exists and is writable" in missing.output
    assert bogus.exit_code == 2
    assert "database URL 'bogus' is not a SQLAlchemy URL" in bogus.output
    assert not isinstance(missing.exception, ValueError)


def test_followups_for_unknown_staff(database_url):
    result = invoke(
        "--database", database_url, "followups", "list", "--staff", "nobody@x.example"
    )

    assert result.exit_code == 1
    assert "nobody@x.example" in result.output


def test_web_user_password_from_environment(database_url):
    result = invoke(
        "--database", database_url, "users", "add", "director@alpha.example",
        WARMLINE_WEB_PASSWORD="a long enough password",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output


def test_config_values_that_cannot_work(database_url):
    def config(name: str, value: str):
        return invoke("--database", database_url, "config", "set", name, value)

    threshold = config("review_threshold", "0.9")
    port = config("smtp_port", "99999")
    domain = config("own_domains", "not_a_domain")
    blocked = config("blocklist", "@@@")

    assert threshold.exit_code != 0
    assert "review_threshold 0.9 must be below confirm_threshold 0.85" in (
        threshold.output
    )
    assert "'99999' is not a port from 1 to 65535" in port.output
    assert "'not_a_domain' is not a domain such as example.com" in domain.output
    assert "'@@@' is neither an address" in blocked.output
    assert config("review_threshold", "0.6").exit_code == 0


def test_staff_working_hours_checked(database_url):
    def add(hours: str):
        return invoke(
            "--database", database_url, "staff", "add", "sam@alpha.example",
            "--name", "Sam", "--working-hours", hours,
        )  # fmt: skip

    bad = add("mon-fri 25:00-17:00")
    good = add("mon-thu 07:00-15:30")

    assert bad.exit_code == 1
    assert "25:00" in bad.output
    assert good.exit_code == 0, good.output


def test_new_sqlite_file_is_announced_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    first = invoke("--database", url, "init")
    second = invoke("--database", url, "init")

    assert "created a new, empty database at" in first.stderr
    assert "created a new" not in second.stderr
