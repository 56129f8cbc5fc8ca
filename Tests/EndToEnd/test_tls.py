"""TLS end to end, with certificates the tests make with `openssl`: HTTPS and WSS for curl, `websockets` and
headless Chromium; syslog over TLS (RFC 5425) from rsyslog and `openssl s_client`; mutual TLS on the ingestion
listeners; hostile and broken clients; SIGHUP reloading the certificate; bad certificate files at start."""
import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from websockets.sync.client import connect

from certificates import CertificateAuthority
from conftest import BINARY, free_port

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA with a server certificate (localhost, 127.0.0.1) and a client one (CN relay-1), and a
    second CA, trusted by nobody, whose client certificate claims the same name."""
    folder = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(folder / "ca", "test-ca")
    server_cert, server_key = ca.issue("server", "localhost", server=True)
    client_cert, client_key = ca.issue("client", "relay-1", server=False)
    stranger = CertificateAuthority(folder / "stranger", "stranger-ca")
    stranger_cert, stranger_key = stranger.issue("client", "relay-1", server=False)
    return SimpleNamespace(ca=ca, folder=folder, server_cert=str(server_cert), server_key=str(server_key),
                           client=(str(client_cert), str(client_key)), stranger=(str(stranger_cert), str(stranger_key)))


def tls_server(make_server, pki, *extra, cert=None, key=None):
    """A server with HTTPS on its HTTP port and syslog over TLS on a port of its own (`syslog_port`)."""
    syslog_port = free_port()
    server = make_server("--tls-cert", cert or pki.server_cert, "--tls-key", key or pki.server_key,
                         "--tls-syslog-port", str(syslog_port), *extra, tls_ca=pki.ca.certificate)
    server.syslog_port = syslog_port
    return server


def client_context(pki, certificate=None):
    context = ssl.create_default_context(cafile=str(pki.ca.certificate))
    if certificate:
        context.load_cert_chain(*certificate)
    return context


def tls_connect(port, context, server_hostname="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_hostname)


def octet_counted(message: bytes) -> bytes:
    """An RFC 5425 frame: the message's length, a space, the message (which may hold newlines)."""
    return b"%d %s" % (len(message), message)


def failures(server):
    return server.stats()["tls_handshake_failures"]


def wait_failure(server, cause, count=1, timeout=10):
    server.wait_for(lambda: failures(server)[cause] >= count, timeout, f"{count} TLS handshake failures of cause {cause}")


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True)


# --- HTTPS and WSS ------------------------------------------------------------------------------------------

def test_curl_reads_the_api_and_the_dashboard_over_https_and_plain_http_gets_no_logs(make_server, pki):
    server = tls_server(make_server, pki)
    server.send_tcp(b"ERROR [payments] card 4242 declined over a plain sender\n")
    server.wait_received(1)
    base = server.base_url
    assert base.startswith("https://")
    answer = curl("--cacert", str(pki.ca.certificate), base + "/api/logs?level=error")
    assert answer.returncode == 0, answer.stderr
    [entry] = json.loads(answer.stdout)
    assert entry["raw"] == "ERROR [payments] card 4242 declined over a plain sender"
    page = curl("--cacert", str(pki.ca.certificate), "-D", "-", base + "/")
    assert page.returncode == 0 and "200" in page.stdout.splitlines()[0] and "<html" in page.stdout.lower()
    assert curl("--cacert", str(pki.ca.certificate), "-o", "/dev/null", "-w", "%{http_code}", base + "/static/app.js").stdout == "200"
    # By name too: the certificate names localhost.
    named = curl("--cacert", str(pki.ca.certificate), f"https://localhost:{server.http_port}/healthz")
    assert named.returncode == 0 and named.stdout.strip() == "ok"
    # Without the CA, curl refuses the certificate; the server counts the client's refusal.
    assert curl(base + "/healthz").returncode == 60
    wait_failure(server, "certificate_refused_by_client")

    # Plain HTTP on the HTTPS port: a 400 saying so, never the logs.
    plain = curl("-D", "-", f"http://127.0.0.1:{server.http_port}/api/logs")
    assert plain.stdout.startswith("HTTP/1.1 400"), plain.stdout
    assert "use https://" in plain.stdout and "card 4242" not in plain.stdout
    raw = server.raw_http(b"GET /api/logs HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400") and b"declined" not in raw
    wait_failure(server, "not_tls", 2)
    assert server.status("/healthz") == 200


