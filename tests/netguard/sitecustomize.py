"""Socket guard for subprocesses started by the tests (put this folder on PYTHONPATH).

Any resolve/connect to a non-loopback host raises and is written to $NETGUARD_LOG, which the test then checks.
"""

import os
import socket

_LOOP = {"127.0.0.1", "::1", "localhost", "0.0.0.0", None}
_connect, _connect_ex, _gai = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _deny(what):
    log = os.environ.get("NETGUARD_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{what}\n")
    raise OSError(f"network access blocked by test guard: {what}")


def _host(a):
    return a[0] if isinstance(a, tuple) else str(a)


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in _LOOP:
        _deny(f"connect {address}")
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in _LOOP:
        _deny(f"connect {address}")
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOOP:
        _deny(f"resolve {host}")
    return _gai(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
