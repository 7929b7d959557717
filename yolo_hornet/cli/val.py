"""val.py: YOLOv5-style validation of a trained model on a dataset split (ultralytics engine and metrics).

python val.py                                           # bundled weights on the bundled DigitScenes val split
python val.py --weights runs/train/exp/weights/best.pt --data their.yaml --img 640
python val.py --task speed --batch-size 1               # timing only (YOLOv5's speed task: conf 0.25, iou 0.45)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yolo_hornet.paths import BUNDLED_WEIGHTS
from yolo_hornet.ultralytics_glue import precision_args

from .common import add_model_flags, add_run_flags, command_parser, run_command
from .errors import UserError, run_cli
from .resolve import (
    check_detector_file,
    check_device,
    check_writable,
    load_data_yaml,
    model_imgsz,
    open_model,
    resolve_data,
    round_imgsz,
)
from .runs import check_name, reserve_run
from .tasks import check_task_data, metrics_line

TASKS = ("val", "test", "speed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """YOLOv5 val.py flags (YOLOv5 defaults where they differ from ultralytics')."""
    p = command_parser(
        "val.py",
        "Validate a YOLO model (HorNet modules available) with the ultralytics engine. With no "
        "arguments: the bundled yolov8n-hornet on the bundled DigitScenes val split, saved to runs/val/exp.",
    )
    p.add_argument("--weights", default=str(BUNDLED_WEIGHTS), help="model .pt (ultralytics checkpoint)")
    p.add_argument("--data", default="", help="dataset YAML (default: bundled DigitScenes)")
    add_model_flags(p)
    p.add_argument("--batch-size", type=int, default=32, help="batch size")
    p.add_argument("--conf-thres", type=float, default=0.001, help="confidence threshold")
    p.add_argument("--iou-thres", type=float, default=0.6, help="NMS IoU threshold (YOLOv5 default; ultralytics 0.7)")
    p.add_argument("--max-det", type=int, default=300, help="max detections per image")
    p.add_argument("--task", default="val", choices=TASKS, help="split to evaluate, or 'speed' for timing only")
    p.add_argument("--single-cls", action="store_true", help="treat as single-class dataset")
    p.add_argument("--augment", action="store_true", help="augmented inference")
    p.add_argument("--verbose", action="store_true", help="report mAP by class")
    p.add_argument("--save-txt", action="store_true", help="save results to *.txt")
    p.add_argument("--save-conf", action="store_true", help="save confidences in --save-txt labels")
    p.add_argument("--save-json", action="store_true", help="save a COCO-JSON results file")
    add_run_flags(p, "runs/val")
    p.add_argument("--half", action="store_true", help="FP16 half-precision inference (CUDA only)")
    return p.parse_args(argv)


def val(argv: list[str] | None = None, **overrides):
    """Validate; returns ultralytics' metrics object (``.box.map50``, ``.box.map``, ``.speed``)."""
    return run_command(parse_args, val_with, argv, overrides, check_options)


def check_options(opt: argparse.Namespace) -> None:
    """Option values that are wrong whatever the model (before anything is loaded)."""
    if not 0.0 <= opt.conf_thres <= 1.0 or not 0.0 <= opt.iou_thres <= 1.0:
        raise UserError(f"--conf-thres and --iou-thres must lie in [0, 1], got {opt.conf_thres}, {opt.iou_thres}")
    if opt.batch_size < 1 or opt.max_det < 1:
        raise UserError("--batch-size and --max-det must be at least 1")


def val_with(opt: argparse.Namespace):
    """``val()`` after parsing, inside restricted loading."""
    project = Path(opt.project).resolve()
    check_writable(project)
    check_name(opt.name)
    data = resolve_data(opt.data)
    split = "val" if opt.task == "speed" else opt.task
    if Path(data).is_file() and split not in load_data_yaml(data, splits=(split,)):
        raise UserError(f"--data '{data}' has no '{split}:' entry; use --task val or add the split")
    if opt.imgsz is not None:
        round_imgsz(opt.imgsz)
    check_device(opt.device)
    check_detector_file(opt.weights, opt.trust_weights)
    model = open_model(opt.weights)  # the task follows the checkpoint (or an exported model's metadata)
    if not opt.data and model.task != "detect":
        raise UserError(f"a {model.task} model needs --data: the bundled DigitScenes split is for detection")
    data = check_task_data(data, model.task, splits=(split,))
    speed = opt.task == "speed"
    run = reserve_run(project, opt.name, opt.exist_ok)
    try:
        metrics = model.val(
            data=data,
            split=split,
            imgsz=model_imgsz(model, opt.imgsz),
            batch=opt.batch_size,
            conf=0.25 if speed else opt.conf_thres,
            iou=0.45 if speed else opt.iou_thres,
            max_det=opt.max_det,
            device=opt.device or None,
            single_cls=opt.single_cls,
            augment=opt.augment,
            verbose=opt.verbose,
            save_txt=opt.save_txt,
            save_conf=opt.save_conf,
            save_json=opt.save_json,
            plots=not speed,
            project=str(run.path.parent),
            name=run.path.name,
            exist_ok=True,
            **precision_args(opt.half),
        )
    except (FileNotFoundError, ValueError, TypeError, RuntimeError, KeyError) as e:
        run.discard()
        raise UserError(f"validation failed: {type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}") from e
    per_image = ", ".join(f"{k} {v:.1f} ms" for k, v in metrics.speed.items())
    if not speed:
        print(metrics_line(metrics, model.task, split))
    print(f"speed per image: {per_image}")
    print(f"results saved to {run.path}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(val, argv)


if __name__ == "__main__":
    sys.exit(main())
