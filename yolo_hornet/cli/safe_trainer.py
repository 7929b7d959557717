"""SafeTrainer: ultralytics' trainer of any task with crash-safe checkpoints (what ``train.py`` trains with).

The trainer class comes from the model's ``task_map`` (ultralytics' public extension point), so every task the
installed ultralytics has, now and later, gets a safe trainer; :func:`safe_trainer` builds it once per class. What
the mixin changes, and nothing else:

* every checkpoint ultralytics writes in ``save_model`` (``last.pt``, ``best.pt``, ``epochN.pt``), however it writes
  them, goes into a staging folder next to the weights, is flushed to disk and then ``os.replace``-d over its target,
  so a kill at any moment leaves the previous complete file, and a full disk leaves the previous ``last.pt`` intact;
  the final optimizer strip is atomic too (patch row ``strip_optimizer``);
* ``best.pt`` is written only in an epoch that ran validation (ultralytics would also write it when no validation
  ran yet, because then ``best_fitness == fitness == None``);
* on resume, ``results.csv`` is cut back to the epochs the checkpoint holds (a kill between writing the epoch's row
  and its checkpoint would otherwise leave that epoch twice), so a resumed run has exactly one row per epoch;
* ``epoch_started`` turns True when the first epoch starts (the CLI then never deletes the run folder).
"""

from __future__ import annotations

import csv
import functools
import os
import shutil
from pathlib import Path

from yolo_hornet.atomic import atomic_write_bytes
from yolo_hornet.ultralytics_glue import atomic_final_strip

from .errors import UserError

STAGING = ".saving"  # folder inside weights/ that exists only while save_model runs


def trim_results_csv(csv_path: Path, last_epoch: int) -> int:
    """Keep the header and the well-formed rows of epochs ``1..last_epoch`` (1-based, as ultralytics writes them).

    Returns the number of rows removed. The file is rewritten atomically, and only when something is removed.
    """
    if not csv_path.is_file():
        return 0
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return 0
    header, rows = lines[0], list(csv.reader(lines[1:]))
    width = len(next(csv.reader([header])))
    keep, seen = [], set()
    for row, line in zip(rows, lines[1:]):
        try:
            epoch = int(float(row[0]))
        except (ValueError, IndexError):
            continue
        if len(row) == width and 1 <= epoch <= last_epoch and epoch not in seen:
            keep.append(line)
            seen.add(epoch)
    removed = len(rows) - len(keep)
    if removed:
        atomic_write_bytes(csv_path, ("\n".join([header, *keep]) + "\n").encode())
    return removed


def publish(staged: Path, target: Path) -> None:
    """Flush a staged checkpoint to disk and move it over ``target`` in one step."""
    with open(staged, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(staged, target)


class SafeCheckpoints:
    """Mixin for an ultralytics trainer: checkpoints survive kills, full disks and interrupts (module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_started = False
        self.validated_epoch = None
        self.add_callback("on_train_epoch_start", self._mark_started)

    @staticmethod
    def _mark_started(trainer) -> None:
        trainer.epoch_started = True

    def validate(self):
        """Validate and remember that this epoch was validated (``best.pt`` may change only then)."""
        result = super().validate()
        self.validated_epoch = self.epoch
        return result

    def save_model(self):
        """ultralytics' ``save_model`` into a staging folder, then each file published atomically; ``best.pt`` only
        in a validated epoch. If ultralytics wrote no ``last.pt`` where the trainer said (it changed how it saves),
        it saves again in place with a warning instead of losing the checkpoint."""
        wdir, last, best = Path(self.wdir), self.last, self.best
        stage = wdir / STAGING
        shutil.rmtree(stage, ignore_errors=True)  # a staging folder left by a killed save holds nothing complete
        stage.mkdir(parents=True)
        self.wdir, self.last, self.best = stage, stage / last.name, stage / best.name
        try:
            result = super().save_model()
            if self.validated_epoch != self.epoch:
                (stage / best.name).unlink(missing_ok=True)
            staged = sorted(stage.iterdir(), key=lambda p: p.name != last.name)  # last.pt first
            for file in staged:
                publish(file, wdir / file.name)
        finally:
            self.wdir, self.last, self.best = wdir, last, best
            shutil.rmtree(stage, ignore_errors=True)
        if not staged:
            from ultralytics.utils import LOGGER

            LOGGER.warning("yolo_hornet: atomic checkpoint writes are off (ultralytics saved outside trainer.wdir)")
            result = super().save_model()
        return result

    def resume_training(self, ckpt):
        """Resume as ultralytics does, then cut ``results.csv`` back to the epochs the checkpoint holds."""
        super().resume_training(ckpt)
        if ckpt is not None and self.resume:
            trim_results_csv(self.csv, int(ckpt.get("epoch", -1)) + 1)

    def final_eval(self):
        """Final validation with ultralytics' optimizer strip made atomic."""
        with atomic_final_strip():
            return super().final_eval()


@functools.cache
def safe_class(base: type) -> type:
    """``base`` (an ultralytics trainer class) with :class:`SafeCheckpoints`, named ``Safe<Base>``."""
    return type(f"Safe{base.__name__}", (SafeCheckpoints, base), {"__doc__": f"{base.__name__} with safe checkpoints."})


def safe_trainer(task: str, model=None) -> type:
    """The safe trainer class for ``task``: the trainer of ``model.task_map`` (default: a plain ``ultralytics.YOLO``'s
    map, which holds every task of the installed ultralytics). Raises :class:`UserError` for a task it cannot train."""
    if model is None:
        from ultralytics import YOLO

        model = YOLO
    task_map = model.task_map if not isinstance(model, type) else model.task_map.fget(model.__new__(model))
    trainer = (task_map.get(task) or {}).get("trainer")
    if trainer is None:
        raise UserError(
            f"ultralytics has no trainer for task '{task}' (its tasks: {', '.join(sorted(task_map))}); "
            "pick a model of one of those tasks"
        )
    return safe_class(trainer)


SafeTrainer = safe_trainer("detect")  # the detection trainer, as before
