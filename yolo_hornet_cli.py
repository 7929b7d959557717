"""Entry points of the yolo_hornet commands (``yolo-hornet``, ``yolo-hornet-train|detect|val|export`` and the root
scripts ``train.py``, ``detect.py``, ``val.py``, ``export.py``).

This module sits outside the ``yolo_hornet`` package on purpose: it sets our commands' offline switches before
anything imports ultralytics, which reads them at import (``YOLO_OFFLINE``: no online probe, no settings sync;
``YOLO_AUTOINSTALL=false``: no pip installs). A value the user set wins. ``import yolo_hornet`` as a library sets
nothing.
"""

from __future__ import annotations

import importlib
import os


def offline_env() -> None:
    """Set ultralytics' offline switches for this process unless the user chose otherwise."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")


def run(command: str) -> int:
    """Run ``yolo_hornet.cli.<command>.main()`` with the offline switches set first; return its exit code."""
    offline_env()
    return importlib.import_module(f"yolo_hornet.cli.{command}").main()


def yolo() -> int:
    """``yolo-hornet``: ultralytics' ``yolo`` command with our modules."""
    return run("yolo")


def train() -> int:
    """``yolo-hornet-train`` / ``train.py``."""
    return run("train")


def detect() -> int:
    """``yolo-hornet-detect`` / ``detect.py``."""
    return run("detect")


def val() -> int:
    """``yolo-hornet-val`` / ``val.py``."""
    return run("val")


def export() -> int:
    """``yolo-hornet-export`` / ``export.py``."""
    return run("export")


def graft() -> int:
    """``yolo-hornet-graft``: HorNet in any model YAML."""
    return run("graft")
