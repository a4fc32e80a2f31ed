"""The site in a real browser: Debian's Chromium, headless, driven by Playwright.

The app runs under uvicorn on a loopback port, over a SQLite database loaded
with the example clinic by the same function `warmline demo` runs.  Each
step saves a screenshot of the page under $WARMLINE_TEST_ARTIFACTS, or the
test's temporary directory when that is unset.

Playwright's own browser downloads are not used: the tests launch the
Chromium that .ci/install-browser installs from Debian's packages.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from tests.conftest import EXAMPLES
from tests.web.conftest import web_settings
from warmline.db import create_engine, migrate, session_factory
from warmline.demo import SAM, run_demo
from warmline.models import ReferralSource, Touchpoint, TouchpointStatus
from warmline.web_models import WebRole
from warmline.workspaces import get_or_create_workspace
from web import create_app
from web.passwords import Passwords
from web.users import upsert_user

CHROMIUM = os.environ.get("WARMLINE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "example clinic password"
BAD_CSV = "type,name,practice\npractice,Lakeview Clinic,\nclinic,Typo Kind,\n"
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} is not installed; run .ci/install-browser",
)
if os.environ.get("CI"):
    # Under CI a missing browser or Playwright fails the tests, not skips them.
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Load the example clinic, add an admin, and serve the app on loopback.

    Yields the site's base URL and the database URL.
    """
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = create_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    run_demo(sessions, "default", EXAMPLES, batch_size=500)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        upsert_user(
            session, workspace, SAM, PASSWORD, WebRole.ADMIN, Passwords()
        )
    engine.dispose()

    app = create_app(web_settings(url))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", url
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    app.state.web.engine.dispose()


@pytest.fixture
def artifacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    base = os.environ.get("WARMLINE_TEST_ARTIFACTS")
    folder = Path(base) / request.node.name if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(tmp_path: Path) -> Iterator[sync_api.Page]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Root in a container has no user namespaces for the sandbox.
            args=["--no-sandbox", "--disable-gpu"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        yield tab
        context.close()
        browser.close()
        assert errors == [], "JavaScript errors on the page"


def screenshot(page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def sign_in(page, base: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Email").fill(SAM)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/")


def touchpoint_status(database_url: str, touchpoint_id: int) -> TouchpointStatus:
    engine = create_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return session.get_one(Touchpoint, touchpoint_id).status
    finally:
        engine.dispose()


def source_name(database_url: str, source_id: int) -> str:
    engine = create_engine(database_url)
    try:
        with session_factory(engine)() as session:
            name = session.scalar(
                select(ReferralSource.name).where(ReferralSource.id == source_id)
            )
            assert name is not None
            return name
    finally:
        engine.dispose()


def test_sign_in_and_today(demo, page, artifacts):
    base, _database = demo

    sign_in(page, base)

    assert page.locator("h1").inner_text() == "Today"
    assert page.locator("#cold tbody tr").count() > 0
    chart = page.locator("#weekly-chart svg")
    assert chart.get_attribute("role") == "img"
    assert page.locator("#weekly-chart svg rect").count() > 0
    screenshot(page, artifacts, "today")


def test_review_confirm_and_reassign(demo, page, artifacts):
    base, database = demo
    sign_in(page, base)

    page.goto(base + "/review")
    items = page.locator("li.review-item")
    before = items.count()
    assert before >= 2, "the example clinic has fewer than two matches to review"
    screenshot(page, artifacts, "review")
    first = items.first
    first_id = int(first.get_attribute("data-touchpoint"))
    first.locator("button.confirm").click()
    page.locator(f"#review-{first_id}").wait_for(state="detached")

    # A confirmation may teach the matcher an address and so settle other
    # matches of that address too.
    assert items.count() <= before - 1
    assert "1 touchpoint confirmed." in page.locator("#queue").inner_text()
    assert touchpoint_status(database, first_id) is TouchpointStatus.CONFIRMED

    second = items.first
    second_id = int(second.get_attribute("data-touchpoint"))
    select = second.locator("select[name=target]")
    suggested = select.input_value()
    practice_ids = select.locator("option").evaluate_all(
        "options => options.map(option => option.value)"
    )
    target = next(
        value
        for value in practice_ids
        if ":" not in value and value != suggested.split(":")[0]
    )
    select.select_option(target)
    second.get_by_role("button", name="Reassign").click()
    page.locator(f"#review-{second_id}").wait_for(state="detached")

    assert "1 touchpoint reassigned." in page.locator("#queue").inner_text()
    assert touchpoint_status(database, second_id) is TouchpointStatus.REJECTED
    page.goto(f"{base}/sources/{target}")
    timeline = page.locator("#timeline").inner_text()
    assert "confirmed" in timeline
    assert f"Reassigned by {SAM}" in timeline
    screenshot(page, artifacts, "reassigned-source")


def test_source_timeline(demo, page, artifacts):
    base, _database = demo
    sign_in(page, base)

    page.goto(base + "/sources")
    page.get_by_label("Search").fill("Riverside Family")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Riverside Family Medicine", exact=True).first.click()
    page.locator("#timeline").wait_for()

    assert page.locator("h1").inner_text().startswith("Riverside Family Medicine")
    assert page.locator("#timeline li.touchpoint").count() > 0
    assert page.locator("#timeline .reasons li").count() > 0
    assert re.search(r"\d+ days ago|never", page.locator("#last-touch").inner_text())
    screenshot(page, artifacts, "source")


def test_settings_page(demo, page, artifacts):
    base, _database = demo
    sign_in(page, base)

    page.get_by_role("link", name="Settings").click()
    page.get_by_label(re.compile("^Default cadence days")).fill("every month")
    page.get_by_label(re.compile("^Blocklist")).fill("newsletters.example")
    page.get_by_role("button", name="Save settings").click()

    error = page.locator("#error-default_cadence_days")
    assert "'every month' is not a whole number" in error.inner_text()
    assert page.locator("#settings-errors").is_visible()
    screenshot(page, artifacts, "settings-error")

    page.get_by_label(re.compile("^Default cadence days")).fill("21")
    page.get_by_role("button", name="Save settings").click()

    assert "2 settings saved." in page.locator("#settings-saved").inner_text()
    assert page.get_by_label(re.compile("^Default cadence days")).input_value() == "21"
    assert page.get_by_label(re.compile("^Blocklist")).input_value() == (
        "newsletters.example"
    )
    screenshot(page, artifacts, "settings")


def test_import_shows_row_errors(demo, page, artifacts, tmp_path):
    base, _database = demo
    sign_in(page, base)
    bad_csv = tmp_path / "bad-sources.csv"
    bad_csv.write_text(BAD_CSV, encoding="utf-8")

    page.goto(base + "/imports")
    page.locator("input[name=file]").set_input_files(str(bad_csv))
    page.locator("form.upload button").click()
    page.locator("#row-error-count").wait_for()

    problem = page.locator("tr.row-error td.problem").first.inner_text()
    assert "type 'clinic' is unknown" in problem
    screenshot(page, artifacts, "import-preview")