def test_the_session_cookie_is_secure_over_https(make_server, pki):
    server = tls_server(make_server, pki, "--auth-token", "a-long-enough-secret-token")
    answer = curl("--cacert", str(pki.ca.certificate), "-D", "-", "-o", "/dev/null",
                  "-H", "Authorization: Bearer a-long-enough-secret-token", server.base_url + "/api/session")
    cookie = next(line for line in answer.stdout.splitlines() if line.lower().startswith("set-cookie:"))
    assert "; Secure" in cookie and "HttpOnly" in cookie
    assert curl("--cacert", str(pki.ca.certificate), "-o", "/dev/null", "-w", "%{http_code}", server.base_url + "/api/logs").stdout == "401"


def test_the_live_tail_over_wss_with_websockets(make_server, pki):
    server = tls_server(make_server, pki)
    server.send_tcp(b"".join(b"WARN [api] before %d\n" % index for index in range(5)))
    server.wait_received(5)
    with connect(f"wss://127.0.0.1:{server.http_port}/ws", ssl=client_context(pki), server_hostname="localhost",
                 open_timeout=10) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"query": "", "level": "", "service": "api"}}))
        history = json.loads(client.recv(timeout=5))
        assert history["type"] == "history" and len(history["data"]) == 5
        # Large enough that a message spans several TLS records.
        server.send_tcp(b"".join(b"WARN [api] live %d %s\n" % (index, b"x" * 3000) for index in range(40)))
        live = []
        while len(live) < 40:
            message = json.loads(client.recv(timeout=5))
            assert message["type"] == "new_log"
            live.append(message["data"]["raw"])
        assert [raw.split()[3] for raw in live] == [str(index) for index in range(40)]
    assert server.stats()["tls_handshakes"]["http"] >= 2


