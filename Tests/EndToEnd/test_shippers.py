"""The shippers' HTTP endpoints, driven by the real clients: the OpenTelemetry SDK's OTLP/HTTP exporter, a Loki
logging handler from PyPI, Loki's snappy protobuf built with the protobuf library, the official Elasticsearch
client, and curl. Then every malformed shape: the server answers 4xx, stores nothing of the request, stays up,
and a good record sent afterwards is stored."""
import gzip
import json
import logging
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zlib

import pytest
import snappy
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import timestamp_pb2  # noqa: F401  (registers google/protobuf/timestamp.proto in the pool)

from conftest import free_port

TOKEN = "shipper-token-0123456789"


def post(server, path, body, content_type="application/json", encoding=None, headers=None, port=None):
    """Posts `body` and returns (status, headers, body bytes)."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if encoding:
        all_headers["Content-Encoding"] = encoding
    if server.token and "Authorization" not in all_headers:
        all_headers["Authorization"] = f"Bearer {server.token}"
    request = urllib.request.Request(f"http://127.0.0.1:{port or server.http_port}{path}", data=body, method="POST",
                                     headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def records_with(server, text, count=1, timeout=10):
    return server.wait_for(lambda: (found := [r for r in server.logs(query=text, limit=1000) if text in r["raw"]]) and len(found) >= count and found,
                           timeout, f"{count} records with {text!r}")


def received(server):
    return server.stats()["received"]


# --- OpenTelemetry ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")  # the SDK points to a newer package for it
def test_the_opentelemetry_sdk_exports_logs_over_otlp_http_protobuf(make_server):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    otlp_port = free_port()
    server = make_server("--otlp-port", str(otlp_port))
    for port, compression in ((server.http_port, Compression.NoCompression), (otlp_port, Compression.Gzip)):
        provider = LoggerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "web-3", "deployment.environment": "prod"}))
        provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"http://127.0.0.1:{port}/v1/logs", compression=compression)))
        logger = logging.getLogger(f"otel-{port}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("charge") as span:
            logger.warning("payment declined on %d", port, extra={"order_id": 17, "amount": 9.5, "retry": True})
            context = span.get_span_context()
        logger.critical("card processor down %d", port)
        logger.debug("cache miss %d", port)
        provider.shutdown()

        [warning] = records_with(server, f"payment declined on {port}")
        assert (warning["service"], warning["host"], warning["level"], warning["format"], warning["protocol"]) == \
            ("checkout", "web-3", "WARN", "otlp", "HTTP")
        fields = warning["fields"]
        assert fields["order_id"] == 17 and fields["amount"] == 9.5 and fields["retry"] is True
        assert fields["deployment.environment"] == "prod" and fields["scope.name"] == f"otel-{port}"
        assert fields["trace_id"] == format(context.trace_id, "032x") and fields["span_id"] == format(context.span_id, "016x")
        assert abs(time.time() - time.mktime(time.strptime(warning["source_time"][:19], "%Y-%m-%dT%H:%M:%S")) + time.timezone) < 120
        assert records_with(server, f"card processor down {port}")[0]["level"] == "FATAL"
        assert records_with(server, f"cache miss {port}")[0]["level"] == "DEBUG"


def otlp_json(body, severity=9, time_ns="1764352805123000000", attributes=()):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "billing"}},
                                    {"key": "host.name", "value": {"stringValue": "db-1"}}]},
        "scopeLogs": [{"scope": {"name": "billing.jobs"}, "logRecords": [{
            "timeUnixNano": time_ns, "severityNumber": severity, "severityText": "whatever",
            "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
            "body": body, "attributes": list(attributes)}]}]}]}).encode()


def test_otlp_json_maps_every_part_of_a_record(make_server):
    server = make_server()
    status, headers, answer = post(server, "/v1/logs", otlp_json({"stringValue": "invoice sent"}, severity=21, attributes=[
        {"key": "count", "value": {"intValue": "12345678901234"}},
        {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}}]))
    assert status == 200 and headers["Content-Type"] == "application/json" and json.loads(answer) == {}
    [record] = records_with(server, "invoice sent")
    assert (record["service"], record["host"], record["level"]) == ("billing", "db-1", "FATAL")
    assert record["source_time"] == "2025-11-28T18:00:05.123Z"
    assert record["fields"]["count"] == 12345678901234 and record["fields"]["tags"] == '["a",2]'
    assert record["fields"]["trace_id"] == "5b8efff798038103d269b633813fc60c" and record["fields"]["span_id"] == "eee19b7ec3c1b174"
    # A map body is stored as its JSON; the observed time stands in for a missing event time.
    kvlist = {"kvlistValue": {"values": [{"key": "event", "value": {"stringValue": "kv-body"}}]}}
    status, _, _ = post(server, "/v1/logs", gzip.compress(otlp_json(kvlist, time_ns="0")), encoding="gzip")
    assert status == 200
    [record] = records_with(server, "kv-body")
    assert json.loads(record["raw"]) == {"event": "kv-body"} and record["source_time"] is None


# --- Loki ------------------------------------------------------------------------------------------------------

def test_a_loki_logging_handler_pushes_json(make_server):
    import logging_loki

    loki_port = free_port()
    server = make_server("--loki-port", str(loki_port), "--auth-token", TOKEN)
    # Loki clients authenticate with HTTP Basic: any user, the token as the password.
    handler = logging_loki.LokiHandler(url=f"http://127.0.0.1:{loki_port}/loki/api/v1/push", tags={"service": "orders", "env": "staging"},
                                       auth=("loki-user", TOKEN), version="1")
    logger = logging.getLogger("loki-test")
    logger.propagate = False
    logger.addHandler(handler)
    logger.error("order 42 failed", extra={"tags": {"region": "eu"}})
    logger.warning("order 43 slow")
    [failed] = records_with(server, "order 42 failed")
    assert (failed["service"], failed["level"], failed["format"]) == ("orders", "ERROR", "loki")
    assert failed["fields"]["env"] == "staging" and failed["fields"]["region"] == "eu" and failed["fields"]["logger"] == "loki-test"
    assert records_with(server, "order 43 slow")[0]["level"] == "WARN"
    # Without the password, nothing is taken.
    status, _, _ = post(server, "/loki/api/v1/push", b'{"streams":[]}', headers={"Authorization": "Basic bG9raTp3cm9uZw=="}, port=loki_port)
    assert status == 401


def loki_push_type():
    """logproto.PushRequest (github.com/grafana/loki pkg/push/push.proto), built with the protobuf library."""
    file = descriptor_pb2.FileDescriptorProto(name="push_test.proto", package="logproto", syntax="proto3",
                                              dependency=["google/protobuf/timestamp.proto"])
    def message(name, *fields):
        descriptor = file.message_type.add(name=name)
        for number, (field_name, kind, label, type_name) in enumerate(fields, 1):
            field = descriptor.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
    F = descriptor_pb2.FieldDescriptorProto
    message("LabelPairAdapter", ("name", F.TYPE_STRING, F.LABEL_OPTIONAL, None), ("value", F.TYPE_STRING, F.LABEL_OPTIONAL, None))
    message("EntryAdapter", ("timestamp", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Timestamp"),
            ("line", F.TYPE_STRING, F.LABEL_OPTIONAL, None),
            ("structuredMetadata", F.TYPE_MESSAGE, F.LABEL_REPEATED, ".logproto.LabelPairAdapter"))
    message("StreamAdapter", ("labels", F.TYPE_STRING, F.LABEL_OPTIONAL, None),
            ("entries", F.TYPE_MESSAGE, F.LABEL_REPEATED, ".logproto.EntryAdapter"), ("hash", F.TYPE_UINT64, F.LABEL_OPTIONAL, None))
    message("PushRequest", ("streams", F.TYPE_MESSAGE, F.LABEL_REPEATED, ".logproto.StreamAdapter"))
    pool = descriptor_pool.Default()
    try:
        pool.Add(file)
    except TypeError:
        pass  # added by an earlier test in this process
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


def loki_protobuf(streams):
    push = loki_push_type()()
    for labels, entries in streams:
        stream = push.streams.add(labels=labels)
        for seconds, line, metadata in entries:
            entry = stream.entries.add(line=line)
            entry.timestamp.seconds = seconds
            entry.timestamp.nanos = 250_000_000
            for name, value in metadata.items():
                entry.structuredMetadata.add(name=name, value=value)
    return push.SerializeToString()


def test_loki_protobuf_pushes_as_promtail_sends_them(make_server):
    server = make_server()
    body = snappy.compress(loki_protobuf([
        ('{job="varlogs", service_name="gateway", host="edge-2", filename="/var/log/gw.log"}',
         [(1764352805, "GET /health 200", {"trace_id": "t-1"}),
          (1764352806, '{"level":"error","msg":"upstream timeout","upstream":"auth"}', {})]),
        ('{app="worker", detected_level="warn"}', [(1764352807, "queue \\\"deep\\\" 900", {})]),
    ]))
    status, _, answer = post(server, "/loki/api/v1/push", body, content_type="application/x-protobuf")
    assert status == 204 and answer == b""
    [health] = records_with(server, "GET /health 200")
    assert (health["service"], health["host"], health["level"], health["format"]) == ("gateway", "edge-2", "INFO", "loki")
    assert health["fields"] == {"job": "varlogs", "filename": "/var/log/gw.log", "trace_id": "t-1"}
    assert health["source_time"] == "2025-11-28T18:00:05.250Z"
    [timeout] = records_with(server, "upstream timeout")
    assert timeout["level"] == "ERROR" and timeout["fields"]["upstream"] == "auth" and timeout["service"] == "gateway"
    [queue] = records_with(server, "queue")
    assert (queue["service"], queue["level"]) == ("worker", "WARN")


# --- Elasticsearch ---------------------------------------------------------------------------------------------

def test_the_elasticsearch_client_sees_a_server_and_bulk_indexes_ecs_documents(make_server):
    from elasticsearch import Elasticsearch, helpers

    es_port = free_port()
    server = make_server("--elasticsearch-port", str(es_port), "--auth-token", TOKEN, "--elasticsearch-version", "8.15.2")
    for url in (f"http://127.0.0.1:{server.http_port}/es", f"http://127.0.0.1:{es_port}"):
        client = Elasticsearch(url, basic_auth=("elastic", TOKEN), request_timeout=10)
        assert client.info()["version"]["number"] == "8.15.2"
        marker = uuid.uuid4().hex[:8]
        documents = [{"_index": "logs-app", "_source": {
            "@timestamp": "2026-11-28T18:00:05.500Z", "message": f"login ok {marker} {n}", "log": {"level": "warn" if n % 2 else "info"},
            "service": {"name": "auth"}, "host": {"hostname": "web-9"}, "user": {"name": f"u{n}"}, "event.duration": n * 10,
            "tags": ["a", "b"]}} for n in range(50)]
        indexed, errors = helpers.bulk(client, documents, refresh=False)
        assert (indexed, errors) == (50, [])
        found = records_with(server, f"login ok {marker}", count=50)
        sample = next(r for r in found if r["raw"] == f"login ok {marker} 3")
        assert (sample["service"], sample["host"], sample["level"], sample["format"]) == ("auth", "web-9", "WARN", "elasticsearch")
        assert sample["source_time"] == "2026-11-28T18:00:05.500Z"
        assert sample["fields"]["user.name"] == "u3" and sample["fields"]["event.duration"] == 30 and sample["fields"]["index"] == "logs-app"
        assert json.loads(sample["fields"]["tags"]) == ["a", "b"]


def test_bulk_answers_an_item_per_action_in_order(make_server):
    server = make_server()
    body = b"".join(json.dumps(line).encode() + b"\n" for line in [
        {"index": {"_index": "web", "_id": "given-1"}}, {"message": "bulk one", "level": "error"},
        {"delete": {"_index": "web", "_id": "x"}},
        {"update": {"_index": "web", "_id": "y"}}, {"doc": {"a": 1}},
        {"create": {}}, {"message": "bulk two"},
    ]) + b'{"create":{}}\n{"message": broken\n'
    for path, content_type in (("/es/web/_bulk", "application/x-ndjson"), ("/es/web/_bulk", "application/vnd.elasticsearch+x-ndjson; compatible-with=8")):
        status, headers, answer = post(server, path, body, content_type=content_type)
        assert status == 200 and headers["X-Elastic-Product"] == "Elasticsearch"
        result = json.loads(answer)
        assert result["errors"] is True
        actions = [(next(iter(item)), item[next(iter(item))]["status"]) for item in result["items"]]
        assert actions == [("index", 201), ("delete", 400), ("update", 400), ("create", 201), ("create", 400)]
        assert result["items"][0]["index"]["_id"] == "given-1" and result["items"][3]["create"]["_index"] == "web"
    assert len(records_with(server, "bulk one", count=2)) == 2 and len(records_with(server, "bulk two", count=2)) == 2
    # A malformed action line refuses the whole request, as Elasticsearch does.
    before = received(server)
    status, _, answer = post(server, "/es/_bulk", b'{"index":{"_index":"a"}}\n{"message":"not stored"}\n{"index":\n', content_type="application/x-ndjson")
    assert status == 400 and b"line 3" in answer and received(server) == before


def test_the_calls_shippers_make_at_start_are_answered(make_server):
    server = make_server()
    def call(method, path):
        request = urllib.request.Request(server.base_url + path, method=method, data=b"{}" if method in ("PUT", "POST") else None,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers["X-Elastic-Product"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["X-Elastic-Product"], error.read()
    for method, path in [("GET", "/es"), ("GET", "/es/"), ("HEAD", "/es/"), ("GET", "/es/_license"), ("GET", "/es/_xpack"),
                         ("GET", "/es/_cluster/health"), ("GET", "/es/_nodes/http"), ("HEAD", "/es/_index_template/filebeat-8.15.0"),
                         ("PUT", "/es/_index_template/ecs-logstash"), ("GET", "/es/_ilm/policy/filebeat"), ("PUT", "/es/_ilm/policy/logstash-policy"),
                         ("HEAD", "/es/logstash"), ("PUT", "/es/_template/vector"), ("GET", "/es/_ingest/pipeline/x")]:
        status, product, _ = call(method, path)
        assert (status, product) == (200, "Elasticsearch"), (method, path)
    assert json.loads(call("GET", "/es/_license")[2])["license"]["status"] == "active"
    assert json.loads(call("GET", "/es/_cluster/health")[2])["status"] == "green"
    status, product, answer = call("GET", "/es/logs/_search")
    assert status == 404 and product == "Elasticsearch" and json.loads(answer)["status"] == 404


# --- Lines, with curl --------------------------------------------------------------------------------------------

def test_curl_posts_ndjson_and_lines_plain_and_gzipped(make_server, tmp_path):
    server = make_server()
    lines = b'{"level":"warn","service":"cart","msg":"curl ndjson","items":3}\n' \
            b'<11>1 2026-11-28T18:00:05Z host7 sshd 42 - - curl syslog\n' \
            b'time=2026-11-28T18:00:05Z level=error service=ledger msg="curl logfmt"\n' \
            b'\n' + b"curl long " + b"x" * 70_000 + b"\n"
    (tmp_path / "lines.ndjson").write_bytes(lines)
    (tmp_path / "lines.gz").write_bytes(gzip.compress(lines))
    def curl(*args):
        return subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", *args, f"{server.base_url}/api/ingest"],
                              capture_output=True, check=True).stdout.decode().rsplit("\n", 1)
    body, code = curl("-H", "Content-Type: application/x-ndjson", "--data-binary", f"@{tmp_path / 'lines.ndjson'}")
    assert code == "200" and json.loads(body) == {"accepted": 4, "truncated": 1}
    body, code = curl("-H", "Content-Encoding: gzip", "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{tmp_path / 'lines.gz'}")
    assert code == "200" and json.loads(body)["accepted"] == 4  # gzip, in chunks
    [ndjson, _] = records_with(server, "curl ndjson", count=2)
    assert (ndjson["service"], ndjson["level"], ndjson["format"], ndjson["fields"]["items"]) == ("cart", "WARN", "json", 3)
    syslog = records_with(server, "curl syslog", count=2)[0]
    assert (syslog["service"], syslog["host"], syslog["level"], syslog["format"]) == ("sshd", "host7", "ERROR", "rfc5424")
    assert records_with(server, "curl logfmt", count=2)[0]["service"] == "ledger"
    long = records_with(server, "curl long", count=2)[0]
    assert long["truncated"] is True and len(long["raw"]) == 64 * 1024
    # deflate as RFC 9110 says (zlib), and raw deflate as some clients send it.
    for encoded in (zlib.compress(b"deflate zlib line\n"), zlib.compress(b"deflate raw line\n")[2:-4]):
        status, _, _ = post(server, "/api/ingest", encoded, content_type="text/plain", encoding="deflate")
        assert status == 200
    records_with(server, "deflate zlib line")
    records_with(server, "deflate raw line")


# --- Bad input ---------------------------------------------------------------------------------------------------

def test_malformed_bodies_are_refused_whole_and_the_server_goes_on(make_server):
    server = make_server("--max-body-bytes", "64K")
    good_otlp = otlp_json({"stringValue": "never stored"})
    bomb = gzip.compress(b"\n" * (64 * 1024 * 9))
    cases = [
        ("/v1/logs", b"\x0a\x05\x0a\x03", "application/x-protobuf", None, 400, b"byte"),  # cut short
        ("/v1/logs", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "application/x-protobuf", None, 400, b"varint"),
        ("/v1/logs", good_otlp[:-3], "application/json", None, 400, b"at byte"),
        ("/v1/logs", good_otlp, "text/xml", None, 415, b"Content-Type"),
        ("/loki/api/v1/push", b"\xff\xff\xff\xff\x0f garbage", "application/x-protobuf", None, 413, b"snappy"),  # announces 4 GiB
        ("/loki/api/v1/push", b"\x20\x00\x01\x02", "application/x-protobuf", None, 400, b"snappy"),
        ("/loki/api/v1/push", b'{"streams":[{"stream":{"a":"b"},"values":[["notanumber","x"]]}]}', "application/json", None, 400, b"nanoseconds"),
        ("/loki/api/v1/push", snappy.compress(b"\x0a\x03\x0a\x01{"), "application/x-protobuf", None, 400, b"labels"),
        ("/api/ingest", bomb, "text/plain", "gzip", 413, b"inflates"),
        ("/api/ingest", b"\x1f\x8b\x08\x00garbage", "text/plain", "gzip", 400, b"gzip"),
        ("/api/ingest", b"plain", "text/plain", "br", 415, b"Content-Encoding"),
        ("/api/ingest", b"x" * (65 * 1024), "text/plain", None, 413, b"over"),
        ("/es/_bulk", b'{"index":{}}\n{"message":"no index"}\n', "application/x-ndjson", None, 400, b"_index"),
    ]
    before = received(server)
    for path, body, content_type, encoding, expected, words in cases:
        status, _, answer = post(server, path, body, content_type=content_type, encoding=encoding)
        assert status == expected and words in answer, (path, body[:20], status, answer)
        assert json.loads(answer)["error"], answer
    assert received(server) == before
    refused = server.stats()["http_ingest_refused"]
    assert refused["bad_request"] >= 7 and refused["too_large"] >= 2 and refused["unsupported_media_type"] >= 2
    status, _, _ = post(server, "/api/ingest", b"after the bad ones\n", content_type="text/plain")
    assert status == 200
    records_with(server, "after the bad ones")
    assert server.stats()["http_ingest_requests"]["otlp"] >= 4


def test_a_large_body_is_decoded_on_the_worker_and_stored_whole(make_server):
    server = make_server()
    # 40,000 OTLP records (about 8 MB of JSON), over the size decoded on the reactor.
    records = [{"timeUnixNano": "1764352805000000000", "severityNumber": 13, "body": {"stringValue": f"bulk json {n} " + "y" * 100},
                "attributes": [{"key": "n", "value": {"intValue": str(n)}}]} for n in range(40_000)]
    body = json.dumps({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "big"}}]},
                                         "scopeLogs": [{"logRecords": records}]}]}).encode()
    status, _, _ = post(server, "/v1/logs", body)
    assert status == 200
    assert server.stats()["http_ingest_records"]["otlp"] == 40_000
    assert server.logs(service="big", limit=1)[0]["raw"].startswith("bulk json 39999")
