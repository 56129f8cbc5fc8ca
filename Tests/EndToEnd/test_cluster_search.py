"""source=cluster: the query language translated to ClickHouse SQL, run against Debian's clickhouse-server (18.16)
and compared with the same search of the local store, hostile text included; histograms, facets, paging
across nodes, permalinks, and the errors a cluster search answers with."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from clickhouse import PASSWORD, USER, ClickHouse, available
from conftest import free_port
from test_clickhouse import shipping, wait_shipped

HOSTILE = ["O'Brien", "back\\slash", "end\\", "'; DROP TABLE logs; --", "a\x00b", "/* comment */", "100% _x_", "{p:String}", "''", "\\'"]


def corpus():
    lines = []
    for i in range(1200):
        kind = i % 6
        if kind == 0:
            lines.append(b'{"level":"error","service":"payment","msg":"card declined for order %d","user":"u%d","code":50%d}' % (i, i % 5, i % 3))
        elif kind == 1:
            lines.append(b"<134>1 2026-12-04T10:00:00Z web-%d nginx - - - GET /item/%d 200 timeout=%dms" % (i % 3, i, i % 40))
        elif kind == 2:
            lines.append(b'level=warn service=auth-api msg="token %d expired" user=u%d' % (i, i % 5))
        elif kind == 3:
            lines.append(b"DEBUG [cache] lookup %d hit ratio 0.%d timeouts" % (i, i % 10))
        elif kind == 4:
            lines.append(b"a line with no service or level %d Timeout" % i)
        else:
            lines.append(("INFO [users] " + HOSTILE[(i // 6) % len(HOSTILE)] + " said hello %d" % i).encode())
    return b"\n".join(lines) + b"\n"


QUERIES = [
    {"q": "declined"}, {"q": "card declined"}, {"q": '"order 6"'}, {"q": "time*"}, {"q": "*out"}, {"q": "*meou*"}, {"q": "timeout"},
    {"q": "level:error"}, {"q": "level:>=warn"}, {"q": "level:<info"}, {"q": "service:pay*"}, {"q": "service:unknown"},
    {"q": "service:*-api"}, {"q": "host:web-1"}, {"q": "host:web-*"}, {"q": "field.user:u1"}, {"q": "field.code:50*"},
    {"q": '/declined for order [0-9]*2"/'}, {"q": "/DECLINED/i"}, {"q": "/hit ratio 0\\.[5-9]/"}, {"q": "NOT level:debug AND timeout"},
    {"q": "service:payment OR service:auth-api"}, {"q": "(expired OR declined) AND NOT field.user:u0"}, {"q": "-declined level:error"},
    {"query": "TOKEN 1"}, {"level": "warn"}, {"service": "cache"}, {"service": "unknown"}, {"field.user": "u3"},
    {"q": "hello", "level": "info", "service": "users"},
] + [{"q": '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'} for text in HOSTILE] + [{"query": text} for text in HOSTILE] \
  + [{"q": text} for text in ["O'Brien", "'; DROP TABLE logs; --", "\\'", "a'b\\"]] + [{"service": "x'; DROP TABLE logs; --"}, {"field.user": "u'1\\"}]


def get(server, path, params):
    url = f"{server.base_url}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    from conftest import Server
    instance = ClickHouse(free_port, name="search").start()
    table = "logstream.search"
    server = Server(*shipping(table, instance, node="node-a"))
    server.send_tcp(corpus())
    server.wait_received(1200)
    wait_shipped(server, instance, table, 1200)
    yield server, instance, table
    server.stop()
    instance.remove()


@pytest.mark.parametrize("params", QUERIES, ids=[json.dumps(q) for q in QUERIES])
def test_the_same_search_finds_the_same_records_locally_and_in_clickhouse(shipped, params):
    server, _, _ = shipped
    status, local, _ = get(server, "/api/logs", {**params, "limit": 10000})
    assert status == 200, local
    status, cluster, headers = get(server, "/api/logs", {**params, "limit": 10000, "source": "cluster"})
    assert status == 200, cluster
    assert [entry["id"] for entry in cluster] == [entry["id"] for entry in local]
    assert all(entry["node"] == "node-a" for entry in cluster)
    for mine, theirs in zip(local[:50], cluster[:50]):
        assert {k: v for k, v in theirs.items() if k not in ("node", "cursor")} == mine, "the same JSON, plus node and cursor"


def test_the_table_survives_every_hostile_query(shipped):
    server, instance, table = shipped
    assert instance.scalar(f"SELECT count() FROM {table}") >= 1200


def test_histograms_and_facets_count_the_same(shipped):
    server, _, _ = shipped
    now = int(time.time() * 1000)
    window = {"since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000 - 600)), "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000 + 60))}
    for params in [{}, {"q": "timeout"}, {"q": "level:>=warn"}]:
        _, local, _ = get(server, "/api/histogram", {**params, **window, "buckets": 30})
        status, cluster, _ = get(server, "/api/histogram", {**params, **window, "buckets": 30, "source": "cluster"})
        assert status == 200 and cluster == local
        for field in ["level", "service", "host", "protocol", "format", "field.user"]:
            _, local, _ = get(server, "/api/facets", {**params, "field": field, "limit": 5})
            status, cluster, _ = get(server, "/api/facets", {**params, "field": field, "limit": 5, "source": "cluster"})
            assert status == 200 and cluster == local, (field, params)


def test_paging_with_cursors_walks_every_record_once(shipped):
    server, _, _ = shipped
    seen, before = [], None
    while True:
        params = {"source": "cluster", "limit": 250, **({"before": before} if before else {})}
        status, page, _ = get(server, "/api/logs", params)
        assert status == 200
        seen += [entry["id"] for entry in page]
        if len(page) < 250:
            break
        before = page[-1]["cursor"]
    held = server.stats()["received"]  # a NUL ends a TCP line: the hostile "a\x00b" lines are two records each
    assert held >= 1200 and len(seen) == len(set(seen)) == held and seen == sorted(seen, reverse=True)


def test_a_line_and_its_neighbours_by_node_and_id(shipped):
    server, _, _ = shipped
    _, one, _ = get(server, "/api/logs", {"limit": 1, "q": "declined"})
    target = one[0]["id"]
    status, around, _ = get(server, "/api/logs", {"source": "cluster", "node": "node-a", "after": target - 6, "before": target + 6, "limit": 11})
    assert status == 200 and [entry["id"] for entry in around] == list(range(target + 5, target - 6, -1))


def test_bad_cluster_requests_are_told_apart(shipped, make_server):
    server, instance, _ = shipped
    status, body, _ = get(server, "/api/logs", {"source": "cluster", "q": "/(unclosed/"})
    assert status == 400 and "q:" in body["error"], "a regex our parser refuses is refused before ClickHouse"
    status, body, _ = get(server, "/api/logs", {"source": "cluster", "q": "/a{2,1}/"})
    assert status == 400
    status, body, _ = get(server, "/api/logs", {"source": "somewhere"})
    assert status == 400 and "source must be local or cluster" in body["error"]
    status, body, _ = get(server, "/api/logs", {"source": "cluster", "before": "12"})
    assert status == 400 and "cursor" in body["error"]
    alone = make_server()
    status, body, _ = get(alone, "/api/logs", {"source": "cluster"})
    assert status == 400 and "--clickhouse-url" in body["error"]


def test_clickhouse_down_is_a_503_and_frozen_a_504(make_server):
    instance = ClickHouse(free_port, name="down").start()
    try:
        server = make_server(*shipping("logstream.down", instance, "--clickhouse-timeout", "1s"))
        server.send_tcp(b"INFO [x] one\n")
        wait_shipped(server, instance, "logstream.down", 1)
        instance.freeze()
        started = time.time()
        status, body, _ = get(server, "/api/logs", {"source": "cluster"})
        assert status == 504 and "did not answer within 1.0 s" in body["error"] and time.time() - started < 5
        status, local, _ = get(server, "/api/logs", {})
        assert status == 200 and len(local) == 1, "local searches go on"
        instance.thaw()
        instance.stop()
        status, body, _ = get(server, "/api/logs", {"source": "cluster"})
        assert status == 503 and "Connection refused" in body["error"]
    finally:
        instance.remove()


def test_one_dashboard_switches_to_the_cluster_and_finds_both_nodes_lines(make_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from test_dashboard import messages, open_dashboard, url_params
    instance = ClickHouse(free_port, name="two-nodes").start()
    try:
        table = "logstream.both"
        node_a = make_server(*shipping(table, instance, node="node-a"))
        node_b = make_server(*shipping(table, instance, node="node-b"))
        node_a.send_tcp(b"".join(b"INFO [shop] from-a %d\n" % i for i in range(30)))
        node_b.send_tcp(b"".join(b"WARN [shop] from-b %d\n" % i for i in range(30)))
        wait_shipped(node_a, instance, table, 30)
        wait_shipped(node_b, instance, table, 60)
        open_dashboard(browser, node_a)
        source = browser.find_element(By.ID, "source")
        WebDriverWait(browser, 10).until(lambda _: source.is_displayed())
        assert all("from-a" in text for text in messages(browser)), "this node's live tail first"
        Select(source).select_by_value("cluster")
        shown = lambda: browser.find_element(By.ID, "shown").text
        WebDriverWait(browser, 10).until(lambda _: shown() == "60 of 60 lines")
        assert url_params(browser)["source"] == "cluster" and url_params(browser)["since"] == "1h"
        # The count is set at once, the rows on the next animation frame.
        WebDriverWait(browser, 10).until(lambda _: any("from-b" in text for text in messages(browser)))
        visible = messages(browser)
        assert any("from-b" in text for text in visible) and any("from-a" in text for text in visible)
        # A node-b line: its details name the node, and its permalink opens it among node-b's neighbours.
        browser.get(node_a.base_url + "/?source=cluster&q=" + urllib.parse.quote('"from-b 7"'))
        WebDriverWait(browser, 10).until(lambda _: shown() == "1 of 1 lines" and len(messages(browser)) == 1)
        browser.find_element(By.CSS_SELECTOR, "#list .row .msg").click()
        WebDriverWait(browser, 10).until(lambda _: browser.find_element(By.ID, "details").is_displayed())
        names = [term.text for term in browser.find_elements(By.CSS_SELECTOR, "#details-fields dt")]
        values = [value.text for value in browser.find_elements(By.CSS_SELECTOR, "#details-fields dd")]
        assert dict(zip(names, values))["node"] == "node-b"
        browser.find_element(By.ID, "permalink").click()
        WebDriverWait(browser, 10).until(lambda _: url_params(browser).get("node") == "node-b")
        WebDriverWait(browser, 10).until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#list .row.target"))
        target = browser.find_element(By.CSS_SELECTOR, "#list .row.target")
        assert "from-b 7" in target.text
        assert all("from-b" in text for text in messages(browser)), "the neighbours are node-b's"
        # The histogram and facets count both nodes.
        browser.get(node_a.base_url + "/?source=cluster")
        WebDriverWait(browser, 10).until(lambda _: shown() == "60 of 60 lines")
        facet_text = browser.find_element(By.ID, "facet-level").text
        assert "WARN" in facet_text and "INFO" in facet_text
        assert browser.find_element(By.ID, "source").get_attribute("value") == "cluster"
        Select(browser.find_element(By.ID, "range")).select_by_value("")
        WebDriverWait(browser, 10).until(lambda _: "source" not in url_params(browser))
    finally:
        instance.remove()
