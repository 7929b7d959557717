"""The network guard itself: every way out is blocked and logged, also when the caller swallows the error."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def attempts(log: Path) -> str:
    text = log.read_text() if log.exists() else ""
    log.unlink(missing_ok=True)  # consumed here, so the guard fixture does not fail this test
    return text


@pytest.mark.parametrize(
    "call,logged",
    [
        (lambda: socket.gethostbyname("example.com"), "gethostbyname example.com"),
        (lambda: socket.gethostbyname_ex("example.com"), "gethostbyname_ex example.com"),
        (lambda: socket.getaddrinfo("example.com", 443), "getaddrinfo example.com"),
        (lambda: socket.getnameinfo(("93.184.216.34", 80), 0), "getnameinfo"),
        (lambda: socket.create_connection(("93.184.216.34", 80), timeout=1), "getaddrinfo 93.184.216.34"),
        (lambda: socket.socket().connect(("93.184.216.34", 80)), "connect ('93.184.216.34', 80)"),
        (lambda: socket.socket().connect_ex(("93.184.216.34", 80)), "connect ('93.184.216.34', 80)"),
        (lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)), "sendto"),
    ],
)
def test_in_process_calls_are_blocked_and_logged(network_guard, call, logged):
    try:
        call()
    except Exception:  # noqa: BLE001  (code under test may swallow it: the log still has it)
        pass
    assert logged in attempts(network_guard)


def test_loopback_stays_open(network_guard):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("127.0.0.1", 9))
    assert socket.gethostbyname("localhost").startswith("127.")
    assert attempts(network_guard) == ""


def test_subprocesses_are_guarded(network_guard, tmp_path):
    code = "import socket\ntry:\n    socket.gethostbyname('pypi.org')\nexcept OSError:\n    pass\n"
    subprocess.run([sys.executable, "-c", code], check=True)
    for cmd in (["curl", "-sS", "https://example.com"], ["wget", "-q", "https://example.com"],
                ["git", "clone", "https://github.com/x/y", str(tmp_path / "y")]):  # fmt: skip
        assert subprocess.run(cmd, capture_output=True).returncode != 0
    log = attempts(network_guard)
    assert "gethostbyname pypi.org" in log and "curl -sS" in log and "wget -q" in log and "git clone" in log
    assert f"pid {os.getpid()}" not in log.splitlines()[0]  # logged by the child, not by this process
    out = subprocess.run(["git", "--version"], capture_output=True, text=True)  # local git still works
    assert out.returncode == 0 and "git version" in out.stdout
