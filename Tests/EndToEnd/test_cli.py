"""Startup errors: one clear line on stderr and a non-zero exit."""
import socket
import subprocess

from conftest import BINARY, free_port


def run(*args):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=20)


def test_help_lists_the_flags():
    result = run("--help")
    assert result.returncode == 0
    for flag in ["--udp-port", "--tcp-port", "--http-port", "--bind", "--http-bind", "--buffer-size",
                 "--buffer-bytes", "--max-line-bytes", "--static-dir"]:
        assert flag in result.stdout


def test_a_port_in_use_is_one_line_and_non_zero():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("--bind", "127.0.0.1", "--tcp-port", str(port), "--udp-port", str(free_port()), "--http-port", str(free_port()))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Address already in use" in lines[0] and f":{port}" in lines[0]


def test_bad_flag_values_are_one_line_and_non_zero():
    for args in (["--buffer-size", "lots"], ["--udp-port", "70000"], ["--bind", "not-an-ip"], ["--no-such-flag"],
                 ["--buffer-bytes", "1K"], ["--static-dir", "/no/such/dir"]):
        result = run(*args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("logstream: error:"), (args, result.stderr)
