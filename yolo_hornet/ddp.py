"""Multi-GPU (DDP) training with our modules: make ultralytics' DDP workers see them.

Ultralytics' launcher (``--device 0,1``) writes a temporary script plus a cloudpickled trainer state; each worker
process rebuilds the trainer from it, importing only ultralytics. When training starts from a YAML path the state
holds only that path, and a worker would build the model without our modules registered. :func:`hook_ddp` wraps
``ultralytics.utils.dist.generate_ddp_file`` so that

1. a model given as a YAML path is built in the launching process (with the trainer's ``nc``) and pickled as a
   module, so every worker gets the same model, and unpickling it imports ``yolo_hornet`` (registering the modules);
2. the generated worker script imports ``yolo_hornet`` before loading the state (covers ``.pt`` paths and resume).
"""

from __future__ import annotations

import functools
from pathlib import Path

MARK = "_yolo_hornet"
IMPORT_LINE = "    import yolo_hornet  # registers the HorNet modules in this DDP worker\n"


def materialize_model(trainer) -> None:
    """Replace a YAML path in ``trainer.model`` by the built model (weights stay as the trainer would load them)."""
    model = trainer.model
    if isinstance(model, (str, Path)) and str(model).endswith((".yaml", ".yml")):
        trainer.model = trainer.get_model(cfg=str(model), weights=None, verbose=False)


def add_import(script: str) -> None:
    """Insert ``import yolo_hornet`` into a generated DDP worker script, right after its ``sys.path`` line."""
    path = Path(script)
    lines = path.read_text().splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.strip().startswith("sys.path =")), None)
    if at is None:
        at = next(i + 1 for i, line in enumerate(lines) if "__main__" in line)
    lines.insert(at, IMPORT_LINE)
    path.write_text("".join(lines))


def hook_ddp() -> None:
    """Wrap ultralytics' ``generate_ddp_file`` (idempotent)."""
    from ultralytics.utils import dist

    original = dist.generate_ddp_file
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def generate_ddp_file(trainer):
        materialize_model(trainer)
        script = original(trainer)
        add_import(script)
        return script

    setattr(generate_ddp_file, MARK, True)
    dist.generate_ddp_file = generate_ddp_file
