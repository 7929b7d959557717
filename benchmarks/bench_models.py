"""Whole models at 640, batch 1, CPU, fused for inference: our YAMLs next to the stock model each modifies.

python benchmarks/bench_models.py          # writes the 'models' section of benchmarks/RESULTS.md (~4 min, 2 cores)
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


def load(name: str):
    """Build a fused eval model from our YAML folder or ultralytics' configs."""
    stock_v5u = name.startswith("yolov5") and name.endswith("u.yaml")  # ultralytics' yolov5.yaml is YOLOv5u
    model = YOLO(resolve_cfg(name[:-6] + ".yaml" if stock_v5u else name)).model
    params = sum(p.numel() for p in model.parameters())
    gflops = get_flops(model, 640)
    return model.fuse(verbose=False).eval(), params, gflops


def main() -> None:
    torch.set_num_threads(min(torch.get_num_threads(), 16))
    roof = roofline_gflops()
    x = torch.zeros(1, 3, 640, 640)
    rows = []
    for scale in "ns":
        for ours_name, stock_name in PAIRS:
            ours, p1, g1 = load(ours_name.format(s=scale))
            stock, p0, g0 = load(stock_name.format(s=scale))
            with torch.no_grad():
                t_stock, t_ours = time_interleaved([lambda: stock(x), lambda: ours(x)], repeats=3, rounds=5)
            ratio = t_ours / t_stock
            verdict = "ok" if ratio <= 1.25 and abs(p1 / p0 - 1) <= 0.15 else "**misses**"
            rows.append(
                [ours_name.format(s=scale), stock_name.format(s=scale), f"{p1 / 1e6:.2f}M ({p1 / p0 - 1:+.0%})",
                 f"{g1:.1f} / {g0:.1f}", f"{t_ours:.0f}", f"{t_stock:.0f}", f"{ratio:.2f}x",
                 f"{g1 / (t_ours / 1e3):.0f} ({g1 / (t_ours / 1e3) / roof:.0%})", verdict]
            )  # fmt: skip
            print(rows[-1], flush=True)
    md = [
        f"## Whole models (CPU, 640x640, batch 1, fused)\n\nMachine: {machine()}. Roofline (512->512 1x1 conv): "
        f"{roof:.1f} GFLOP/s. Target: latency <= 1.25x the stock model with parameters within +-15%.\n",
        table(
            [
                "ours",
                "stock",
                "params (vs stock)",
                "GFLOPs ours / stock",
                "ours ms",
                "stock ms",
                "latency ratio",
                "ours GFLOP/s (of roofline)",
                "target",
            ],
            rows,
        ),  # fmt: skip
    ]
    write_section("models", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (models)")


if __name__ == "__main__":
    main()
