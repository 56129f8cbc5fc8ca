"""The dashboard in a real headless Chromium: live rows, the query box and its URL, facets, pause and resume,
histogram zoom, permalinks, row details, themes and shortcuts, 5,000 lines/s and 100,000 rows, and log text that
never runs as HTML. Screenshots go to $LOGSTREAM_SCREENSHOTS (default .build/screenshots)."""
import json
import os
import socket
import time
import urllib.parse
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import ROOT, timing_dependent  # noqa: E402

SCREENSHOTS = Path(os.environ.get("LOGSTREAM_SCREENSHOTS", ROOT / ".build" / "screenshots"))
XSS_LINES = [
    b'ERROR [xss] <img src=x onerror="window.__pwned=1">',
    b"ERROR [xss] <script>window.__pwned=2</script>",
    b'WARN [<b>bold</b>] "quotes" & ampersands',
    b'{"level":"error","service":"<img src=x onerror=window.__pwned=4>","msg":"<svg onload=window.__pwned=5>"}',
]
# The rendered rows in display order (the list reuses a small pool of elements positioned by transform).
ROWS_SCRIPT = """
return [...document.querySelectorAll('#list .row:not([hidden])')]
  .map(row => [Number(row.style.transform.replace(/[^0-9.]/g, '')), Number(row.dataset.id), row.querySelector('.msg').textContent])
  .sort((a, b) => a[0] - b[0]).map(([, id, text]) => [id, text]);
"""


def rows(browser):
    return browser.execute_script(ROWS_SCRIPT)


def messages(browser):
    return [text for _, text in rows(browser)]


def wait_until(browser, condition, timeout=10):
    return WebDriverWait(browser, timeout).until(lambda _: condition())


def text_of(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def open_dashboard(browser, server, query=""):
    browser.get(server.base_url + "/" + query)
    wait_until(browser, lambda: text_of(browser, "connection-text") == "live")


def url_params(browser):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(browser.current_url).query))


