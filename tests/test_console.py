"""The console at /, in a real headless browser: Debian's chromium and chromium-driver
(apt, as .ci/run installs them) driven by Selenium; nothing is downloaded at test time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import ServerProcess, free_port, missing, require_module, wait_until

CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Any:
    if not (os.path.exists(CHROMEDRIVER) and shutil.which("chromium")):
        missing("chromium and chromium-driver (apt-get install chromium chromium-driver)")
    webdriver = require_module("selenium.webdriver")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or ""
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                              options=options)
    yield driver
    driver.quit()


def cell_texts(driver: Any, selector: str) -> list[str]:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return [td.text for td in driver.find_elements(By.CSS_SELECTOR, selector + " td")]
    except StaleElementReferenceException:  # the table was rebuilt while we read it
        return []


def test_console_shows_drops_and_group_lag(browser: Any, spawn: Callable[..., ServerProcess],
                                           tmp_path: Path) -> None:
    http = free_port()
    server = spawn("respd", "--http-port", str(http))
    r = server.client(decode_responses=True)
    browser.get(f"http://127.0.0.1:{http}/")
    assert browser.title == "respd console"
    updates = lambda: int(browser.find_element("css selector", "body")  # noqa: E731
                          .get_attribute("data-updates") or 0)
    wait_until(lambda: updates() >= 1, "the first server-sent snapshot")

    # A PUBLISH nobody hears is a drop.
    assert r.publish("ghost", "anyone?") == 0
    channel = 'tr[data-channel="ghost"]'
    wait_until(lambda: cell_texts(browser, channel)[:3] == ["ghost", "0", "1"]
               and cell_texts(browser, channel)[4] == "1", "the drop in the channel table")

    # A group's lag falls as its consumer reads; pending falls as it acknowledges.
    for i in range(4):
        r.xadd("orders", {"n": i})
    r.xgroup_create("orders", "billing", id="0")
    group = 'tr.group[data-stream="orders"][data-group="billing"]'
    wait_until(lambda: cell_texts(browser, group)[2:4] == ["4", "0"], "lag 4, nothing pending")
    entries = r.xreadgroup("billing", "worker-1", {"orders": ">"}, count=3)[0][1]
    wait_until(lambda: cell_texts(browser, group)[2:4] == ["1", "3"], "lag 1, 3 pending")
    for entry_id, _ in entries:
        r.xack("orders", "billing", entry_id)
    wait_until(lambda: cell_texts(browser, group)[2:4] == ["1", "0"], "acknowledged")

    r.rpush("jobs", "a", "b")
    wait_until(lambda: cell_texts(browser, 'tr[data-queue="jobs"]')[:3] == ["jobs", "list", "2"],
               "the queue depth")
    # A consumer blocked on a queue that does not exist yet is shown with depth 0.
    import threading

    blocker = server.client()
    waiting = threading.Thread(target=lambda: blocker.blpop(["jobs:idle"], timeout=10))
    waiting.start()
    try:
        wait_until(lambda: cell_texts(browser, 'tr[data-queue="jobs:idle"]')[2:] == ["0", "1"],
                   "the blocked consumer")
    finally:
        r.rpush("jobs:idle", "wake")
        waiting.join(10)
    wait_until(lambda: updates() >= 4, "a few snapshots for the charts")
    shot = tmp_path / "console.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("RESPD_CONSOLE_SCREENSHOT"):  # by hand: the README's picture
        shutil.copy(shot, os.environ["RESPD_CONSOLE_SCREENSHOT"])
