"""The site's cold list equals `warmline cold`'s on the example clinic."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import new_client, sign_in
from tests.web.factories import password_hash
from warmline.cli import main
from warmline.models import Workspace
from warmline.web_models import WebRole, WebUser
from web.pages.today import COLD_SHOWN

EXAMPLES = Path(__file__).parents[2] / "examples"
AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
ADMIN = "admin@brookside-pt.example"


def warmline(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--database", database_url, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def add_admin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        session.add(
            WebUser(
                workspace_id=workspace.id,
                email=ADMIN,
                password_hash=password_hash(),
                role=WebRole.ADMIN,
            )
        )


def cli_rows(output: str) -> list[list[str]]:
    """Split `warmline cold`'s table into cells, on runs of two or more spaces."""
    lines = output.strip().splitlines()[2:]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def page_rows(html: str) -> list[list[str]]:
    table = html.split('id="cold"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    rows = []
    for row in body.split("</tr>")[:-1]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def test_site_cold_list_equals_cli(
    app, clock, database_url, sessions, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))
    add_admin(sessions)
    clock.now = AS_OF
    expected = cli_rows(warmline(database_url, "cold", "--as-of", "2026-12-01"))

    with new_client(app) as client:
        assert sign_in(client, ADMIN).status_code == 303
        api = client.get("/api/cold").json()
        page = client.get("/")
        learned = [item for item in api if item["cadence_basis"] == "learned"]
        source_pages = [client.get(f"/sources/{item['source_id']}") for item in learned]

    assert len(expected) > 10
    assert len(api) == len(expected)
    for item, cells in zip(api, expected, strict=True):
        assert str(item["rank"]) == cells[0]
        assert item["name"] == cells[1]
        cadence = f"{item['cadence_days']} days ({item['cadence_basis']})"
        assert cadence in cells
        assert str(item["referrals_year"]) in cells[-3:]
    shown = page_rows(page.text)
    assert len(shown) == min(len(expected), COLD_SHOWN)
    for cells, item in zip(shown, api[:COLD_SHOWN], strict=True):
        assert cells[0] == str(item["rank"])
        assert cells[1] == item["name"]
        assert cells[7] == f"{item['cadence_days']} days ({item['cadence_basis']})"
        overdue = item["overdue_days"]
        assert cells[8] == ("" if overdue is None else str(overdue))
        assert cells[9] == str(item["referrals_year"])
    assert f"{len(expected)}</span>" in page.text
    # A source's own page shows the cadence the cold list ranks it by.
    assert learned
    for item, source_page in zip(learned, source_pages, strict=True):
        assert f"every {item['cadence_days']} days" in source_page.text
