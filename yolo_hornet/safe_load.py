"""Restricted checkpoint loading: no user file is ever fully unpickled unless the user says it is trusted.

:func:`safe_load` is what the command-line tools use for every ``.pt``/``.pth`` a user names: ``torch.load`` with
``weights_only=True`` against ultralytics' own allow-list plus our layer classes
(:func:`yolo_hornet.ultralytics_glue.allow_our_classes`, which ``import yolo_hornet`` runs, so that our checkpoints
also load under ``ULTRALYTICS_SAFE_LOAD=1``). A file that needs any other global is refused with
:class:`UnsafeCheckpointError` naming it; the file's code never runs. ``ultralytics_glue.restricted_loading`` makes
ultralytics' own loads (``YOLO(path)``, resume) take the same restricted path inside a block.
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
    from ultralytics.nn.tasks import _SafeLoad

    path = Path(path)
    try:
        if trust:
            return torch.load(path, map_location="cpu", weights_only=False)
        with _SafeLoad.loading(path):  # our classes joined its allow-list when yolo_hornet was imported (register())
            return torch.load(path, map_location="cpu", weights_only=True)
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
