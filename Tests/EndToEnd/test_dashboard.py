"""The dashboard in a real headless Chromium: live rows, filters, status, and log text never run as HTML."""
import shutil
import time

import pytest

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

XSS_LINES = [
    b'ERROR [xss] <img src=x onerror="window.__pwned=1">',
    b"ERROR [xss] <script>window.__pwned=2</script>",
    b'WARN [<b>bold</b>] "quotes" & ampersands',
]


@pytest.fixture
def browser():
    driver_path = shutil.which("chromedriver")
    assert driver_path, "chromedriver is missing: ./test.sh installs chromium-driver"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


def message_texts(browser):
    return [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#rows td.message")]


def wait_until(browser, condition, timeout=10):
    return WebDriverWait(browser, timeout).until(lambda _: condition())


def test_history_live_rows_and_status(server, browser):
    server.send_tcp(b"INFO [web] before the page opened\n")
    server.wait_received(1)
    browser.get(server.base_url + "/")
    wait_until(browser, lambda: browser.find_element(By.ID, "connection-text").text == "live")
    wait_until(browser, lambda: message_texts(browser) == ["INFO [web] before the page opened"])
    server.send_udp(b"ERROR [web] arrived live")
    wait_until(browser, lambda: message_texts(browser)[:1] == ["ERROR [web] arrived live"])
    level_cell = browser.find_element(By.CSS_SELECTOR, "#rows tr td.level")
    assert level_cell.text == "ERROR" and "level-ERROR" in level_cell.get_attribute("class")
    wait_until(browser, lambda: browser.find_element(By.ID, "buffer-count").text == "2")


def test_filters_ask_the_server_again(server, browser):
    server.send_tcp(b"INFO [a] first\nERROR [b] second\nWARN [a] third\n")
    server.wait_received(3)
    browser.get(server.base_url + "/")
    wait_until(browser, lambda: len(message_texts(browser)) == 3)
    Select(browser.find_element(By.ID, "level")).select_by_visible_text("ERROR")
    wait_until(browser, lambda: message_texts(browser) == ["ERROR [b] second"])
    Select(browser.find_element(By.ID, "level")).select_by_visible_text("All levels")
    browser.find_element(By.ID, "service").send_keys("a")
    wait_until(browser, lambda: message_texts(browser) == ["WARN [a] third", "INFO [a] first"])
    browser.find_element(By.ID, "query").send_keys("FIRST")
    wait_until(browser, lambda: message_texts(browser) == ["INFO [a] first"])


def test_log_text_is_never_interpreted_as_html(server, browser):
    server.send_tcp(XSS_LINES[0] + b"\n")
    server.wait_received(1)
    browser.get(server.base_url + "/")
    wait_until(browser, lambda: browser.find_element(By.ID, "connection-text").text == "live")
    for line in XSS_LINES[1:]:
        server.send_udp(line)
    expected = [line.decode() for line in reversed(XSS_LINES)]
    wait_until(browser, lambda: message_texts(browser) == expected)
    time.sleep(0.5)  # give any injected handler the chance to run
    assert browser.execute_script("return window.__pwned") is None
    rows = browser.find_element(By.ID, "rows")
    assert rows.find_elements(By.TAG_NAME, "img") == [] and rows.find_elements(By.TAG_NAME, "script") == []
    assert rows.find_elements(By.TAG_NAME, "b") == []
    services = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#rows td.service")]
    assert services[0] == "unknown"  # "[<b>bold</b>]" is not a service name


def test_a_clicked_row_shows_format_times_and_fields_as_text(server, browser):
    server.send_tcp(b'{"level":"warn","time":1732816800123,"msg":"slow","service":"api","user":"<img src=x onerror=window.__pwned=3>"}\n')
    server.wait_received(1)
    browser.get(server.base_url + "/")
    wait_until(browser, lambda: len(message_texts(browser)) == 1)
    browser.find_element(By.CSS_SELECTOR, "#rows td.message").click()
    details = wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#rows tr.details dl"))
    pairs = dict(zip([dt.text for dt in details[0].find_elements(By.TAG_NAME, "dt")],
                     [dd.text for dd in details[0].find_elements(By.TAG_NAME, "dd")]))
    assert pairs["format"] == "json" and pairs["source time"] == "2024-11-28T18:00:00.123Z"
    assert pairs["user"] == "<img src=x onerror=window.__pwned=3>"
    assert browser.execute_script("return window.__pwned") is None
    assert browser.find_element(By.ID, "rows").find_elements(By.TAG_NAME, "img") == []
    browser.find_element(By.CSS_SELECTOR, "#rows td.message").click()
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#rows tr.details") == [])
