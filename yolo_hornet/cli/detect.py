"""detect.py: YOLOv5-style detection on images, folders, globs, videos, webcams and streams (ultralytics engine).

python detect.py                                    # bundled weights on the bundled demo video
python detect.py --weights best.pt --source 0       # webcam
python detect.py --source data/videos/vtest.avi --view-img
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2

from yolo_hornet.paths import BUNDLED_WEIGHTS, DEMO_VIDEO
from yolo_hornet.ultralytics_glue import precision_args

from .common import add_model_flags, add_run_flags, command_parser, run_command
from .errors import UserError, run_cli
from .resolve import (
    check_detector_file,
    check_device,
    check_writable,
    model_imgsz,
    open_model,
    round_imgsz,
)
from .runs import check_name, reserve_run
from .sources import check_source
from .tasks import result_summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """YOLOv5 detect.py flags (YOLOv5 defaults where they differ from ultralytics')."""
    p = command_parser(
        "detect.py",
        "Run a YOLO model (HorNet modules available) on images, videos, webcams or streams. With no "
        "arguments: the bundled yolov8n-hornet on the bundled demo video, saved to runs/detect/exp.",
    )
    p.add_argument("--weights", default=str(BUNDLED_WEIGHTS), help="model .pt (ultralytics checkpoint)")
    p.add_argument(
        "--source", default=str(DEMO_VIDEO), help="file, folder, glob, video, 0 (webcam), .txt, .streams, URL"
    )
    p.add_argument("--data", default="", help="optional dataset YAML, only for class names")
    add_model_flags(p, imgsz="inference size (default: training)")
    p.add_argument("--conf-thres", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou-thres", type=float, default=0.45, help="NMS IoU threshold (YOLOv5 default; ultralytics 0.7)")
    p.add_argument("--max-det", type=int, default=1000, help="max detections per image (YOLOv5; ultralytics 300)")
    p.add_argument("--view-img", action="store_true", help="show results in a window with an FPS overlay")
    p.add_argument("--save-txt", action="store_true", help="save results to *.txt")
    p.add_argument("--save-conf", action="store_true", help="save confidences in --save-txt labels")
    p.add_argument("--save-crop", action="store_true", help="save cropped prediction boxes")
    p.add_argument("--nosave", action="store_true", help="do not save images/videos")
    p.add_argument("--classes", nargs="+", type=int, default=None, help="filter by class: --classes 0, or 0 2 3")
    p.add_argument("--agnostic-nms", action="store_true", help="class-agnostic NMS")
    p.add_argument("--augment", action="store_true", help="augmented inference")
    add_run_flags(p, "runs/detect")
    p.add_argument("--line-thickness", type=int, default=None, help="bounding box thickness (pixels)")
    p.add_argument("--hide-labels", action="store_true", help="hide labels")
    p.add_argument("--hide-conf", action="store_true", help="hide confidences")
    p.add_argument("--half", action="store_true", help="FP16 half-precision inference (CUDA only)")
    p.add_argument("--vid-stride", type=int, default=1, help="video frame-rate stride")
    return p.parse_args(argv)


def display_available() -> bool:
    """True when a window can be opened (a display and a GUI-enabled OpenCV)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow("yolo_hornet-check", cv2.WINDOW_NORMAL)
        cv2.destroyWindow("yolo_hornet-check")
        return True
    except cv2.error:
        return False


def class_names(data: str) -> dict[int, str] | None:
    """Class names from a dataset YAML, if given."""
    if not data:
        return None
    import yaml

    path = Path(data)
    if not path.is_file():
        raise UserError(f"--data '{data}' not found; give the dataset YAML whose 'names:' label the output")
    names = (yaml.safe_load(path.read_text()) or {}).get("names")
    if not isinstance(names, (list, dict)) or not names:
        raise UserError(f"--data '{data}' has no 'names:' list")
    return dict(enumerate(names)) if isinstance(names, list) else {int(k): v for k, v in names.items()}


def detect(argv: list[str] | None = None, **overrides) -> Path | None:
    """Run detection; returns the folder with the results (None with --nosave)."""
    return run_command(parse_args, detect_with, argv, overrides, check_options)


def check_options(opt: argparse.Namespace) -> None:
    """Option values that are wrong whatever the model (before anything is loaded)."""
    if not 0.0 <= opt.conf_thres <= 1.0:
        raise UserError(f"--conf-thres must lie in [0, 1], got {opt.conf_thres}")
    if not 0.0 <= opt.iou_thres <= 1.0:
        raise UserError(f"--iou-thres must lie in [0, 1], got {opt.iou_thres}")
    if opt.max_det < 1 or opt.vid_stride < 1:
        raise UserError("--max-det and --vid-stride must be at least 1")


def detect_with(opt: argparse.Namespace) -> Path | None:
    """``detect()`` after parsing, inside restricted loading."""
    project = Path(opt.project).resolve()
    check_writable(project)
    check_name(opt.name)
    if opt.imgsz is not None:
        round_imgsz(opt.imgsz)  # a bad --img is an error before anything is loaded
    check_detector_file(opt.weights, opt.trust_weights)
    kind, total = check_source(str(opt.source))
    check_device(opt.device)
    model = load_model(opt)
    show = opt.view_img
    if show and not display_available():
        print("--view-img: no display available, not showing a window; results are still saved", file=sys.stderr)
        show = False
    saving = not opt.nosave or opt.save_txt or opt.save_crop
    run = reserve_run(project, opt.name, opt.exist_ok) if saving else None
    where = dict(project=str(run.path.parent if run else project), name=run.path.name if run else opt.name)
    stream = model.predict(**predict_args(opt, model_imgsz(model, opt.imgsz)), **where)
    start = time.perf_counter()
    try:
        frames, detections, save_dir = show_progress(stream, opt, model, kind, total, show)
    except (FileNotFoundError, ConnectionError, ValueError) as e:
        if run:
            run.discard()
        raise UserError(f"--source '{opt.source}': {str(e).strip().splitlines()[-1][:300]}") from e
    if frames == 0:
        if run:
            run.discard()
        raise UserError(f"--source '{opt.source}' gave no frames to process")
    fps = frames / (time.perf_counter() - start)
    done = {"classify": "classified", "semantic": "segmented", "depth": "with depth"}.get(model.task, "detections")
    print(f"{frames} frames, {detections} {done}, {fps:.1f} FPS")
    if opt.nosave and not opt.save_txt and not opt.save_crop:
        return None
    print(f"results saved to {save_dir}")
    return save_dir


def load_model(opt: argparse.Namespace):
    """The ``ultralytics.YOLO`` of ``--weights`` (the task follows the checkpoint or an exported model's metadata),
    labelled with ``--data``'s class names if given; checks ``--classes`` against it."""
    model = open_model(opt.weights)
    names = class_names(opt.data) or model.names
    if opt.data:
        if len(names) != len(model.names):
            raise UserError(f"--data '{opt.data}' has {len(names)} class names but the model has {len(model.names)}")
        model.model.names = names  # label the output with the dataset's names
    if opt.classes:
        bad = [c for c in opt.classes if c not in range(len(names))]
        if bad:
            raise UserError(f"--classes {bad} out of range: this model has classes 0..{len(names) - 1}")
    return model


def predict_args(opt: argparse.Namespace, imgsz: int) -> dict:
    """ultralytics' predict arguments for the detect.py flags (streamed, quiet: we print our own progress)."""
    return dict(
        source=str(opt.source),
        stream=True,
        imgsz=imgsz,
        conf=opt.conf_thres,
        iou=opt.iou_thres,
        max_det=opt.max_det,
        device=opt.device or None,
        save=not opt.nosave,
        save_txt=opt.save_txt,
        save_conf=opt.save_conf,
        save_crop=opt.save_crop,
        classes=opt.classes,
        agnostic_nms=opt.agnostic_nms,
        augment=opt.augment,
        exist_ok=True,
        line_width=opt.line_thickness,
        show_labels=not opt.hide_labels,
        show_conf=not opt.hide_conf,
        **precision_args(opt.half),
        vid_stride=opt.vid_stride,
        verbose=False,
    )


def show_progress(stream, opt: argparse.Namespace, model, kind: str, total: int | None, show: bool):
    """Run the prediction stream: a progress line per frame (a terminal) or every 25 frames (a log), the window with
    an FPS overlay for ``--view-img`` ('q' stops). Returns (frames, detections, save folder)."""
    frames, detections, start, save_dir = 0, 0, time.perf_counter(), None
    tty = sys.stdout.isatty()
    for result in stream:
        frames += 1
        n, found = result_summary(result)
        detections += n
        fps = frames / max(time.perf_counter() - start, 1e-9)
        of = f"/{total}" if total and kind == "video" else ""
        line = f"frame {frames}{of}  {found}  {fps:5.1f} FPS  {Path(result.path).name}"
        if tty:
            print("\r" + line, end="", flush=True)
        elif frames == 1 or frames % 25 == 0 or frames == total:
            print(line, flush=True)
        save_dir = Path(model.predictor.save_dir)
        if show:
            im = result.plot(line_width=opt.line_thickness)
            cv2.putText(im, f"{fps:.1f} FPS", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 255, 0), 2)
            cv2.imshow("yolo_hornet detect", im)
            if cv2.waitKey(1) & 0xFF == ord("q"):
                break
    if tty:
        print()
    return frames, detections, save_dir


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(detect, argv)


if __name__ == "__main__":
    sys.exit(main())