def spki_pin(certificate):
    """The base64 SHA-256 of a certificate's public key: what Chromium's --ignore-certificate-errors-spki-list takes."""
    public_key = subprocess.run(["openssl", "x509", "-in", certificate, "-pubkey", "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=public_key, capture_output=True, check=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, capture_output=True, check=True).stdout
    return base64.b64encode(digest).decode()


def test_chromium_loads_the_dashboard_and_its_live_tail_over_https_and_wss(make_server, pki, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from test_dashboard import messages
    server = tls_server(make_server, pki)
    server.send_tcp(b"INFO [web] before the page\n")
    server.wait_received(1)
    options = webdriver.ChromeOptions()
    # Chromium trusts this one server key (pinned), not every certificate; a user data folder is what lets it
    # take the pin.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
                     f"--user-data-dir={tmp_path / 'chromium'}", f"--ignore-certificate-errors-spki-list={spki_pin(pki.server_cert)}"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    browser = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    try:
        browser.get(server.base_url + "/")
        assert browser.execute_script("return location.protocol") == "https:"
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(browser, 10).until(lambda _: "INFO [web] before the page" in messages(browser))
        server.send_tcp(b"".join(b"ERROR [web] arrived over wss %d\n" % index for index in range(20)))
        WebDriverWait(browser, 10).until(lambda _: sum("arrived over wss" in text for text in messages(browser)) == 20)
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()
    assert server.stats()["tls_handshakes"]["http"] >= 2  # the page, and the WebSocket beside it


# --- syslog over TLS (RFC 5425) -----------------------------------------------------------------------------

def test_octet_counted_and_newline_frames_from_openssl_s_client(make_server, pki):
    server = tls_server(make_server, pki)
    frames = [b"<134>1 2026-12-07T10:00:00.000Z web-1 nginx 77 - - GET /index.html 200",
              b"<131>1 2026-12-07T10:00:01.000Z web-1 api - - [meta seq=\"1\"] upstream failed\n  at handler.go:42",
              b"<14>Dec  7 10:00:02 web-2 cron[9]: job done"]
    stream = b"".join(octet_counted(frame) for frame in frames) + b"INFO [batch] a newline frame\n"
    client_cert, client_key = pki.client
    result = subprocess.run(["openssl", "s_client", "-quiet", "-no_ign_eof", "-connect", f"127.0.0.1:{server.syslog_port}",
                             "-CAfile", str(pki.ca.certificate), "-verify_return_error", "-servername", "localhost",
                             "-cert", client_cert, "-key", client_key],
                            input=stream, capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr
    server.wait_received(4)
    entries = sorted(server.logs(limit=10), key=lambda entry: entry["id"])
    assert [entry["raw"] for entry in entries] == [frame.decode() for frame in frames] + ["INFO [batch] a newline frame"]
    assert [entry["protocol"] for entry in entries] == ["TLS"] * 4
    assert [entry["level"] for entry in entries] == ["INFO", "ERROR", "INFO", "INFO"]
    assert [entry["service"] for entry in entries] == ["nginx", "api", "cron", "batch"]
    assert entries[1]["fields"]["sd.meta.seq"] == "1"
    # Without --tls-client-ca no certificate is asked for: the sender's address is the host the line lacks.
    assert entries[3]["host"] == "127.0.0.1" and entries[0]["host"] == "web-1"
    assert server.stats()["protocols"].get("TLS") == 4


def test_senders_that_write_one_line_and_close_lose_nothing(make_server, pki):
    """Such a sender never reads: anything the server sent after the handshake (TLS 1.3 session tickets) would
    reach a closed socket, whose reset can discard the line; the syslog listener sends none."""
    import msgpack
    forward_port = free_port()
    server = tls_server(make_server, pki, "--tls-forward-port", str(forward_port))
    context = client_context(pki)
    for index in range(300):
        with tls_connect(server.syslog_port, context) as connection:
            connection.sendall(b"INFO [brief] line %d\n" % index)
        with tls_connect(forward_port, context) as connection:  # Forward's Message mode, no ack asked for
            connection.sendall(msgpack.packb(["brief", 1764352805, {"message": f"event {index}"}]))
    server.wait_received(600)
    for word in ("line", "event"):
        assert sorted(int(entry["raw"].rsplit(" ", 1)[1]) for entry in server.logs(q=word, limit=1000)) == list(range(300)), word


@pytest.fixture
def rsyslog_over_tls(tmp_path, pki):
    """rsyslog (Debian's, with rsyslog-openssl) taking plain TCP on a private port and forwarding it over TLS
    with RFC 5425 framing and the client certificate (CN relay-1), checking our certificate's name."""
    if not os.path.exists(RSYSLOGD):
        pytest.fail("rsyslogd is missing: ./test.sh installs Debian's rsyslog and rsyslog-openssl")
    started = []

    def start(target_port):
        input_port = free_port()
        client_cert, client_key = pki.client
        config = tmp_path / "rsyslog.conf"
        config.write_text(f"""
global(workDirectory="{tmp_path}"
       DefaultNetstreamDriver="ossl"
       DefaultNetstreamDriverCAFile="{pki.ca.certificate}"
       DefaultNetstreamDriverCertFile="{client_cert}"
       DefaultNetstreamDriverKeyFile="{client_key}")
module(load="imtcp" StreamDriver.Name="ptcp" StreamDriver.Mode="0")
input(type="imtcp" address="127.0.0.1" port="{input_port}" ruleset="forward")
ruleset(name="forward") {{
    action(type="omfwd" target="127.0.0.1" port="{target_port}" protocol="tcp"
           StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
           StreamDriverPermittedPeers="localhost"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
           queue.type="LinkedList" queue.size="200000" action.resumeRetryCount="-1")
}}
""")
        daemon = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i", str(tmp_path / "rsyslogd.pid")],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started.append(daemon)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", input_port), timeout=1).close()
                return input_port
            except OSError:
                time.sleep(0.1)
        daemon.kill()
        raise RuntimeError(f"rsyslog did not start: {daemon.stdout.read().decode()}")

    yield start
    for daemon in started:
        daemon.terminate()
        daemon.wait(timeout=10)


def test_rsyslog_forwards_over_tls_with_a_client_certificate_and_every_message_arrives(make_server, pki, rsyslog_over_tls):
    server = tls_server(make_server, pki, "--tls-client-ca", str(pki.ca.certificate), "--tls-host-from-certificate")
    relay = rsyslog_over_tls(server.syslog_port)
    count = 5000
    # Lines that begin with digits and hold brackets and quotes: easy to garble in framing.
    messages = "".join(f"2026-12-07T10:00:00Z ERROR [svc{index % 5}] tls message {index} with \"quotes\" and [brackets]\n"
                       for index in range(count))
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(relay), "--tcp", "--rfc5424", "-p", "local3.warning",
                    "-t", "relayed"], input=messages, text=True, check=True)
    server.wait_received(count, timeout=60)
    entries = server.logs(service="relayed", limit=10_000)
    assert len(entries) == count
    numbers = sorted(int(entry["raw"].split(" tls message ", 1)[1].split(" ", 1)[0]) for entry in entries)
    assert numbers == list(range(count))
    for entry in entries:
        assert entry["protocol"] == "TLS" and entry["format"] == "rfc5424" and entry["level"] == "WARN"
        assert entry["host"] == "relay-1", "the certificate's name, not the HOSTNAME the line claims"
        assert entry["raw"].endswith(" with \"quotes\" and [brackets]")
    stats = server.stats()
    assert stats["truncated"] == 0 and stats["tls_handshakes"]["syslog"] >= 1


