"""Who may read the logs: the token (bearer header, login page cookie), WebSocket origins, the dashboard's
security headers, and paths that try to leave the static folder."""
import base64
import os
import shutil
import socket
import subprocess

from conftest import BINARY, ROOT

TOKEN = "correct-horse-battery-staple"


def http(server, path, headers=None, method="GET"):
    """(status, headers as a lower-cased dict, body) without following redirects."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    return int(status_line.split()[1]), {k.lower(): v for k, v in (line.split(": ", 1) for line in header_lines)}, body


def websocket_status(server, headers):
    """The status of a WebSocket handshake with `headers` added (read up to the end of the response head)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /ws HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
             "Sec-WebSocket-Version: 13"] + [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(1)
            assert chunk, "closed before the response head ended"
            head += chunk
    return int(head.split()[1])


def test_without_the_token_only_health_and_login_are_served(make_server):
    server = make_server("--auth-token", TOKEN)
    for path in ["/api/logs", "/api/stats", "/api/histogram", "/metrics", "/static/app.js"]:
        status, headers, _ = http(server, path)
        assert status == 401 and headers["www-authenticate"].startswith("Bearer"), path
    status, headers, _ = http(server, "/")
    assert status == 303 and headers["location"] == "/login"
    assert http(server, "/healthz")[0] == 200 and http(server, "/login")[0] == 200
    assert http(server, "/api/logs", {"Authorization": "Bearer wrong-token-wrong-token"})[0] == 401
    assert http(server, "/api/logs", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    # The login page's exchange: a bearer token for a cookie that holds a digest of it, not the token.
    status, headers, _ = http(server, "/api/session", {"Authorization": f"Bearer {TOKEN}"})
    cookie = headers["set-cookie"]
    assert status == 204 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    assert http(server, "/api/stats", {"Cookie": session})[0] == 200
    assert http(server, "/api/stats", {"Cookie": session[:-1] + "0"})[0] == 401
    assert http(server, "/api/session", {"Authorization": "Bearer not-it-not-it-not-it"})[0] == 401
    assert websocket_status(server, {}) == 401
    assert websocket_status(server, {"Authorization": f"Bearer {TOKEN}"}) == 101
    assert websocket_status(server, {"Cookie": session, "Origin": "http://127.0.0.1"}) == 101
    stats = http(server, "/api/stats", {"Authorization": f"Bearer {TOKEN}"})[2]
    assert b'"http_unauthorized":' in stats


def test_the_token_can_come_from_the_environment_and_must_be_long_enough(make_server):
    process = subprocess.run([str(BINARY), "--no-persist", "--auth-token", "short", "--http-port", "0"], capture_output=True, text=True, timeout=10)
    assert process.returncode != 0 and process.stderr.count("\n") == 1 and "at least 16" in process.stderr
    bad_origin = subprocess.run([str(BINARY), "--no-persist", "--allowed-origins", "evil.example"], capture_output=True, text=True, timeout=10)
    assert bad_origin.returncode != 0 and "scheme://host" in bad_origin.stderr
    os.environ["LOGSTREAM_AUTH_TOKEN"] = TOKEN
    try:
        server = make_server()
    finally:
        del os.environ["LOGSTREAM_AUTH_TOKEN"]
    assert http(server, "/api/logs")[0] == 401
    assert http(server, "/api/logs", {"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_websocket_handshakes_from_other_sites_are_refused(make_server):
    server = make_server("--allowed-origins", "https://dash.example.com, http://localhost:3000")
    assert websocket_status(server, {"Origin": "http://evil.example"}) == 403
    assert websocket_status(server, {"Origin": "http://127.0.0.1"}) == 101  # the server's own (Host: 127.0.0.1)
    assert websocket_status(server, {"Origin": "https://dash.example.com"}) == 101
    assert websocket_status(server, {"Origin": "http://localhost:3000"}) == 101
    assert websocket_status(server, {}) == 101  # not a browser
    assert server.stats()["websocket_origin_refused"] == 1


def test_the_dashboard_carries_security_headers(server):
    for path in ["/", "/static/app.js", "/login"]:
        status, headers, _ = http(server, path)
        assert status == 200
        policy = headers["content-security-policy"]
        assert "script-src" not in policy or "'unsafe-inline'" not in policy
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


def test_paths_cannot_leave_the_static_folder(make_server, tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    (static / "passwd.txt").symlink_to("/etc/passwd")
    server = make_server("--static-dir", str(static))
    for path in ["/static/../../../../etc/passwd", "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd",
                 "/static/passwd.txt", "/static//etc/passwd", "/static/.%2e/.%2e/etc/passwd", "/../../etc/passwd"]:
        status, _, body = http(server, path)
        assert status in (400, 404), path
        assert b"root:" not in body, path
