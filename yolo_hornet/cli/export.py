"""export.py: YOLOv5-style export of a trained model to deployment formats (ultralytics' exporter).

python export.py                                          # bundled weights (copied to ./) -> TorchScript, ONNX
python export.py --weights best.pt --include onnx openvino --img 640
python export.py --weights best.pt --include openvino --int8   # calibrated on --data (default: bundled DigitScenes)

The files are written next to ``--weights`` (as ultralytics and YOLOv5 do). The global filter exports as a plain
circular convolution, so ONNX/OpenVINO graphs need no FFT operator.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yolo_hornet.paths import BUNDLED_WEIGHTS
from yolo_hornet.ultralytics_glue import precision_args

from .common import add_model_flags, command_parser, run_command
from .errors import UserError, run_cli
from .resolve import (
    check_detector_file,
    check_device,
    load_data_yaml,
    model_imgsz,
    open_model,
    resolve_data,
    round_imgsz,
)


def formats() -> dict[str, tuple[str, list[str]]]:
    """``{argument: (format name, export options it takes)}`` for every format the installed ultralytics exports."""
    from ultralytics.engine.exporter import export_formats

    table = export_formats()
    rows = zip(table["Format"], table["Argument"], table["Arguments"])
    return {arg: (name, list(options)) for name, arg, options in rows if arg != "-"}


def format_options(opt: argparse.Namespace, data: str) -> dict:
    """The export options the user set (ultralytics refuses an option a format does not take, so only these go)."""
    options = dict(
        batch=opt.batch_size if opt.batch_size != 1 else None,
        **precision_args(opt.half, opt.int8),
        dynamic=opt.dynamic or None,
        simplify=opt.simplify or None,
        nms=opt.nms or None,
        opset=opt.opset,
        data=data or None,
    )
    return {k: v for k, v in options.items() if v is not None}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """YOLOv5 export.py flags."""
    p = command_parser(
        "export.py",
        "Export a YOLO model (HorNet modules available) with ultralytics' exporter. With no arguments: "
        "the bundled yolov8n-hornet to TorchScript and ONNX, next to the weights file.",
    )
    p.add_argument(
        "--weights",
        default=BUNDLED_WEIGHTS.name,
        help="model .pt (ultralytics checkpoint); the bundled one by name is copied here first, as a download would be",
    )
    p.add_argument("--include", nargs="+", default=["torchscript", "onnx"], help="formats: onnx openvino engine ...")
    add_model_flags(p, device="cpu")
    p.add_argument("--batch-size", type=int, default=1, help="batch size")
    p.add_argument("--half", action="store_true", help="FP16 export (GPU formats)")
    p.add_argument("--int8", action="store_true", help="INT8 quantization (OpenVINO, TensorRT, TFLite, ...)")
    p.add_argument("--dynamic", action="store_true", help="dynamic input shapes (ONNX, TensorRT, OpenVINO)")
    p.add_argument("--simplify", action="store_true", help="simplify the ONNX graph")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset version")
    p.add_argument("--nms", action="store_true", help="include NMS in the exported graph")
    p.add_argument("--data", default="", help="calibration dataset YAML for --int8 (default: bundled DigitScenes)")
    return p.parse_args(argv)


def export(argv: list[str] | None = None, **overrides) -> list[Path]:
    """Export; returns the written files/folders, one per ``--include`` format."""

    def with_formats(opt: argparse.Namespace) -> list[Path]:
        return export_with(opt, [f.lower().lstrip(".") for f in opt.include], formats())

    return run_command(parse_args, with_formats, argv, overrides, check_options)


def check_options(opt: argparse.Namespace) -> None:
    """Option values that are wrong whatever the model (before anything is loaded)."""
    known = formats()
    include = [f.lower().lstrip(".") for f in opt.include]
    unknown = [f for f in include if f not in known]
    if unknown:
        raise UserError(f"--include {' '.join(unknown)}: not an export format; choose from {', '.join(known)}")
    if opt.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {opt.batch_size}")
    if opt.half and opt.int8:
        raise UserError("--half and --int8 exclude each other")


def export_with(opt: argparse.Namespace, include: list[str], known: dict[str, tuple[str, list[str]]]) -> list[Path]:
    """``export()`` after parsing, inside restricted loading."""
    check_detector_file(opt.weights, opt.trust_weights)
    data = resolve_data(opt.data) if opt.data or opt.int8 else ""
    if data:
        load_data_yaml(data, splits=("val",))  # int8 calibration images must exist before the export starts
    if opt.imgsz is not None:
        round_imgsz(opt.imgsz)
    check_device(opt.device)
    written = []
    for fmt in include:
        name, takes = known[fmt]
        model = open_model(opt.weights)  # the task follows the checkpoint
        chosen = format_options(opt, data)
        skipped = sorted(set(chosen) - set(takes))
        if skipped:
            print(f"warning: {name} export does not take {', '.join(skipped)}; ignored for {fmt}", file=sys.stderr)
        args = dict(
            format=fmt,
            imgsz=model_imgsz(model, opt.imgsz),
            device=opt.device or None,
            **{k: v for k, v in chosen.items() if k in takes},
        )
        try:
            path = Path(model.export(**args))
        except (ModuleNotFoundError, ImportError) as e:
            raise UserError(
                f"--include {fmt}: {name} export needs the package '{getattr(e, 'name', None) or e}', which is not "
                f"installed; install it (pip install {getattr(e, 'name', None) or '...'}) and run again"
            ) from e
        except (ValueError, TypeError, RuntimeError, AssertionError, NotImplementedError) as e:
            raise UserError(f"--include {fmt}: {type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}") from e
        print(f"{name}: {path}")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(export, argv)


if __name__ == "__main__":
    sys.exit(main())
