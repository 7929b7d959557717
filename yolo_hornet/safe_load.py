"""Restricted checkpoint loading: no user file is ever fully unpickled unless the user says it is trusted.

Two pieces:

* :func:`allow_our_classes` adds our layers (and torchvision's ``StochasticDepth``, which HorBlock uses for drop
  path) to the allow-list of ultralytics' own restricted loader (``ultralytics.nn.tasks._SafeLoad``), so that
  checkpoints with HorNet modules load under ``ULTRALYTICS_SAFE_LOAD=1``. It runs on ``import yolo_hornet``.
* :func:`safe_load` is what the command-line tools use for every ``.pt``/``.pth`` a user names: ``torch.load`` with
  ``weights_only=True`` against that allow-list. A file that needs any other global is refused with
  :class:`UnsafeCheckpointError` naming it; the file's code never runs. :func:`restricted_loading` makes
  ultralytics' own loads (``YOLO(path)``, resume) take the same restricted path inside a block.
"""

from __future__ import annotations

import contextlib
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

LAYER_MODULES = ("csp_blocks", "global_local_filter", "gnconv", "horblock", "horfpn", "hornet", "layer_norm")


class UnsafeCheckpointError(Exception):
    """The checkpoint needs a global outside the allow-list; ``.name`` is the first one torch refused."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class DamagedCheckpointError(Exception):
    """The file is empty, truncated or not a PyTorch checkpoint at all."""


def our_classes() -> dict[str, type]:
    """Return ``{"module.QualName": class}`` for every ``nn.Module`` a yolo_hornet checkpoint may pickle."""
    import importlib

    import torchvision.ops

    found: dict[str, type] = {}
    for name in LAYER_MODULES:  # by full name: ``yolo_hornet.hornet`` is also the name of a function in the package
        module = importlib.import_module(f"yolo_hornet.{name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    sd = torchvision.ops.StochasticDepth
    found[f"{sd.__module__}.{sd.__qualname__}"] = sd
    return found


def allow_our_classes() -> None:
    """Put our classes on ultralytics' restricted-load allow-list (idempotent; no file is read)."""
    from ultralytics.nn.tasks import _SafeLoad

    with _SafeLoad._lock:
        if _SafeLoad._registry is None:
            _SafeLoad._registry = _SafeLoad._build()
        _SafeLoad._registry.update(our_classes())


@contextlib.contextmanager
def restricted_loading(enabled: bool = True) -> Iterator[None]:
    """Within the block, ultralytics loads every checkpoint with ``weights_only=True`` (its ``SAFE_LOAD`` switch).

    The command-line tools run inside this block unless the user passed ``--trust-weights``; the previous setting
    comes back on exit.
    """
    import ultralytics.nn.tasks as tasks
    import ultralytics.utils as uutils

    allow_our_classes()
    before = tasks.SAFE_LOAD, uutils.SAFE_LOAD
    tasks.SAFE_LOAD = uutils.SAFE_LOAD = enabled or before[0]
    try:
        yield
    finally:
        tasks.SAFE_LOAD, uutils.SAFE_LOAD = before


_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def refused_global(error: Exception) -> str:
    """The global named in torch's ``weights_only`` refusal message (``'?'`` when torch did not name one)."""
    match = _GLOBAL.search(str(error))
    return match.group(1) if match else "?"


def safe_load(path: str | Path, trust: bool = False) -> Any:
    """Load ``path`` without running code from it; ``trust=True`` (the user's explicit choice) unpickles fully.

    Returns:
        The loaded object (a state dict for official ``.pth`` files, a dict holding modules for ultralytics ``.pt``).

    Raises:
        UnsafeCheckpointError: The file needs a global outside the allow-list (``.name`` says which).
        DamagedCheckpointError: The file is empty, truncated or not a checkpoint.
    """
    from ultralytics.nn.tasks import _SafeLoad

    path = Path(path)
    if trust:
        loader = dict(weights_only=False)
    else:
        allow_our_classes()
        loader = dict(weights_only=True)
    try:
        if trust:
            return torch.load(path, map_location="cpu", **loader)
        with _SafeLoad.loading(path):
            return torch.load(path, map_location="cpu", **loader)
    except pickle.UnpicklingError as e:
        if not trust and "weights_only" in str(e) and refused_global(e) != "?":
            raise UnsafeCheckpointError(refused_global(e)) from e
        raise DamagedCheckpointError(first_sentence(e)) from e
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, ModuleNotFoundError) as e:
        raise DamagedCheckpointError(first_sentence(e)) from e


def first_sentence(e: Exception) -> str:
    """``Type: first sentence of the message`` (torch's load errors run to several lines of advice)."""
    text = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {text.split('. ')[0].rstrip('.')[:200]}"
