"""Every task of the installed ultralytics gets our safe trainer from ``Model.task_map`` (no hard-coded task list),
and a task our data checks do not know (semantic segmentation) is one ``error:`` line with nothing left behind."""

from __future__ import annotations

import pytest
from ultralytics import YOLO
from ultralytics.cfg import TASKS

import yolo_hornet  # noqa: F401  (registers)
from yolo_hornet.cli.errors import UserError
from yolo_hornet.cli.safe_trainer import SafeCheckpoints, safe_trainer


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_gets_a_safe_trainer(task):
    base = YOLO.task_map.fget(YOLO.__new__(YOLO))[task]["trainer"]
    cls = safe_trainer(task)
    assert issubclass(cls, SafeCheckpoints) and issubclass(cls, base) and cls.__mro__[1] is SafeCheckpoints
    assert safe_trainer(task) is cls  # built once


def test_unknown_task_is_a_user_error():
    with pytest.raises(UserError, match="no trainer for task 'depthx'"):
        safe_trainer("depthx")


@pytest.mark.skipif("semantic" not in TASKS, reason="this ultralytics has no semantic task (added in 8.4.1xx)")
def test_stock_semantic_model_with_box_data_is_one_error_line(tmp_path, capsys):
    from yolo_hornet.cli.train import main as train_main
    from yolo_hornet.data.digitscenes import write_dataset

    data = write_dataset(tmp_path / "digits", train=8, val=4, imgsz=64, seed=3)
    project = tmp_path / "runs"
    rc = train_main(["--cfg", "yolo26n-sem.yaml", "--data", str(data), "--epochs", "1", "--imgsz", "64",
                     "--batch-size", "4", "--workers", "0", "--project", str(project), "--noplots"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    assert not project.exists() or list(project.iterdir()) == []  # no half-made run folder
