"""Keep ultralytics offline: no online probe, no settings sync, no font or AMP-check download.

:func:`set_offline_env` runs before ultralytics is imported (``YOLO_OFFLINE=1`` unless the user set it, which also
stops ultralytics' DNS probe); :func:`patch_ultralytics` then resolves fonts to one that ships with matplotlib (a
dependency) and replaces the AMP check, which would download a hub model, by a local decision.
"""

from __future__ import annotations

import os
from pathlib import Path


def set_offline_env() -> None:
    """Set ultralytics' offline switches in the environment unless the user chose otherwise."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")


def local_font(font: str = "Arial.ttf") -> Path:
    """Return a TrueType font that exists on this machine: the requested one in ultralytics' config dir, else the
    DejaVu Sans that ships with matplotlib."""
    import matplotlib
    from ultralytics.utils import USER_CONFIG_DIR

    file = USER_CONFIG_DIR / Path(font).name
    if file.exists():
        return file
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def offline_check_amp(model) -> bool:
    """AMP check without the hub download: on CPU AMP is off; on CUDA it is on, with a log line saying why."""
    from ultralytics.utils import LOGGER

    device = next(model.parameters()).device
    if device.type in {"cpu", "mps"}:
        return False
    LOGGER.info("AMP: checks skipped (offline, no hub model download); using AMP on " + str(device))
    return True


def patch_ultralytics() -> None:
    """Point ultralytics' font lookup and AMP check at the offline versions above (idempotent)."""
    import importlib

    if os.environ.get("YOLO_OFFLINE", "1").lower() in {"0", "false"}:
        return
    for name in ("ultralytics.utils.checks", "ultralytics.utils.plotting", "ultralytics.data.utils"):
        module = importlib.import_module(name)
        if hasattr(module, "check_font"):
            module.check_font = local_font
    for name in ("ultralytics.utils.checks", "ultralytics.engine.trainer"):
        module = importlib.import_module(name)
        if hasattr(module, "check_amp"):
            module.check_amp = offline_check_amp