def screenshot(browser, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def press(browser, key):
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def test_history_live_rows_and_status(server, browser):
    server.send_tcp(b"INFO [web] before the page opened\n")
    server.wait_received(1)
    open_dashboard(browser, server)
    wait_until(browser, lambda: messages(browser) == ["INFO [web] before the page opened"])
    server.send_udp(b"ERROR [web] arrived live")
    wait_until(browser, lambda: messages(browser)[:1] == ["ERROR [web] arrived live"])
    first = browser.find_element(By.CSS_SELECTOR, "#list .row.level-ERROR .level")
    assert first.text == "ERROR"
    wait_until(browser, lambda: text_of(browser, "stored-count") == "2")
    assert text_of(browser, "kernel-drops") == "0" and text_of(browser, "dropped-count") == "0"


def test_the_tail_reconnects_after_a_server_restart(make_server, browser):
    first = make_server()
    first.send_tcp(b"".join(b"INFO [r] before the restart %d\n" % index for index in range(5)))
    first.wait_received(5)
    open_dashboard(browser, first)
    wait_until(browser, lambda: len(messages(browser)) == 5)
    assert first.stop() == 0
    wait_until(browser, lambda: text_of(browser, "connection-text") == "reconnecting")
    # The new server's ids start again from 1, below the ids the page holds: it must not wait for them to pass.
    second = make_server(ports=(first.udp_port, first.tcp_port, first.http_port))
    second.send_tcp(b"WARN [r] after the restart\n")
    wait_until(browser, lambda: messages(browser) == ["WARN [r] after the restart"], timeout=15)
    assert "restarted" in text_of(browser, "notice")
    second.send_udp(b"ERROR [r] live again")
    wait_until(browser, lambda: messages(browser)[:1] == ["ERROR [r] live again"])


def test_the_query_box_filters_highlights_and_lives_in_the_url(server, browser):
    server.send_tcp(b"INFO [pay] card accepted\nERROR [pay] card declined\nERROR [auth] token expired\nWARN [pay] slow card\n")
    server.wait_received(4)
    open_dashboard(browser, server)
    wait_until(browser, lambda: len(messages(browser)) == 4)
    box = browser.find_element(By.ID, "q")
    box.send_keys('level:>=warn service:pay "card"', Keys.ENTER)
    wait_until(browser, lambda: messages(browser) == ["WARN [pay] slow card", "ERROR [pay] card declined"])
    assert url_params(browser)["q"] == 'level:>=warn service:pay "card"'
    marks = [mark.text for mark in browser.find_elements(By.CSS_SELECTOR, "#list .row:not([hidden]) mark")]
    assert marks == ["card", "card"]
    # The link alone reproduces the view.
    link = browser.current_url
    browser.get("about:blank")
    browser.get(link)
    wait_until(browser, lambda: messages(browser) == ["WARN [pay] slow card", "ERROR [pay] card declined"])
    assert browser.find_element(By.ID, "q").get_attribute("value") == 'level:>=warn service:pay "card"'
    # A mistake is shown, and the rows stay.
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("(card", Keys.ENTER)
    wait_until(browser, lambda: "unbalanced" in text_of(browser, "notice"))
    assert "invalid" in box.get_attribute("class")


def test_the_original_simple_filters_still_work(server, browser):
    server.send_tcp(b"INFO [a] first\nERROR [b] second\nWARN [a] third\n")
    server.wait_received(3)
    open_dashboard(browser, server)
    wait_until(browser, lambda: len(messages(browser)) == 3)
    browser.find_element(By.CSS_SELECTOR, "#simple-filters summary").click()
    Select(browser.find_element(By.ID, "level")).select_by_visible_text("ERROR")
    wait_until(browser, lambda: messages(browser) == ["ERROR [b] second"])
    Select(browser.find_element(By.ID, "level")).select_by_visible_text("All levels")
    browser.find_element(By.ID, "service").send_keys("a")
    wait_until(browser, lambda: messages(browser) == ["WARN [a] third", "INFO [a] first"])
    browser.find_element(By.ID, "query").send_keys("FIRST")
    wait_until(browser, lambda: messages(browser) == ["INFO [a] first"])
    assert url_params(browser) == {"query": "FIRST", "service": "a"}


def test_facets_count_and_click_to_filter_or_shift_click_to_exclude(server, browser):
    server.send_tcp(b"".join(b"%s [%s] event %d\n" % ([b"INFO", b"ERROR"][i % 2], [b"checkout", b"search"][i % 3 == 0], i)
                             for i in range(30)))
    server.wait_received(30)
    open_dashboard(browser, server)

    def facet(field):
        return {button.find_element(By.CLASS_NAME, "name").text: button.find_element(By.CLASS_NAME, "count").text
                for button in browser.find_elements(By.CSS_SELECTOR, f"#facet-{field} button.facet-value")}

    wait_until(browser, lambda: facet("service") == {"checkout": "20", "search": "10"})
    assert facet("level") == {"INFO": "15", "ERROR": "15"} and facet("host") == {"127.0.0.1": "30"}
    browser.find_element(By.CSS_SELECTOR, "#facet-service button[data-value='search']").click()
    wait_until(browser, lambda: len(messages(browser)) == 10 and all("[search]" in text for text in messages(browser)))
    assert browser.find_element(By.ID, "q").get_attribute("value") == "service:search"
    error = browser.find_element(By.CSS_SELECTOR, "#facet-level button[data-value='ERROR']")
    ActionChains(browser).key_down(Keys.SHIFT).click(error).key_up(Keys.SHIFT).perform()
    wait_until(browser, lambda: len(messages(browser)) == 5 and all(text.startswith("INFO [search]") for text in messages(browser)))
    assert browser.find_element(By.ID, "q").get_attribute("value") == "service:search -level:ERROR"
    wait_until(browser, lambda: "out" in browser.find_element(By.CSS_SELECTOR, "#facet-level button[data-value='ERROR']").get_attribute("class")
               if browser.find_elements(By.CSS_SELECTOR, "#facet-level button[data-value='ERROR']") else True)
    # Clicking an included value again removes it.
    browser.find_element(By.CSS_SELECTOR, "#facet-service button[data-value='search']").click()
    wait_until(browser, lambda: browser.find_element(By.ID, "q").get_attribute("value") == "-level:ERROR")


def test_pause_shows_new_lines_and_resume_loses_nothing(server, browser):
    server.send_tcp(b"INFO [p] before\n")
    server.wait_received(1)
    open_dashboard(browser, server)
    wait_until(browser, lambda: messages(browser) == ["INFO [p] before"])
    press(browser, " ")
    wait_until(browser, lambda: text_of(browser, "mode") == "Paused")
    for index in range(30):
        server.send_udp(b"INFO [p] while paused %d" % index)
    wait_until(browser, lambda: text_of(browser, "new-lines") == "30 new lines")
    assert messages(browser) == ["INFO [p] before"]
    browser.find_element(By.ID, "pause").click()
    expected = ["INFO [p] while paused %d" % index for index in range(29, -1, -1)] + ["INFO [p] before"]
    wait_until(browser, lambda: messages(browser) == expected)
    assert not browser.find_element(By.ID, "new-lines").is_displayed()
    ids = [row_id for row_id, _ in rows(browser)]
    assert ids == sorted(set(ids), reverse=True)  # nothing twice


def test_histogram_shows_levels_and_zooms_to_a_range(server, browser):
    server.send_tcp(b"".join(b"%s [h] early %d\n" % ([b"INFO", b"ERROR", b"WARN"][i % 3], i) for i in range(30)))
    server.wait_received(30)
    time.sleep(1.2)
    server.send_tcp(b"".join(b"INFO [h] late %d\n" % i for i in range(10)))
    server.wait_received(40)
    open_dashboard(browser, server)
    wait_until(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#histogram rect.bar.level-ERROR")) >= 1)
    titles = browser.execute_script("return [...document.querySelectorAll('#histogram title')].map(t => t.textContent)")
    assert sum(int(title.split(": ")[1].split(" lines")[0].replace(",", "")) for title in titles) == 40
    # A click on the column holding the late lines shows that bucket's lines.
    late_column = browser.execute_script("""
        const columns = [...document.querySelectorAll('#histogram g.column')].filter(g => g.querySelector('rect.bar'));
        return columns[columns.length - 1].querySelector('rect.hit');""")
    late_column.click()
    wait_until(browser, lambda: "since" in url_params(browser) and "until" in url_params(browser))
    params = url_params(browser)
    expected = [entry["raw"] for entry in server.logs(since=params["since"], until=params["until"], limit=1000)]
    wait_until(browser, lambda: messages(browser) == expected)
    assert "INFO [h] late 9" in expected and "INFO [h] early 0" not in expected
    assert browser.find_element(By.ID, "back-to-live").is_displayed()
    # Dragging across the whole chart selects everything since its start.
    browser.find_element(By.ID, "back-to-live").click()
    wait_until(browser, lambda: "since" not in url_params(browser) and text_of(browser, "mode") == "Live")
    chart = browser.find_element(By.ID, "histogram")
    width = chart.size["width"]
    ActionChains(browser).move_to_element_with_offset(chart, -width // 2 + 2, 0).click_and_hold() \
        .move_by_offset(width - 6, 0).release().perform()
    wait_until(browser, lambda: "since" in url_params(browser))
    wait_until(browser, lambda: len(messages(browser)) == 40)
    screenshot(browser, "zoomed")
    # The browser's back button returns to the live view.
    browser.back()
    wait_until(browser, lambda: text_of(browser, "mode") == "Live")


def histogram_total(browser):
    titles = browser.execute_script("return [...document.querySelectorAll('#histogram title')].map(t => t.textContent)")
    return sum(int(title.split(": ")[1].split(" lines")[0].replace(",", "")) for title in titles)


def test_the_range_picker_reaches_into_history_on_disk(make_server, browser):
    server = make_server("--buffer-size", "50")
    server.send_tcp(b"".join(b"%s [r] history %d\n" % ([b"INFO", b"ERROR"][i % 2], i) for i in range(300)))
    server.wait_received(300)
    assert server.stats()["stored"] == 50
    open_dashboard(browser, server)
    # Live: the tail and, as before, a chart of what memory holds.
    wait_until(browser, lambda: messages(browser)[:1] == ["ERROR [r] history 299"])
    wait_until(browser, lambda: histogram_total(browser) == 50)
    assert Select(browser.find_element(By.ID, "range")).first_selected_option.text == "Live"
    # The last hour: every line, the 250 on disk included, and the chart over the hour.
    Select(browser.find_element(By.ID, "range")).select_by_visible_text("Last hour")
    wait_until(browser, lambda: url_params(browser).get("since") == "1h")
    wait_until(browser, lambda: text_of(browser, "shown") == "300 of 300 lines")
    assert messages(browser)[0] == "ERROR [r] history 299"
    wait_until(browser, lambda: histogram_total(browser) == 300)
    assert text_of(browser, "mode") == "Last hour, newest first"
    # A query over the range searches the disk too, and a link reproduces the view.
    browser.get(server.base_url + "/?since=7d&q=" + urllib.parse.quote("history 7"))
    wait_until(browser, lambda: messages(browser) == ["ERROR [r] history 7"])
    assert Select(browser.find_element(By.ID, "range")).first_selected_option.text == "Last 7 days"
    screenshot(browser, "range-7d")
    # A dragged range shows as a chosen one; Live returns to the tail.
    chart = browser.find_element(By.ID, "histogram")
    width = chart.size["width"]
    ActionChains(browser).move_to_element_with_offset(chart, -width // 2 + 2, 0).click_and_hold() \
        .move_by_offset(width - 6, 0).release().perform()
    wait_until(browser, lambda: "until" in url_params(browser))
    assert Select(browser.find_element(By.ID, "range")).first_selected_option.text == "Chosen range"
    Select(browser.find_element(By.ID, "range")).select_by_visible_text("Live")
    wait_until(browser, lambda: "since" not in url_params(browser) and text_of(browser, "mode") == "Live")
    # The query stays; the live chart covers memory, which no longer holds line 7.
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#histogram title") and histogram_total(browser) == 0)


def test_a_row_opens_its_details_and_a_permalink_with_its_neighbours(server, browser):
    server.send_tcp(b"".join(b"INFO [n] neighbour %d\n" % i for i in range(100)))
    server.send_tcp(b'{"level":"warn","time":1732816800123,"msg":"slow","service":"api","user":"alice"}\n')
    server.send_tcp(b"".join(b"INFO [n] after %d\n" % i for i in range(100)))
    server.wait_received(201)
    target = server.logs(q="slow")[0]
    open_dashboard(browser, server, "?q=slow")
    wait_until(browser, lambda: len(messages(browser)) == 1)
    browser.find_element(By.CSS_SELECTOR, "#list .row .msg").click()
    wait_until(browser, lambda: browser.find_element(By.ID, "details").is_displayed())
    names = [term.text for term in browser.find_elements(By.CSS_SELECTOR, "#details-fields dt")]
    values = [value.text for value in browser.find_elements(By.CSS_SELECTOR, "#details-fields dd")]
    details = dict(zip(names, values))
    assert details["source time"] == "2024-11-28T18:00:00.123Z" and details["received"] == target["timestamp"]
    assert details["format"] == "json" and details["field.user"] == "alice" and "after the source time" in details["delay"]
    browser.find_element(By.ID, "copy-json").click()
    wait_until(browser, lambda: text_of(browser, "copy-json") == "Copied")
    browser.find_element(By.ID, "permalink").click()
    wait_until(browser, lambda: url_params(browser) == {"line": str(target["id"])})
    wait_until(browser, lambda: len(messages(browser)) > 20)
    shown = dict(rows(browser))
    assert shown[target["id"]] == target["raw"]
    assert shown[target["id"] - 1] == "INFO [n] neighbour 99" and shown[target["id"] + 1] == "INFO [n] after 0"
    assert browser.find_element(By.CSS_SELECTOR, "#list .row.target").get_attribute("data-id") == str(target["id"])
    # Opened fresh, the link shows the same.
    link = browser.current_url
    browser.get("about:blank")
    browser.get(link)
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#list .row.target"))
    assert text_of(browser, "mode") == f"Line #{target['id']} and its neighbours"
    press(browser, Keys.ESCAPE)
    wait_until(browser, lambda: not browser.find_element(By.ID, "details").is_displayed())


def test_theme_time_toggle_and_search_shortcut(server, browser):
    server.send_tcp(b"INFO [k] keyboard\n")
    server.wait_received(1)
    open_dashboard(browser, server)
    wait_until(browser, lambda: len(messages(browser)) == 1)
    assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
    browser.find_element(By.ID, "theme").click()
    assert browser.execute_script("return document.documentElement.dataset.theme") == "light"
    screenshot(browser, "light")
    browser.refresh()
    wait_until(browser, lambda: len(messages(browser)) == 1)
    assert browser.execute_script("return document.documentElement.dataset.theme") == "light"  # remembered
    browser.find_element(By.ID, "theme").click()
    press(browser, "t")
    first_time = "return document.querySelector('#list .row:not([hidden]) .time').textContent"
    wait_until(browser, lambda: browser.execute_script(first_time).endswith("ago"))
    press(browser, "t")
    wait_until(browser, lambda: ":" in browser.execute_script(first_time))
    press(browser, "/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"


def test_log_text_is_never_interpreted_as_html(server, browser):
    server.send_tcp(XSS_LINES[0] + b"\n")
    server.wait_received(1)
    open_dashboard(browser, server, "?q=" + urllib.parse.quote('"<script>" OR xss OR quotes OR svg'))
    for line in XSS_LINES[1:]:
        server.send_udp(line)
    wait_until(browser, lambda: len(messages(browser)) == 4)
    assert set(messages(browser)) == {line.decode() for line in XSS_LINES}
    for row in browser.find_elements(By.CSS_SELECTOR, "#list .row"):
        row.click()  # the details panel renders fields too
    facet_values = "return [...document.querySelectorAll('#facet-service button')].map(b => b.dataset.value)"
    wait_until(browser, lambda: "<img src=x onerror=window.__pwned=4>" in browser.execute_script(facet_values))
    time.sleep(0.5)  # give any injected handler the chance to run
    assert browser.execute_script("return window.__pwned") is None
    for container in ("list", "details", "facet-service", "histogram"):
        element = browser.find_element(By.ID, container)
        for tag in ("img", "script", "b", "svg"):
            assert element.find_elements(By.TAG_NAME, tag) == [], (container, tag)


def test_a_stack_trace_is_one_row_in_the_live_tail_and_whole_in_its_details(make_server, browser):
    server = make_server("--multiline", "auto")
    open_dashboard(browser, server)
    trace = ("ERROR [orders] request failed <img src=x onerror=window.__pwned=5>\n"
             "java.lang.IllegalStateException: boom\n"
             "\tat com.example.Orders.place(Orders.java:42)\n"
             "Caused by: java.io.IOException: <b>disk</b> full\n"
             "\t... 2 more")
    server.send_tcp((trace + "\nINFO [orders] next request\n").encode())
    wait_until(browser, lambda: len(messages(browser)) == 2)
    assert messages(browser) == ["INFO [orders] next request", "ERROR [orders] request failed <img src=x onerror=window.__pwned=5>+4 lines"]
    badge = browser.find_element(By.CSS_SELECTOR, "#list .row .badge.folded")
    assert badge.text == "+4 lines"
    row = [r for r in browser.find_elements(By.CSS_SELECTOR, "#list .row") if "request failed" in r.text][0]
    assert row.size["height"] == 22, "one row, not one per line"
    row.click()
    wait_until(browser, lambda: browser.find_element(By.ID, "details").is_displayed())
    terms = [term.text for term in browser.find_elements(By.CSS_SELECTOR, "#details-fields dt")]
    lines = browser.find_elements(By.CSS_SELECTOR, "#details-fields dd")
    line = lines[terms.index("line")]
    assert line.get_attribute("textContent") == trace
    assert line.size["height"] > 4 * 12, "the trace is shown on its lines"
    screenshot(browser, "stack-trace")
    time.sleep(0.3)
    assert browser.execute_script("return window.__pwned") is None
    for container in ("list", "details"):
        for tag in ("img", "b"):
            assert browser.find_element(By.ID, container).find_elements(By.TAG_NAME, tag) == [], (container, tag)


def send_paced(server, total, per_second, batch):
    """`total` lines over UDP in datagrams of `batch` lines, paced at `per_second`."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    for first in range(0, total, batch):
        due = start + first / per_second
        time.sleep(max(0.0, due - time.monotonic()))
        sender.sendto(b"\n".join(b"INFO [load] paced line %06d" % i for i in range(first, min(first + batch, total))),
                      ("127.0.0.1", server.udp_port))
    sender.close()


@timing_dependent
def test_five_thousand_lines_a_second_keep_the_page_responsive(server, browser):
    open_dashboard(browser, server)
    browser.execute_script("""
        window.__longest = 0; window.__frames = 0;
        new PerformanceObserver(list => { for (const task of list.getEntries()) window.__longest = Math.max(window.__longest, task.duration); })
          .observe({ entryTypes: ['longtask'] });
        const tick = () => { window.__frames += 1; requestAnimationFrame(tick); };
        requestAnimationFrame(tick);""")
    started = time.monotonic()
    send_paced(server, 20000, 5000, 50)
    server.wait_received(20000)
    wait_until(browser, lambda: text_of(browser, "shown") == "20,000 lines", timeout=20)
    elapsed = time.monotonic() - started
    longest, frames = browser.execute_script("return [window.__longest, window.__frames]")
    print(f"5,000 lines/s for {elapsed:.1f} s: longest task {longest:.0f} ms, {frames / elapsed:.0f} frames/s")
    assert longest < 500, f"the page froze for {longest:.0f} ms"
    assert frames / elapsed > 10
    assert text_of(browser, "dropped-count") == "0"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#list .row")) < 120  # only the rows in view exist
    assert messages(browser)[0] == "INFO [load] paced line 019999"


@timing_dependent
def test_a_hundred_thousand_rows_scroll(server, browser):
    open_dashboard(browser, server)
    send_paced(server, 100_000, 25_000, 250)
    server.wait_received(100_000, timeout=30)
    wait_until(browser, lambda: text_of(browser, "shown") == "100,000 lines", timeout=30)
    screenshot(browser, "dashboard")
    frame_times = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const list = document.getElementById('list');
        const positions = [0.1, 0.5, 0.9, 1, 0.3, 0.7, 0];
        const times = [];
        const step = (index) => {
          if (index === positions.length) return done(times);
          const began = performance.now();
          list.scrollTop = positions[index] * (list.scrollHeight - list.clientHeight);
          requestAnimationFrame(() => requestAnimationFrame(() => { times.push(performance.now() - began); step(index + 1); }));
        };
        step(0);""")
    print("frame times while jumping through 100,000 rows (ms):", [round(value) for value in frame_times])
    assert max(frame_times) < 250
    browser.execute_script("const list = document.getElementById('list'); list.scrollTop = list.scrollHeight;")
    wait_until(browser, lambda: messages(browser)[-1:] == ["INFO [load] paced line 000000"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#list .row")) < 120


def test_with_a_token_the_dashboard_asks_for_it_first(make_server, browser):
    token = "correct-horse-battery-staple"
    server = make_server("--auth-token", token)
    server.send_tcp(b"INFO [secret] only for those with the token\n")
    server.wait_received(1)
    browser.get(server.base_url + "/")
    wait_until(browser, lambda: browser.current_url.endswith("/login"))
    field = browser.find_element(By.ID, "token")
    field.send_keys("wrong-wrong-wrong-wrong", Keys.ENTER)
    wait_until(browser, lambda: text_of(browser, "login-error") == "That is not the token.")
    field.clear()
    field.send_keys(token, Keys.ENTER)
    wait_until(browser, lambda: text_of(browser, "connection-text") == "live")
    wait_until(browser, lambda: messages(browser) == ["INFO [secret] only for those with the token"])
    server.send_udp(b"WARN [secret] live through the cookie")
    wait_until(browser, lambda: messages(browser)[:1] == ["WARN [secret] live through the cookie"])
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: no script can read the session
