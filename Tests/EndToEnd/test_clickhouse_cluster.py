"""Two LogStream nodes shipping into a two-shard ClickHouse cluster (two Debian clickhouse-server 18.16 instances and
a Distributed table over them), one node's API finding both nodes' lines; a shard down and a shard frozen make the
cluster search say so rather than answer with part of the cluster."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from clickhouse import available, two_shard_cluster
from conftest import free_port
from test_clickhouse import shipping, wait_shipped


def get(server, path, params):
    url = f"{server.base_url}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def cluster():
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    shards = two_shard_cluster(free_port)
    yield shards
    for shard in shards:
        shard.remove()


def test_two_nodes_ship_into_two_shards_and_one_node_searches_both(make_server, cluster, browser):
    first, second = cluster
    node_a = make_server(*shipping("logstream.logs", first, "--clickhouse-timeout", "2s", node="node-a"))
    node_b = make_server(*shipping("logstream.logs", second, "--clickhouse-timeout", "2s", node="node-b"))
    node_a.send_tcp(b"".join(b"INFO [shop] from-a order %d\n" % i for i in range(3000)))
    node_b.send_tcp(b"".join(b"ERROR [pay] from-b card %d declined\n" % i for i in range(2000)))
    node_a.wait_received(3000)
    node_b.wait_received(2000)
    # Distributed inserts reach the other shard in the background: wait until the whole cluster has them.
    deadline = time.time() + 60
    while time.time() < deadline and first.scalar("SELECT uniqExact(node, id) FROM logstream.logs") < 5000:
        time.sleep(0.2)
    assert first.scalar("SELECT uniqExact(node, id) FROM logstream.logs") == 5000
    assert second.scalar("SELECT uniqExact(node, id) FROM logstream.logs") == 5000
    held = [shard.scalar("SELECT count() FROM logstream.logs_local") for shard in cluster]
    assert all(count > 1000 for count in held), f"rows spread over both shards by cityHash64(node, id): {held}"

    status, found = get(node_a, "/api/logs", {"source": "cluster", "q": "from-b declined", "limit": 10000})
    assert status == 200 and len(found) == 2000 and {entry["node"] for entry in found} == {"node-b"}
    status, everything = get(node_a, "/api/logs", {"source": "cluster", "limit": 10000})
    assert status == 200 and len(everything) == 5000 and {entry["node"] for entry in everything} == {"node-a", "node-b"}
    status, facets = get(node_a, "/api/facets", {"source": "cluster", "field": "service"})
    assert status == 200 and facets["total"] == 5000 and {v["value"]: v["count"] for v in facets["values"]} == {"shop": 3000, "pay": 2000}
    status, histogram = get(node_b, "/api/histogram", {"source": "cluster", "q": "level:error", "since": "10m"})
    assert status == 200 and sum(sum(row) for row in histogram["counts"]) == 2000

    # One node's dashboard, switched to the cluster, finds the other node's lines.
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_dashboard import messages
    shown = lambda: browser.find_element(By.ID, "shown").text
    for phrase, node in [("from-b card 1717 declined", "node-b"), ("from-a order 2999", "node-a")]:
        browser.get(node_a.base_url + "/?source=cluster&q=" + urllib.parse.quote(f'"{phrase}"'))
        WebDriverWait(browser, 15).until(lambda _: shown() == "1 of 1 lines")
        # The count is set at once, the rows on the next animation frame: wait for the row itself.
        WebDriverWait(browser, 15).until(lambda _: [phrase in text for text in messages(browser)] == [True])
    browser.get(node_a.base_url + "/?source=cluster&q=level:error")
    WebDriverWait(browser, 15).until(lambda _: "WARN" not in browser.find_element(By.ID, "facet-level").text
                                     and "2,000" in browser.find_element(By.ID, "facet-level").text)

    # One shard down: the cluster search says so; it does not answer with half the cluster.
    second.stop()
    status, body = get(node_a, "/api/logs", {"source": "cluster", "q": "from-b"})
    assert status == 503 and "Code: 279" in body["error"], body
    status, local = get(node_a, "/api/logs", {"q": "from-a", "limit": 5})
    assert status == 200 and len(local) == 5, "this node's own history still answers"

    # One shard frozen: the search gives up at --clickhouse-timeout and says so.
    second.start()
    second.freeze()
    started = time.time()
    status, body = get(node_a, "/api/logs", {"source": "cluster", "q": "from-b"})
    took = time.time() - started
    second.thaw()
    assert status == 504 and "did not answer within 2.0 s" in body["error"] and took < 10, (status, body, took)


def test_retention_drops_old_days_on_every_shard_and_keeps_the_rest(make_server, cluster):
    first, second = cluster
    old = int(time.time()) - 20 * 86400
    for index, shard in enumerate(cluster):
        shard.query("INSERT INTO logstream.logs_local (node, id, ts, ts_ms, msg) VALUES "
                    + ", ".join(f"('old-{index}', {i}, {old + i}, {(old + i) * 1000}, 'ancient {i}')" for i in range(50)))
        shard.query("INSERT INTO logstream.logs_local (node, id, ts, ts_ms, msg) VALUES "
                    + ", ".join(f"('old-{index}', {100 + i}, {old + 13 * 86400 + i}, {(old + 13 * 86400 + i) * 1000}, 'recent {i}')" for i in range(50)))
    days = lambda shard: shard.scalar("SELECT uniqExact(partition_id) FROM system.parts WHERE database = 'logstream' AND table = 'logs_local' AND active")
    assert [days(shard) for shard in cluster] == [2, 2]
    node = make_server(*shipping("logstream.logs", first, "--clickhouse-url", second.url, "--clickhouse-retention", "10d"))
    node.send_tcp(b"".join(b"INFO [shop] today %d\n" % i for i in range(500)))
    node.wait_for(lambda: node.stats()["clickhouse_partitions_dropped"] == 2, message="one old day dropped on each shard")
    wait_shipped(node, first, "logstream.logs", 600)  # 500 of today, and the 50 recent rows on each shard
    for index, shard in enumerate(cluster):
        assert shard.scalar(f"SELECT count() FROM logstream.logs_local WHERE node = 'old-{index}' AND msg LIKE 'ancient%'") == 0
        assert shard.scalar(f"SELECT count() FROM logstream.logs_local WHERE node = 'old-{index}' AND msg LIKE 'recent%'") == 50
    assert first.scalar("SELECT uniqExact(node, id) FROM logstream.logs WHERE node = 'node-a'") == 500
    assert node.stop() == 0
    log = node.process.stderr.read().decode()
    assert log.count("retention dropped day") == 2, log
