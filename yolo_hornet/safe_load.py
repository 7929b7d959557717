"""Restricted checkpoint loading: no user file is ever fully unpickled unless the user says it is trusted.

:func:`safe_load` is what the command-line tools use for every ``.pt``/``.pth`` a user names: ``torch.load`` with
``weights_only=True`` against ultralytics' own allow-list where this ultralytics has one (8.4.130+), else
:func:`allow_list` (model classes of torch, torchvision, ultralytics and ours, plus the plain data types ultralytics
checkpoints hold), and our layer classes (:func:`yolo_hornet.ultralytics_glue.allow_our_classes`, which
``import yolo_hornet`` runs, so that our checkpoints also load under ``ULTRALYTICS_SAFE_LOAD=1``). A file that
needs any other global is refused with :class:`UnsafeCheckpointError` naming it; the file's code never runs.
``ultralytics_glue.restricted_loading`` makes ultralytics' own loads (``YOLO(path)``, resume) take the same
restricted path inside a block, where ultralytics has that switch.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch


class UnsafeCheckpointError(Exception):
    """The checkpoint needs a global outside the allow-list; ``.name`` is the first one torch refused."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class DamagedCheckpointError(Exception):
    """The file is empty, truncated or not a PyTorch checkpoint at all."""


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
    from yolo_hornet.ultralytics_glue import allow_torchvision_drop_path, has_ultralytics_safe_load

    path = Path(path)
    try:
        if trust:
            return torch.load(path, map_location="cpu", weights_only=False)
        needed = needed_globals(path)  # scanned once, without running anything from the file
        if any(name.startswith("torchvision.ops.stochastic_depth.") for name in needed):
            allow_torchvision_drop_path()  # HorBlock's drop path as yolo_hornet saved it before its own DropPath
        if has_ultralytics_safe_load():
            from ultralytics.nn.tasks import _SafeLoad

            with _SafeLoad.loading(path):  # our classes are on torch's allow-list since import (register())
                return torch.load(path, map_location="cpu", weights_only=True)
        torch.serialization.add_safe_globals(allow_list(needed))
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if not trust and "weights_only" in str(e) and refused_global(e) != "?":
            raise UnsafeCheckpointError(refused_global(e)) from e
        raise DamagedCheckpointError(first_sentence(e)) from e
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, ModuleNotFoundError) as e:
        raise DamagedCheckpointError(first_sentence(e)) from e


MODEL_PACKAGES = ("torch", "torchvision", "ultralytics", "yolo_hornet")
LOSS_MODULES = ("ultralytics.utils.loss", "ultralytics.utils.tal")  # a model's criterion, pickled by older releases


def needed_globals(path: str | Path) -> list[str]:
    """The globals a checkpoint names (torch's scan; no code runs); empty for a file torch cannot scan."""
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (ValueError, RuntimeError, OSError):  # not a zip checkpoint: torch.load reports the format error
        return []


def allow_list(needed: list[str]) -> list:
    """What a restricted load may rebuild, for an ultralytics without its own restricted loader: of the globals a
    checkpoint names (``needed``, :func:`needed_globals`), the ``nn.Module`` classes of torch, torchvision,
    ultralytics and this package, the loss classes ultralytics defines (older releases pickle a model's criterion),
    plus the plain data types ultralytics checkpoints hold (its argument namespace, numpy scalars, paths)."""
    import importlib
    import pathlib

    import numpy as np
    import torch.nn as nn
    from ultralytics.utils import IterableSimpleNamespace

    allowed: list = [IterableSimpleNamespace, np.dtype, type(np.dtype(np.float64))]
    scalar = np.float64(0).__reduce__()[0]
    allowed += [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar")]
    paths = ("PosixPath", "WindowsPath")
    allowed += [(pathlib.PosixPath, f"{m}.{c}") for m in ("pathlib", "pathlib._local") for c in paths]
    for name in needed:
        module, _, attr = name.rpartition(".")
        if module.split(".")[0] not in MODEL_PACKAGES:
            continue
        try:
            obj = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            continue
        loss = module in LOSS_MODULES and getattr(obj, "__module__", None) == module
        if isinstance(obj, type) and (issubclass(obj, nn.Module) or loss):
            allowed.append(obj)
    return allowed


def first_sentence(e: Exception) -> str:
    """``Type: first sentence of the message`` (torch's load errors run to several lines of advice)."""
    text = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {text.split('. ')[0].rstrip('.')[:200]}"
