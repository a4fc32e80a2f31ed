"""`warmline accounts add caldav` and `warmline sync` against a real Radicale."""

from __future__ import annotations

import json

from click.testing import CliRunner
from cryptography.fernet import Fernet

from tests.servers.radicale import RadicaleServer
from tests.servers.radicale import radicale as radicale  # noqa: F401
from warmline.cli import main

SAM = "sam.ortiz@brookside-pt.example"
SOURCES = (
    "type,name,practice,emails,domains,address\n"
    'practice,Riverside Family Medicine,,,riverside-fm.example,"12 River St, Springfield"\n'
    'provider,"Maria L. Lopez, MD",Riverside Family Medicine,'
    "maria.lopez@riverside-fm.example,,\n"
)
LUNCH = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:lunch-cli@brookside-pt.example\r\n"
    "DTSTAMP:20260301T000000Z\r\nDTSTART:20260305T180000Z\r\n"
    "DTEND:20260305T190000Z\r\nSUMMARY:Lunch and learn\r\n"
    f"ORGANIZER;CN=Sam Ortiz:mailto:{SAM}\r\n"
    "ATTENDEE;CN=Maria Lopez;PARTSTAT=ACCEPTED:mailto:maria.lopez@riverside-fm.example\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def invoke(database_url: str, env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner(env=env).invoke(main, ["--database", database_url, *args])


def add_caldav(database_url, env, server: RadicaleServer, user: str):  # type: ignore[no-untyped-def]
    return invoke(
        database_url, env,
        "accounts", "add", "caldav", "--url", server.url, "--user", user, "--staff", SAM,
    )  # fmt: skip


def test_caldav_account_synced_from_cli(database_url, radicale, tmp_path):
    user, password = radicale.add_user()
    seeder = radicale.seeder(user, password)
    calendar = seeder.make_calendar("work")
    seeder.put(f"{calendar}lunch.ics", LUNCH)
    sources = tmp_path / "sources.csv"
    sources.write_text(SOURCES, encoding="utf-8")
    env = {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    invoke(database_url, env, "sources", "import", str(sources))

    added = add_caldav(database_url, env | {"WARMLINE_CALDAV_PASSWORD": password}, radicale, user)
    synced = invoke(database_url, env, "sync")
    again = invoke(database_url, env, "sync")
    exported = invoke(database_url, env, "touchpoints", "export", "--format", "json")

    assert added.exit_code == 0, added.output
    assert synced.exit_code == 0, synced.output
    assert again.exit_code == 0, again.output
    rows = json.loads(exported.output)
    assert [(row["kind"], row["practice"]) for row in rows] == [
        ("meeting", "Riverside Family Medicine")
    ]


def test_caldav_wrong_password_named(database_url, radicale):
    user, _password = radicale.add_user()
    env = {
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
        "WARMLINE_CALDAV_PASSWORD": "wrong",
    }
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    add_caldav(database_url, env, radicale, user)

    synced = invoke(database_url, env, "sync")

    assert synced.exit_code == 1
    assert user in synced.output
    assert "wrong" not in synced.output.replace(user, "")
