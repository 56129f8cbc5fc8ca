"""What the benchmark scripts share: ports, LogStream's count of received lines, and waiting for a count."""
import json
import socket
import ssl
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / ".build" / "release"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def received(http_port, scheme="http"):
    """Records LogStream has accepted since it started; None while it does not answer. `scheme` https: a server
    run with --tls-cert (its certificate is not checked here: the benchmark made it)."""
    context = ssl._create_unverified_context() if scheme == "https" else None
    try:
        with urllib.request.urlopen(f"{scheme}://127.0.0.1:{http_port}/api/stats", timeout=5, context=context) as response:
            return json.loads(response.read())["received"]
    except OSError:
        return None


def wait_growth(read, target, settle=1.5):
    """Polls `read` until it reaches `target`, or until it has not grown for `settle` seconds (lines lost).
    Returns the last value and when it was reached."""
    last, last_change = -1, time.perf_counter()
    while True:
        value = read()
        now = time.perf_counter()
        if value >= target:
            return value, now
        if value != last:
            last, last_change = value, now
        elif now - last_change > settle:
            return value, last_change
        time.sleep(0.005)


def wait_started(stats, process_name="logstream"):
    """Polls `stats` (a call that raises OSError until the server answers) for up to 10 s."""
    for _ in range(200):
        try:
            stats()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process_name} did not start")

