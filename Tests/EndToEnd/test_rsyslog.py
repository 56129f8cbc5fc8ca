"""A real rsyslog daemon (Debian's package) forwarding to LogStream: RFC 5424 with octet-counted TCP framing,
and UDP. It runs in the foreground on private files and loopback ports, never touching the system's logging."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import free_port

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


@pytest.fixture
def rsyslog(server, tmp_path):
    if not os.path.exists(RSYSLOGD):
        pytest.fail("rsyslogd is missing: ./test.sh installs Debian's rsyslog package")
    input_port = free_port()
    config = tmp_path / "rsyslog.conf"
    config.write_text(f"""
global(workDirectory="{tmp_path}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{input_port}" ruleset="forward")
ruleset(name="forward") {{
    action(type="omfwd" target="127.0.0.1" port="{server.tcp_port}" protocol="tcp"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
           queue.type="LinkedList" queue.size="200000" action.resumeRetryCount="-1")
    action(type="omfwd" target="127.0.0.1" port="{server.udp_port}" protocol="udp"
           template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="200000")
}}
""")
    daemon = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i", str(tmp_path / "rsyslogd.pid")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = subprocess.run(["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{input_port}"], capture_output=True)
        if probe.returncode == 0:
            break
        time.sleep(0.1)
    yield input_port
    daemon.terminate()
    daemon.wait(timeout=10)


def test_messages_forwarded_by_rsyslog_arrive_whole_over_tcp_and_udp(server, rsyslog):
    count = 2000
    # Lines that begin with digits and hold brackets, quotes and a newline escape: easy to garble.
    messages = "".join(f"2026-11-28T18:00:00Z ERROR [svc{index % 5}] message {index} with \"quotes\" and [brackets]\n"
                       for index in range(count))
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(rsyslog), "--tcp", "--rfc5424", "-p", "local3.warning",
                    "-t", "relayed"], input=messages, text=True, check=True)
    server.wait_received(2 * count, timeout=30)
    entries = server.logs(service="relayed", limit=10_000)
    assert len(entries) == 2 * count
    for protocol in ("TCP", "UDP"):
        received = sorted((entry for entry in entries if entry["protocol"] == protocol), key=lambda e: e["id"])
        bodies = [entry["raw"] for entry in received]
        assert len(received) == count, protocol
        numbers = sorted(int(raw.split(" message ", 1)[1].split(" ", 1)[0]) for raw in bodies)
        assert numbers == list(range(count)), protocol
        for entry in received:
            assert entry["format"] == "rfc5424" and entry["level"] == "WARN" and entry["fields"]["facility"] == "local3"
            assert entry["raw"].endswith(" with \"quotes\" and [brackets]")
    assert server.stats()["truncated"] == 0
