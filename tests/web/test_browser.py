"""The site in a real browser: Debian's Chromium, headless, through ChromeDriver.

The app runs under uvicorn on a loopback port, over a SQLite database loaded
with the example clinic by the same function `warmline demo` runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import EXAMPLES
from tests.web.conftest import web_settings
from warmline.db import create_engine, migrate, session_factory
from warmline.demo import STAFF_EMAIL, run_demo
from warmline.web_models import WebRole
from warmline.workspaces import get_or_create_workspace
from web import create_app
from web.passwords import Passwords
from web.users import upsert_user

PASSWORD = "example clinic password"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
BAD_CSV = "type,name,practice\npractice,Lakeview Clinic,\nclinic,Typo Kind,\n"

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver"))
    and not os.environ.get("CI"),
    reason="chromium and chromedriver are not installed; run .ci/install-browser",
)


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    """Load the example clinic, add a web user and serve the app on loopback."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = create_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    run_demo(sessions, "default", EXAMPLES, batch_size=500)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        upsert_user(
            session, workspace, STAFF_EMAIL, PASSWORD, WebRole.ADMIN, Passwords()
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def wait_for(driver: WebDriver, css: str, seconds: float = 10):
    return WebDriverWait(driver, seconds).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_review_site_in_chromium(demo_url, browser, tmp_path):
    browser.get(demo_url + "/")
    browser.find_element(By.NAME, "email").send_keys(STAFF_EMAIL)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait_for(browser, "#weekly-chart")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Today"
    assert browser.find_elements(By.CSS_SELECTOR, "#cold tbody tr")
    browser.save_screenshot(str(tmp_path / "today.png"))

    browser.get(demo_url + "/sources?q=Riverside+Family")
    browser.find_element(By.LINK_TEXT, "Riverside Family Medicine").click()
    wait_for(browser, "#timeline")
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .reasons li")

    browser.get(demo_url + "/review")
    items = browser.find_elements(By.CSS_SELECTOR, "li.review-item")
    first_id = items[0].get_attribute("id")
    items[0].find_element(By.CSS_SELECTOR, "button.confirm").click()
    WebDriverWait(browser, 10).until(
        lambda driver: not driver.find_elements(By.ID, first_id)
    )
    assert (
        len(browser.find_elements(By.CSS_SELECTOR, "li.review-item")) == len(items) - 1
    )
    assert "1 touchpoint confirmed." in browser.find_element(By.ID, "queue").text

    bad_csv = tmp_path / "bad-sources.csv"
    bad_csv.write_text(BAD_CSV, encoding="utf-8")
    browser.get(demo_url + "/imports")
    browser.find_element(By.NAME, "file").send_keys(str(bad_csv))
    browser.find_element(By.CSS_SELECTOR, "form.upload button").click()
    wait_for(browser, "#row-error-count")
    problem = browser.find_element(By.CSS_SELECTOR, "tr.row-error td.problem").text
    assert "type 'clinic' is unknown" in problem
    browser.save_screenshot(str(tmp_path / "import-preview.png"))
    assert (tmp_path / "import-preview.png").stat().st_size > 0
