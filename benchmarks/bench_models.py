"""Whole models, batch 1, CPU, fused for inference: our YAMLs next to the stock model each modifies.

python benchmarks/bench_models.py          # the 'models' section of benchmarks/RESULTS.md (~4 min, 2 cores)
python benchmarks/bench_models.py tasks    # the 'task-models' section: YOLO12/YOLO26 and seg/pose/obb/cls (~8 min)
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, roofline_gflops, table, time_interleaved, write_section  # noqa: E402
from ultralytics import YOLO  # noqa: E402
from ultralytics.utils.torch_utils import get_flops  # noqa: E402

import yolo_hornet  # noqa: E402,F401
from yolo_hornet.cli.resolve import resolve_cfg  # noqa: E402

PAIRS = [  # (ours, stock)
    ("yolov8{s}-hornet.yaml", "yolov8{s}.yaml"),
    ("yolov8{s}-hornet-backbone.yaml", "yolov8{s}.yaml"),
    ("yolov8{s}-horfpn.yaml", "yolov8{s}.yaml"),
    ("yolov5{s}-hornet.yaml", "yolov5{s}u.yaml"),
    ("yolov5{s}-gnconv.yaml", "yolov5{s}u.yaml"),
    ("yolov5{s}-hornet-backbone.yaml", "yolov5{s}u.yaml"),
    ("yolo11{s}-hornet.yaml", "yolo11{s}.yaml"),
]
TASK_PAIRS = [("yolo12{s}-hornet.yaml", "yolo12{s}.yaml"), ("yolo26{s}-hornet.yaml", "yolo26{s}.yaml")] + [
    (f"{family}{{s}}-{task}-hornet.yaml", f"{family}{{s}}-{task}.yaml")
    for task in ("seg", "pose", "obb", "cls")
    for family in ("yolov8", "yolo11", "yolo26")
]


def load(name: str, imgsz: int = 640):
    """Build a fused eval model from our YAML folder or ultralytics' configs."""
    stock_v5u = name.startswith("yolov5") and name.endswith("u.yaml")  # ultralytics' yolov5.yaml is YOLOv5u
    model = YOLO(resolve_cfg(name[:-6] + ".yaml" if stock_v5u else name)).model
    params = sum(p.numel() for p in model.parameters())
    gflops = get_flops(model, imgsz)
    return model.fuse(verbose=False).eval(), params, gflops


def compare(pairs: list[tuple[str, str]], ratio_max: float, params_max: float, roof: float) -> list[list[str]]:
    """One table row per (ours, stock) pair at scales n and s, timed side by side (interleaved)."""
    rows = []
    for scale in "ns":
        for ours_name, stock_name in pairs:
            imgsz = 224 if "-cls" in ours_name else 640  # ultralytics' default sizes
            x = torch.zeros(1, 3, imgsz, imgsz)
            ours, p1, g1 = load(ours_name.format(s=scale), imgsz)
            stock, p0, g0 = load(stock_name.format(s=scale), imgsz)
            with torch.no_grad():
                t_stock, t_ours = time_interleaved([lambda: stock(x), lambda: ours(x)], repeats=3, rounds=5)
            ratio = t_ours / t_stock
            verdict = "ok" if ratio <= ratio_max and abs(p1 / p0 - 1) <= params_max else "**misses**"
            rows.append(
                [ours_name.format(s=scale), stock_name.format(s=scale), str(imgsz),
                 f"{p1 / 1e6:.2f}M ({p1 / p0 - 1:+.0%})", f"{g1:.1f} / {g0:.1f}",
                 f"{t_ours:.1f}", f"{t_stock:.1f}", f"{ratio:.2f}x",
                 f"{g1 / (t_ours / 1e3):.0f} ({g1 / (t_ours / 1e3) / roof:.0%})", verdict]
            )  # fmt: skip
            print(rows[-1], flush=True)
    return rows


HEADER = ["ours", "stock", "size", "params (vs stock)", "GFLOPs ours / stock", "ours ms", "stock ms", "latency ratio",
          "ours GFLOP/s (of roofline)", "target"]  # fmt: skip


def main(section: str = "models") -> None:
    torch.set_num_threads(min(torch.get_num_threads(), 16))
    roof = roofline_gflops()
    if section == "tasks":
        rows = compare(TASK_PAIRS, 1.10, 0.10, roof)
        md = [
            f"## Task models and YOLO12/YOLO26 (CPU, batch 1, fused)\n\nMachine: {machine()}. Roofline (512->512 1x1 "
            f"conv): {roof:.1f} GFLOP/s. Detect, segment, pose and OBB at 640x640, classify at 224x224 (ultralytics' "
            "defaults). Target (issue 'every family and task'): latency <= 1.10x the stock model of the same family "
            "and task, parameters within +-10%. GFLOPs are ultralytics' counter at that size.\n",
            table(HEADER, rows),
        ]
        write_section("task-models", "\n".join(md))
        print("wrote benchmarks/RESULTS.md (task-models)")
        return
    rows = compare(PAIRS, 1.25, 0.15, roof)
    md = [
        f"## Whole models (CPU, 640x640, batch 1, fused)\n\nMachine: {machine()}. Roofline (512->512 1x1 conv): "
        f"{roof:.1f} GFLOP/s. Target: latency <= 1.25x the stock model with parameters within +-15%.\n",
        table(HEADER, rows),
    ]
    write_section("models", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (models)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
