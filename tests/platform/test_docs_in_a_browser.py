"""The docs in a real headless browser that can reach nothing but this machine's loopback."""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

from tests.databases import REDIS_URL
from tests.people import PASSWORD, unique_email
from tests.servers import free_port, wait_until_answering

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def server(database_url: str, cache_namespace: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "AIBOS_ENV": "test",
        "AIBOS_DOCS_ENABLED": "true",
        "AIBOS_MIGRATE_ON_START": "false",
        "AIBOS_DATABASE_URL": database_url,
        "AIBOS_CACHE_NAMESPACE": cache_namespace,
        "AIBOS_LOG_LEVEL": "WARNING",
    }
    if REDIS_URL is None:
        env.pop("AIBOS_REDIS_URL", None)
    server = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "aibos", "serve", "--port", str(port)], env=env
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base_url}/api/v1/health/ready", 200)
        yield base_url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        # No name resolves: a page that needs a CDN fails here as it would offline.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, 30)


# ReDoc's footer shows Redocly's logo from their CDN: the policy blocks it, ReDoc hides the image.
ELSEWHERE_IMAGE = re.compile(r"Loading the image 'https?://(?!127\.0\.0\.1[:/])")


def refusals(driver: WebDriver) -> list[str]:
    """What the browser's console said was blocked or failed, but images from elsewhere."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if (entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"])
        and not ELSEWHERE_IMAGE.search(entry["message"])
    ]


def test_swagger_ui_renders_signs_in_with_the_password_flow_and_tries_users_me(
    server: str, browser: WebDriver
) -> None:
    email = unique_email("docs")
    registered = httpx.post(
        f"{server}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Docs Reader"},
    )
    assert registered.is_success, registered.text

    browser.get(f"{server}/docs")
    wait(browser).until(shown.presence_of_all_elements_located((By.CSS_SELECTOR, ".opblock")))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) > 10

    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    browser.find_element(By.ID, "oauth_username").send_keys(email)
    browser.find_element(By.ID, "oauth_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn.authorize").click()
    wait(browser).until(
        shown.text_to_be_present_in_element((By.CSS_SELECTOR, ".auth-btn-wrapper"), "Logout")
    )
    browser.find_element(By.CSS_SELECTOR, ".btn-done").click()

    users_me = browser.find_element(
        By.CSS_SELECTOR, '.opblock-get:has([data-path="/api/v1/users/me"])'
    )
    users_me.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait(browser).until(lambda _: users_me.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    users_me.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    users_me.find_element(By.CSS_SELECTOR, ".btn.execute").click()
    live = (By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status")
    wait(browser).until(lambda _: users_me.find_elements(*live))

    assert users_me.find_element(*live).text.strip().startswith("200")
    body = users_me.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    assert email in body
    assert refusals(browser) == []


def test_redoc_renders_every_operation(server: str, browser: WebDriver) -> None:
    operations = (By.CSS_SELECTOR, '[data-section-id^="operation/"]')

    browser.get(f"{server}/redoc")
    wait(browser).until(shown.presence_of_all_elements_located(operations))

    assert len(browser.find_elements(*operations)) > 10
    assert refusals(browser) == []


def test_the_docs_pages_allow_their_own_assets_and_nothing_from_elsewhere(server: str) -> None:
    for page in ("/docs", "/redoc"):
        policy = httpx.get(f"{server}{page}").headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