# --- mutual TLS ------------------------------------------------------------------------------------------------

def refused_after_handshake(port, context):
    """Sends a line over a connection the server should refuse; True when it was cut off. With TLS 1.3 the
    client's handshake ends before the server has checked its certificate: the refusal comes as an alert (or a
    closed socket) on the next read."""
    try:
        with tls_connect(port, context) as connection:
            connection.sendall(octet_counted(b"<11>1 - intruder app - - - should never be stored"))
            return connection.recv(100) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


def test_mutual_tls_refuses_senders_without_a_certificate_or_with_a_foreign_one(make_server, pki):
    otlp_port = free_port()
    server = tls_server(make_server, pki, "--tls-client-ca", str(pki.ca.certificate), "--tls-host-from-certificate",
                        "--loki-port", str(otlp_port))
    assert refused_after_handshake(server.syslog_port, client_context(pki))
    wait_failure(server, "no_client_certificate")
    assert refused_after_handshake(server.syslog_port, client_context(pki, pki.stranger))
    wait_failure(server, "bad_client_certificate")

    # The one from our CA gets in; its name is the records' host.
    with tls_connect(server.syslog_port, client_context(pki, pki.client)) as connection:
        connection.sendall(octet_counted(b"<14>1 - claims-to-be-db app - - - allowed in"))
    server.wait_received(1)
    [entry] = server.logs(q="allowed")
    assert entry["host"] == "relay-1" and entry["protocol"] == "TLS"

    # The shippers' ports take the same certificates; the dashboard's port asks for none.
    push = json.dumps({"streams": [{"stream": {"service_name": "shipper"}, "values": [[str(time.time_ns()), "pushed over mtls"]]}]}).encode()
    request = urllib.request.Request(f"https://127.0.0.1:{otlp_port}/loki/api/v1/push", data=push, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=client_context(pki, pki.client)) as response:
        assert response.status == 204
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionResetError)):
        urllib.request.urlopen(request, timeout=10, context=client_context(pki)).read()
    server.wait_received(2)
    [pushed] = server.logs(q="pushed")
    assert pushed["host"] == "relay-1" and pushed["service"] == "shipper"
    assert server.logs(q="intruder") == [] and server.stats()["received"] == 2
    assert server.stats()["tls_handshakes"]["loki"] == 1


@pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")
def test_the_opentelemetry_exporter_sends_over_https_with_its_client_certificate(make_server, pki, monkeypatch):
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    # requests lets these override the exporter's own CA file (a known quirk of its environment merging).
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    otlp_port = free_port()
    server = tls_server(make_server, pki, "--tls-client-ca", str(pki.ca.certificate), "--otlp-port", str(otlp_port))
    client_cert, client_key = pki.client
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "web-3"}))
    exporter = OTLPLogExporter(endpoint=f"https://127.0.0.1:{otlp_port}/v1/logs", certificate_file=str(pki.ca.certificate),
                               client_certificate_file=client_cert, client_key_file=client_key)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("otel-tls")
    logger.propagate = False
    logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    logger.error("charge failed over https")
    provider.shutdown()
    server.wait_received(1)
    [entry] = server.logs(q="charge")
    # Without --tls-host-from-certificate the record keeps the host it names.
    assert (entry["service"], entry["host"], entry["level"], entry["format"]) == ("checkout", "web-3", "ERROR", "otlp")


# --- broken and hostile clients --------------------------------------------------------------------------------

def client_hello():
    """The first flight of a real TLS client, made without a socket."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        session.do_handshake()
    return outgoing.read()


def test_broken_clients_are_closed_and_counted_while_good_ones_go_on(make_server, pki):
    server = tls_server(make_server, pki, "--header-timeout", "2")
    good = tls_connect(server.syslog_port, client_context(pki))
    good.sendall(b"INFO [steady] before the trouble\n")

    # Plain text on the TLS port: closed without a word (it is not HTTP there; the unread line makes the close
    # a reset), nothing stored.
    with socket.create_connection(("127.0.0.1", server.syslog_port), timeout=5) as plain:
        plain.sendall(b"INFO [plain] this is not TLS\n")
        try:
            assert plain.recv(100) == b""
        except ConnectionResetError:
            pass
    wait_failure(server, "not_tls")

    # A ClientHello cut short, then the connection closed.
    hello = client_hello()
    assert hello[0] == 0x16 and len(hello) > 100
    with socket.create_connection(("127.0.0.1", server.syslog_port), timeout=5) as truncated:
        truncated.sendall(hello[:60])
    wait_failure(server, "closed")

    # A handshake record's header over garbage: malformed, alerted and closed.
    with socket.create_connection(("127.0.0.1", server.syslog_port), timeout=5) as garbage:
        garbage.sendall(b"\x16\x03\x01\x01\x00" + os.urandom(256))
        try:
            garbage.recv(100)
        except ConnectionResetError:
            pass
    wait_failure(server, "malformed")

    # A handshake that never finishes is closed at the header timeout (2 s here).
    stalled = socket.create_connection(("127.0.0.1", server.syslog_port), timeout=10)
    stalled.sendall(hello[:60])
    started = time.monotonic()
    assert stalled.recv(100) == b""
    assert 1.5 < time.monotonic() - started < 6
    stalled.close()
    wait_failure(server, "timeout")

    # A TLS 1.0 client (only 1.2 and 1.3 are served).
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    with pytest.warns(DeprecationWarning):
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
        tls_connect(server.syslog_port, old).close()
    wait_failure(server, "protocol_version")

    # The good connection, open through all of it, is still heard; the server still serves.
    good.sendall(b"INFO [steady] after the trouble\n")
    good.close()
    server.wait_for(lambda: len(server.logs(service="steady")) == 2, message="the good client's two lines")
    assert server.stats()["received"] == 2 and server.logs(q="plain") == []
    assert server.stats()["tls_handshakes"]["syslog"] == 1 and server.status("/healthz") == 200
    metrics = urllib.request.urlopen(server.request("/metrics"), timeout=10, context=server.ssl_context).read().decode()
    for cause in ("not_tls", "closed", "malformed", "timeout", "protocol_version"):
        assert f'logstream_tls_handshake_failures_total{{cause="{cause}"}} 1' in metrics, cause
    assert 'logstream_tls_listener_handshake_failures_total{listener="syslog"} 5' in metrics


def test_a_flood_of_stalled_handshakes_is_bounded_by_the_connection_limit(make_server, pki):
    server = tls_server(make_server, pki, "--max-connections", "20", "--header-timeout", "30")
    hello = client_hello()
    stalled = []
    for _ in range(40):
        connection = socket.create_connection(("127.0.0.1", server.syslog_port), timeout=5)
        connection.sendall(hello[:60])
        stalled.append(connection)
    metrics = lambda: urllib.request.urlopen(server.request("/metrics"), timeout=10, context=server.ssl_context).read().decode()
    server.wait_for(lambda: "logstream_tls_handshakes_in_progress 20\n" in metrics(), message="20 handshakes held")
    # The rest were accepted and closed at once: a sender's retry finds room once the stalled ones are gone.
    assert "logstream_tls_handshakes_in_progress 20\n" in metrics()
    for connection in stalled:
        connection.close()
    server.wait_for(lambda: "logstream_tls_handshakes_in_progress 0\n" in metrics(), message="the stalled ones gone")
    with tls_connect(server.syslog_port, client_context(pki)) as connection:
        connection.sendall(b"INFO [after] room again\n")
    server.wait_received(1)


# --- certificates: reload and start-up ------------------------------------------------------------------------

def served_serial(port):
    anyone = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anyone.check_hostname, anyone.verify_mode = False, ssl.CERT_NONE  # whichever certificate is served
    with tls_connect(port, anyone) as connection:
        der = connection.getpeercert(binary_form=True)
    text = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-serial"], input=der, capture_output=True, check=True).stdout
    return int(text.decode().strip().split("=", 1)[1], 16)


def test_sighup_reloads_the_certificate_for_new_connections_and_keeps_open_ones(make_server, pki, tmp_path):
    with contextlib.ExitStack() as stack:
        reload_and_check(make_server, pki, tmp_path, stack)


def reload_and_check(make_server, pki, tmp_path, stack):
    served_cert, served_key = tmp_path / "served.pem", tmp_path / "served.key"
    shutil.copy(pki.server_cert, served_cert)
    shutil.copy(pki.server_key, served_key)
    server = tls_server(make_server, pki, cert=str(served_cert), key=str(served_key))
    first_serial = served_serial(server.syslog_port)
    open_syslog = tls_connect(server.syslog_port, client_context(pki))
    open_syslog.sendall(b"INFO [reload] before\n")
    server.wait_received(1)
    open_wss = stack.enter_context(connect(f"wss://127.0.0.1:{server.http_port}/ws", ssl=client_context(pki), server_hostname="localhost"))
    open_wss.send(json.dumps({"type": "update_filters", "filters": {"query": "", "level": "", "service": "reload"}}))
    history = json.loads(open_wss.recv(timeout=5))
    assert history["type"] == "history" and [entry["raw"] for entry in history["data"]] == ["INFO [reload] before"]

    renewed_cert, renewed_key = pki.ca.issue("renewed", "localhost", server=True)
    shutil.copy(renewed_cert, served_cert)
    shutil.copy(renewed_key, served_key)
    server.process.send_signal(signal.SIGHUP)
    server.wait_for(lambda: server.stats()["tls_reloads"] == 1, message="the reload")
    second_serial = served_serial(server.syslog_port)
    assert second_serial != first_serial
    assert served_serial(server.http_port) == second_serial

    # The connections opened before the reload live on, both ways.
    open_syslog.sendall(b"INFO [reload] after\n")
    message = json.loads(open_wss.recv(timeout=5))
    assert message["type"] == "new_log" and message["data"]["raw"] == "INFO [reload] after"

    # A key that does not match its certificate: refused, logged, and the renewed certificate still served.
    other_cert, other_key = pki.ca.issue("other", "localhost", server=True)
    shutil.copy(other_key, served_key)
    server.process.send_signal(signal.SIGHUP)
    server.wait_for(lambda: server.stats()["tls_reloads_refused"] == 1, message="the refusal")
    assert served_serial(server.syslog_port) == second_serial and server.stats()["tls_reloads"] == 1
    open_syslog.close()
    stack.close()
    assert server.stop() == 0
    log = server.process.stderr.read().decode()
    assert "TLS certificate reloaded" in log
    assert "TLS reload refused, still serving the previous certificate" in log and "does not match" in log


def run(*args, cwd):
    return subprocess.run([str(BINARY), "--no-persist", "--udp-port", str(free_port()), "--tcp-port", str(free_port()),
                           "--http-port", str(free_port()), *args], capture_output=True, text=True, timeout=20, cwd=cwd)


def test_bad_certificates_and_flags_are_one_line_and_non_zero(pki, tmp_path):
    not_pem = tmp_path / "garbage.pem"
    not_pem.write_text("this is not a certificate\n")
    unreadable = tmp_path / "unreadable.key"
    shutil.copy(pki.server_key, unreadable)
    unreadable.chmod(0)
    other_cert, other_key = pki.ca.issue("mismatch", "localhost", server=True)
    cases = [
        (["--tls-cert", "/no/such/cert.pem", "--tls-key", pki.server_key], "/no/such/cert.pem"),
        (["--tls-cert", str(not_pem), "--tls-key", pki.server_key], "garbage.pem"),
        (["--tls-cert", pki.server_cert, "--tls-key", str(not_pem)], "garbage.pem"),
        (["--tls-cert", pki.server_cert, "--tls-key", str(other_key)], "does not match"),
        (["--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-client-ca", str(not_pem)], "client CA"),
        (["--tls-cert", pki.server_cert], "--tls-cert and --tls-key go together"),
        (["--tls-syslog-port", "6514"], "need --tls-cert"),
        (["--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-host-from-certificate"], "needs --tls-client-ca"),
    ]
    if os.geteuid() != 0:  # root reads any file
        cases.append((["--tls-cert", pki.server_cert, "--tls-key", str(unreadable)], "unreadable.key"))
    for args, said in cases:
        result = run(*args, cwd=tmp_path)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], (args, result.stderr)


# --- shipping to ClickHouse over https ---------------------------------------------------------------------------

def test_shipping_to_clickhouse_over_https_checks_its_certificate(make_server, pki):
    from clickhouse import PASSWORD, USER, ClickHouse, available
    from test_clickhouse import wait_shipped
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    instance = ClickHouse(free_port, name="https", https=(pki.server_cert, pki.server_key)).start()
    try:
        def shipping(table, node, ca, url=instance.https_url):
            return ["--clickhouse-url", url, "--clickhouse-ca", str(ca), "--clickhouse-table", table, "--node-name", node,
                    "--clickhouse-interval", "100ms", "--clickhouse-timeout", "5s", "--clickhouse-user", USER, "--clickhouse-password", PASSWORD]

        node = make_server(*shipping("logstream.over_tls", "node-tls", pki.ca.certificate))
        node.send_tcp(b"".join(b"ERROR [pay] card %d declined over https\n" % index for index in range(2000)))
        wait_shipped(node, instance, "logstream.over_tls", 2000)
        assert instance.scalar("SELECT count() FROM logstream.over_tls WHERE node = 'node-tls' AND host = '127.0.0.1'") == 2000
        # The cluster search reads the table back over https as well.
        found = node.logs(source="cluster", q='"card 1717"', since="1h")
        assert [entry["raw"] for entry in found] == ["ERROR [pay] card 1717 declined over https"] and found[0]["node"] == "node-tls"

        # A node that trusts another CA sends nothing: the failure is counted as tls and named in the log.
        stranger_ca = pki.folder / "stranger" / "stranger-ca.pem"
        distrustful = make_server(*shipping("logstream.distrusted", "node-x", stranger_ca))
        distrustful.send_tcp(b"INFO [x] never shipped\n")
        distrustful.wait_for(lambda: distrustful.stats()["clickhouse_failures"]["tls"] >= 1, message="a tls failure")
        stats = distrustful.stats()
        assert stats["clickhouse_lag_records"] == 1 and stats["clickhouse_failures"]["unreachable"] == 0
        with pytest.raises(urllib.error.HTTPError) as refused:
            distrustful.logs(source="cluster", since="1h")
        assert refused.value.code == 503 and "not trusted" in json.loads(refused.value.read())["error"]
        # https:// to a port that speaks plain HTTP: no TLS, and said so.
        confused = make_server(*shipping("logstream.confused", "node-y", pki.ca.certificate, url=f"https://127.0.0.1:{instance.http_port}"))
        confused.send_tcp(b"INFO [y] never shipped\n")
        confused.wait_for(lambda: confused.stats()["clickhouse_failures"]["tls"] >= 1, message="a tls failure")
        distrustful.stop()
        log = distrustful.process.stderr.read().decode()
        assert "shipping held up (tls)" in log and "is not trusted" in log, log
        assert "distrusted" not in instance.query("SHOW TABLES FROM logstream")
    finally:
        instance.remove()


def test_shipping_to_a_clickhouse_that_requires_a_client_certificate(make_server, pki):
    from clickhouse import PASSWORD, USER, ClickHouse, available
    from test_clickhouse import wait_shipped
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    instance = ClickHouse(free_port, name="mtls", https=(pki.server_cert, pki.server_key), client_ca=pki.ca.certificate).start()
    try:
        def shipping(table, *certificate):
            return ["--clickhouse-url", instance.https_url, "--clickhouse-ca", str(pki.ca.certificate), "--clickhouse-table", table,
                    "--clickhouse-interval", "100ms", "--clickhouse-timeout", "5s", "--clickhouse-user", USER,
                    "--clickhouse-password", PASSWORD, *certificate]

        client_cert, client_key = pki.client
        node = make_server(*shipping("logstream.by_certificate", "--clickhouse-tls-cert", client_cert, "--clickhouse-tls-key", client_key))
        node.send_tcp(b"".join(b"WARN [disk] shipped with a client certificate %d\n" % index for index in range(500)))
        wait_shipped(node, instance, "logstream.by_certificate", 500)
        # Without one, ClickHouse refuses it with an alert after the handshake (TLS 1.3): counted as tls when
        # the alert is read, as unreachable when the request's send meets the closed connection first.
        anonymous = make_server(*shipping("logstream.anonymous"))
        anonymous.send_tcp(b"INFO [x] never shipped\n")
        anonymous.wait_for(lambda: anonymous.stats()["clickhouse_failures"]["tls"] >= 1, timeout=40, message="a tls failure")
        assert anonymous.stats()["clickhouse_lag_records"] == 1
        anonymous.stop()
        assert "alert certificate required" in anonymous.process.stderr.read().decode()
    finally:
        instance.remove()


# --- Fluent Forward over TLS ---------------------------------------------------------------------------------------

def test_forward_over_tls_with_the_shared_key_handshake_acks_and_client_certificates(make_server, pki):
    """Fluent Bit's forward output with `tls on`, `tls.crt_file` and `Shared_Key`: the handshake, a Forward-mode
    chunk acknowledged once stored, and the certificate's name as the records' host."""
    from test_containers import ForwardClient, handshake, pack
    key, forward_port = "fluent-shared-key", free_port()
    server = tls_server(make_server, pki, "--tls-forward-port", str(forward_port), "--forward-shared-key", key,
                        "--tls-client-ca", str(pki.ca.certificate), "--tls-host-from-certificate", "--fsync-interval", "200ms")

    class TLSForwardClient(ForwardClient):
        def __init__(self, certificate):
            self.socket = tls_connect(forward_port, client_context(pki, certificate))
            self.unpacker = __import__("msgpack").Unpacker(raw=True)

    client = TLSForwardClient(pki.client)
    pong, _, _ = handshake(client, key)
    assert pong[0] == b"PONG" and pong[1] is True
    entries = [[1764352805, {"log": f"over tls {index}", "host": "claims-another-name"}] for index in range(3)]
    client.send(pack(["fluentbit.tail", entries, {"size": 3, "chunk": "tls-chunk-1"}]))
    assert client.receive() == {b"ack": b"tls-chunk-1"}
    client.close()
    stored = sorted(server.logs(q='"over tls"'), key=lambda entry: entry["id"])
    assert [entry["raw"] for entry in stored] == ["over tls 0", "over tls 1", "over tls 2"]
    assert {(entry["protocol"], entry["format"], entry["host"]) for entry in stored} == {("TLS", "forward", "relay-1")}

    # A wrong key over TLS is refused as over TCP; a sender without a certificate never reaches the handshake.
    intruder = TLSForwardClient(pki.client)
    assert handshake(intruder, "wrong-key")[0][1] is False
    intruder.close()
    assert refused_after_handshake(forward_port, client_context(pki))
    stats = server.stats()
    assert stats["forward_handshake_failures"] == 1 and stats["tls_handshakes"]["forward"] == 2
    assert stats["forward_acks"] == 1 and stats["received"] == 3
