"""SafeTrainer: ultralytics' trainers with crash-safe checkpoints (what ``train.py`` trains with), one per task.

What it changes, and nothing else:

* every checkpoint write (``last.pt``, ``best.pt``, ``epochN.pt`` and the final optimizer strip) goes to a temporary
  file in the same folder, is flushed to disk and then ``os.replace``-d over the target, so a kill at any moment
  leaves the previous complete file, and a full disk leaves the previous ``last.pt`` intact;
* ``best.pt`` is written only in an epoch that ran validation (ultralytics would also write it when no validation
  ran yet, because then ``best_fitness == fitness == None``);
* on resume, ``results.csv`` is cut back to the epochs the checkpoint holds (a kill between writing the epoch's row
  and its checkpoint would otherwise leave that epoch twice), so a resumed run has exactly one row per epoch;
* ``epoch_started`` turns True when the first epoch starts (the CLI then never deletes the run folder).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from pathlib import Path

from ultralytics.models.yolo.classify import ClassificationTrainer
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.models.yolo.obb import OBBTrainer
from ultralytics.models.yolo.pose import PoseTrainer
from ultralytics.models.yolo.segment import SegmentationTrainer


def atomic_write_bytes(path: str | Path, data: bytes) -> int:
    """Write ``data`` to ``path`` atomically: temporary file, flush + fsync, ``os.replace``. Returns the size."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return len(data)


def write_all(f: io.BufferedWriter, data: bytes) -> None:
    """Write every byte of ``data`` to the open file ``f`` (a separate step so tests can make the disk run full)."""
    f.write(data)


class AtomicPath(type(Path())):
    """A path whose ``write_bytes`` is atomic; paths joined onto it (``wdir / 'epoch3.pt'``) are atomic too."""

    def write_bytes(self, data: bytes) -> int:  # noqa: D102  (see atomic_write_bytes)
        return atomic_write_bytes(self, bytes(data))


class UnvalidatedBest(AtomicPath):
    """``best.pt`` in an epoch without validation: ultralytics' write of it is skipped."""

    def write_bytes(self, data: bytes) -> int:  # noqa: D102
        return 0


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


def atomic_strip_optimizer(strip):
    """Wrap ultralytics' ``strip_optimizer`` so that it writes to a temporary file and replaces atomically."""

    def stripped(f, s: str = "", updates=None):
        target = Path(s or f)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.strip.tmp")
        try:
            result = strip(f, str(tmp), updates=updates)
            if tmp.exists():
                os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return result

    return stripped


class SafeCheckpoints:
    """Mixin for an ultralytics trainer: checkpoints survive kills, full disks and interrupts (module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wdir = AtomicPath(self.wdir)
        self.last, self.best = self.wdir / "last.pt", self.wdir / "best.pt"
        self.epoch_started = False
        self.validated_epoch = None
        self.add_callback("on_train_epoch_start", self._mark_started)

    @staticmethod
    def _mark_started(trainer: SafeTrainer) -> None:
        trainer.epoch_started = True

    def validate(self):
        """Validate and remember that this epoch was validated (``best.pt`` may change only then)."""
        result = super().validate()
        self.validated_epoch = self.epoch
        return result

    def save_model(self):
        """Write the checkpoints atomically; skip ``best.pt`` when this epoch ran no validation."""
        best = self.best
        if self.validated_epoch != self.epoch:
            self.best = UnvalidatedBest(best)
        try:
            return super().save_model()
        finally:
            self.best = best

    def resume_training(self, ckpt):
        """Resume as ultralytics does, then cut ``results.csv`` back to the epochs the checkpoint holds."""
        super().resume_training(ckpt)
        if ckpt is not None and self.resume:
            trim_results_csv(self.csv, int(ckpt.get("epoch", -1)) + 1)

    def final_eval(self):
        """Final validation with ultralytics' optimizer strip made atomic."""
        import ultralytics.engine.trainer as engine

        original = engine.strip_optimizer
        engine.strip_optimizer = atomic_strip_optimizer(original)
        try:
            return super().final_eval()
        finally:
            engine.strip_optimizer = original


class SafeTrainer(SafeCheckpoints, DetectionTrainer):
    """ultralytics' DetectionTrainer with safe checkpoints."""


class SafeSegmentationTrainer(SafeCheckpoints, SegmentationTrainer):
    """ultralytics' SegmentationTrainer with safe checkpoints."""


class SafePoseTrainer(SafeCheckpoints, PoseTrainer):
    """ultralytics' PoseTrainer with safe checkpoints."""


class SafeOBBTrainer(SafeCheckpoints, OBBTrainer):
    """ultralytics' OBBTrainer with safe checkpoints."""


class SafeClassificationTrainer(SafeCheckpoints, ClassificationTrainer):
    """ultralytics' ClassificationTrainer with safe checkpoints."""


SAFE_TRAINERS = {
    "detect": SafeTrainer,
    "segment": SafeSegmentationTrainer,
    "pose": SafePoseTrainer,
    "obb": SafeOBBTrainer,
    "classify": SafeClassificationTrainer,
}


def safe_trainer(task: str) -> type:
    """The safe trainer class for an ultralytics task (detect, segment, pose, obb, classify)."""
    return SAFE_TRAINERS[task]
