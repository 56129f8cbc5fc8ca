"""End-to-end fixtures: start the real logstream binary on free ports and talk to it with real clients."""
import json
import os
import atexit
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("LOGSTREAM_BIN", ROOT / ".build" / "release" / "logstream"))
# Set by scripts/sanitizers.sh when the server under test is a sanitized debug build.
SANITIZED = bool(os.environ.get("LOGSTREAM_SANITIZER"))
# Tests that measure speed or rely on timing: skipped against sanitized debug builds.
timing_dependent = pytest.mark.skipif(SANITIZED, reason="measures speed or timing; a sanitized debug build is many times slower")
# The server's memory figures mean nothing under a sanitizer's allocator (ASan's quarantine keeps what is
# freed; malloc's own figures then describe an allocator not in use).
memory_figures_meaningful = not SANITIZED
memory_measuring = pytest.mark.skipif(not memory_figures_meaningful, reason="a sanitizer's allocator holds freed memory")


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP right now."""
    while True:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as check:
                check.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


def fresh_data_dir():
    """A data directory of a test's own, removed when the tests end: no test sees another's history."""
    path = Path(tempfile.mkdtemp(prefix="logstream-test-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path / "data"


class Server:
    def __init__(self, *extra_args, ports=None, fd_limit=None, data_dir=None, tls_ca=None):
        """`ports`: (udp, tcp, http) to reuse, as a restarted server does; else free ones. `fd_limit`: a hard limit
        on open descriptors (the server raises its soft limit to the hard one). `data_dir`: the history to
        continue (a restart); else a fresh one, unless the arguments say --no-persist or --data-dir. `tls_ca`:
        the CA the helpers trust when the arguments say --tls-cert (the HTTP port then speaks HTTPS only)."""
        self.ssl_context = ssl.create_default_context(cafile=str(tls_ca)) if "--tls-cert" in extra_args else None
        chooses_storage = "--no-persist" in extra_args or "--data-dir" in extra_args
        self.data_dir = None if chooses_storage else (data_dir or fresh_data_dir())
        storage = [] if chooses_storage else ["--data-dir", str(self.data_dir)]
        # The helpers below carry the token when the server was given one, as any API client would.
        self.token = extra_args[extra_args.index("--auth-token") + 1] if "--auth-token" in extra_args else None
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))) if fd_limit else None
        # A port found free can be taken before the server binds it (another test's client is given it as its
        # own): free ones are then chosen again, a few times.
        for attempt in range(3):
            self.udp_port, self.tcp_port, self.http_port = ports or (free_port(socket.SOCK_DGRAM), free_port(), free_port())
            self.args = [str(BINARY), "--bind", "127.0.0.1",
                         "--udp-port", str(self.udp_port), "--tcp-port", str(self.tcp_port),
                         "--http-port", str(self.http_port), "--static-dir", str(ROOT / "static"), *storage, *extra_args]
            self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
            try:
                self.wait_healthy()
                return
            except RuntimeError as error:
                if ports or attempt == 2 or "Address already in use" not in str(error):
                    raise

    @property
    def base_url(self):
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.http_port}"

    def wait_healthy(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"logstream exited: {self.process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1, context=self.ssl_context) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("logstream did not become healthy")

    def request(self, path, method="GET"):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return urllib.request.Request(self.base_url + path, method=method, headers=headers)

    def get(self, path):
        with urllib.request.urlopen(self.request(path), timeout=10, context=self.ssl_context) as response:
            return json.loads(response.read())

    def status(self, path, method="GET"):
        request = self.request(path, method)
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def raw_http(self, data: bytes, timeout=5):
        """Sends raw bytes to the HTTP port and returns everything read until the server closes."""
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=timeout) as connection:
            connection.sendall(data)
            chunks = []
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

    def logs(self, **params):
        query = urllib.parse.urlencode(params)
        return self.get("/api/logs" + (f"?{query}" if query else ""))

    def stats(self):
        return self.get("/api/stats")

    def send_tcp(self, data: bytes):
        with socket.create_connection(("127.0.0.1", self.tcp_port)) as connection:
            connection.sendall(data)

    def send_udp(self, data: bytes):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(data, ("127.0.0.1", self.udp_port))

    def wait_for(self, predicate, timeout=10, message="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {message}")

    def wait_received(self, count, timeout=10):
        return self.wait_for(lambda: self.stats()["received"] >= count, timeout, f"{count} records")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        return self.process.returncode


@pytest.fixture
def server():
    instance = Server()
    yield instance
    assert instance.stop() == 0, "logstream must exit 0 on SIGTERM"


@pytest.fixture
def make_server():
    started = []

    def start(*args, **options):
        instance = Server(*args, **options)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()




@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Selenium (./test.sh installs both), given the driver's path: offline."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    driver_path = shutil.which("chromedriver")
    assert driver_path, "chromedriver is missing: ./test.sh installs chromium-driver"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()
