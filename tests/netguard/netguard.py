"""No test may reach the network: every resolve, connect or UDP send to a non-loopback host is blocked and logged.

``install()`` patches the ``socket`` module (``connect``, ``connect_ex``, ``sendto``, ``getaddrinfo``,
``gethostbyname``, ``gethostbyname_ex``, ``gethostbyaddr``, ``getnameinfo``). A blocked call raises ``OSError``, as a
real offline machine would, and appends a line to the file named by ``$NETGUARD_LOG`` (read at call time). The
tests check that file after every test, so an attempt fails the test even when the code swallowed the exception.
``sitecustomize.py`` installs the same guard in every Python subprocess started with this folder on PYTHONPATH, and
``bin/`` holds failing ``curl``/``wget``/``git`` stand-ins that log the same way for child-process downloads.
"""

from __future__ import annotations

import os
import socket
import traceback

LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "", None}
_MARK = "_netguard_installed"


def blocked(what: str) -> OSError:
    """Log the attempt to ``$NETGUARD_LOG`` and return the error to raise."""
    log = os.environ.get("NETGUARD_LOG")
    if log:
        caller = "".join(traceback.format_stack(limit=40)[:-2])  # where the attempt came from, for the failure text
        with open(log, "a") as f:
            f.write(f"{what} (pid {os.getpid()})\n{caller}\n")
    return OSError(f"network access blocked by the test guard: {what}")


def _host(address) -> str | None:
    host = address[0] if isinstance(address, tuple) else address
    return host.decode() if isinstance(host, bytes) else host


def _is_remote(host) -> bool:
    host = _host(host)
    return host not in LOOPBACK and not str(host).startswith("127.")


def install() -> None:
    """Patch the socket module (idempotent)."""
    if getattr(socket, _MARK, False):
        return
    real = {n: getattr(socket, n) for n in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")}
    real_nameinfo = socket.getnameinfo
    connect, connect_ex, sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def inet(sock) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6)

    def guarded_connect(self, address):
        if inet(self) and _is_remote(address):
            raise blocked(f"connect {address}")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        if inet(self) and _is_remote(address):
            raise blocked(f"connect {address}")
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        address = args[-1]
        if inet(self) and _is_remote(address):
            raise blocked(f"sendto {address}")
        return sendto(self, data, *args)

    def resolver(name):
        def guarded(host, *args, **kwargs):
            if _is_remote(host):
                raise blocked(f"{name} {host}")
            return real[name](host, *args, **kwargs)

        return guarded

    def guarded_nameinfo(sockaddr, flags):
        if _is_remote(sockaddr):
            raise blocked(f"getnameinfo {sockaddr}")
        return real_nameinfo(sockaddr, flags)

    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = (
        guarded_connect,
        guarded_connect_ex,
        guarded_sendto,
    )
    for name in real:
        setattr(socket, name, resolver(name))
    socket.getnameinfo = guarded_nameinfo
    setattr(socket, _MARK, True)
