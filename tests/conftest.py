"""Shared fixtures: a socket guard (no test may open a non-loopback connection) and small helpers."""

from __future__ import annotations

import os
import socket

import pytest
import torch

os.environ.setdefault("YOLO_OFFLINE", "1")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}


class NetworkAccessError(AssertionError):
    """Raised when code under test tries to reach the network."""


def _host(address) -> str:
    return address[0] if isinstance(address, tuple) else str(address)


def _guard_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
        raise NetworkAccessError(f"test tried to connect to {address}")
    return _real_connect(self, address)


def _guard_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
        raise NetworkAccessError(f"test tried to connect to {address}")
    return _real_connect_ex(self, address)


def _guard_getaddrinfo(host, *args, **kwargs):
    if host not in LOOPBACK and host is not None:
        raise NetworkAccessError(f"test tried to resolve {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def socket_guard(monkeypatch):
    """Fail any test that resolves or connects to a non-loopback host."""
    monkeypatch.setattr(socket.socket, "connect", _guard_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guard_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guard_getaddrinfo)
    yield


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
YAML_DIR = REPO / "models" / "yaml"
