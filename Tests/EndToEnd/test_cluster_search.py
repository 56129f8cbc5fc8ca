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
