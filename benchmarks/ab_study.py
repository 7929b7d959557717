"""A/B study: stock YOLO vs YOLO + HorNet at equal budget on DigitScenes, several seeds, resumable.

    python benchmarks/ab_study.py --train 2000 --val 500 --epochs 30 --imgsz 320 --seeds 0 1 2   # the grid
    python benchmarks/ab_study.py --render                                                        # table + plots
    python benchmarks/ab_study.py --smoke                                                         # 1 epoch, bundled

Every finished run is appended to ``benchmarks/ab_results.csv`` (committed); runs already in the CSV are skipped, so
the grid can be continued across sessions. ``--render`` writes ``benchmarks/AB.md`` and the PNG plots from the CSV.
All variants share epochs, image size, batch, hyperparameters and augmentation (ultralytics defaults).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import table, time_interleaved  # noqa: E402

VARIANTS = [  # (label, cfg) at scale n
    ("YOLOv8n", "yolov8n.yaml"),
    ("YOLOv8n-HorNet (C2fHB)", "yolov8n-hornet.yaml"),
    ("YOLOv8n-HorNet-backbone", "yolov8n-hornet-backbone.yaml"),
    ("YOLOv8n-HorFPN", "yolov8n-horfpn.yaml"),
    ("YOLOv5nu", "yolov5n.yaml"),
    ("YOLOv5n-HorNet (C3HB)", "yolov5n-hornet.yaml"),
]
FIELDS = ["variant", "cfg", "seed", "epochs", "imgsz", "dataset", "map50_95", "map50", "params_m", "gflops_640",
          "cpu_ms_640", "s_per_epoch", "device"]  # fmt: skip


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open())) if path.exists() else []


def model_costs(cfg: str) -> tuple[float, float, float]:
    """(params in M, GFLOPs at 640, fused CPU latency at 640 in ms) of a freshly built model."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    import yolo_hornet  # noqa: F401
    from yolo_hornet.cli.resolve import resolve_cfg

    model = YOLO(resolve_cfg(cfg)).model
    params = sum(p.numel() for p in model.parameters()) / 1e6
    gflops = get_flops(model, 640)
    net = model.fuse(verbose=False).eval()
    x = torch.zeros(1, 3, 640, 640)
    with torch.no_grad():
        (ms,) = time_interleaved([lambda: net(x)], repeats=3, rounds=3)
    return params, gflops, ms


def run_one(label: str, cfg: str, seed: int, a: argparse.Namespace, data: Path, dataset: str) -> dict:
    """Train one variant/seed from scratch and return its CSV row."""
    from yolo_hornet.cli import train

    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        metrics = train(
            [
                "--cfg",
                cfg,
                "--data",
                str(data),
                "--epochs",
                str(a.epochs),
                "--img",
                str(a.imgsz),
                "--seed",
                str(seed),
                "--batch-size",
                str(a.batch),
                "--workers",
                str(a.workers),
                "--project",
                tmp,
                "--name",
                "ab",
                "--device",
                a.device,
                "--noplots",
            ]  # fmt: skip
        )
        elapsed = time.time() - start
    params, gflops, ms = model_costs(cfg)
    return dict(variant=label, cfg=cfg, seed=seed, epochs=a.epochs, imgsz=a.imgsz, dataset=dataset,
                map50_95=f"{metrics.box.map:.4f}", map50=f"{metrics.box.map50:.4f}", params_m=f"{params:.3f}",
                gflops_640=f"{gflops:.2f}", cpu_ms_640=f"{ms:.1f}", s_per_epoch=f"{elapsed / a.epochs:.1f}",
                device=a.device or "cpu")  # fmt: skip


def render(csv_path: Path, out_md: Path) -> None:
    """Write the table (mean +- std over seeds per variant and setting) and the plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(csv_path)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["epochs"], r["imgsz"], r["device"], r["variant"]), []).append(r)
    lines, points = [], []
    for (dataset, epochs, imgsz, device, variant), rs in groups.items():
        m = [float(r["map50_95"]) for r in rs]
        m50 = [float(r["map50"]) for r in rs]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        acc = [f"{statistics.mean(m):.3f} +- {sd(m):.3f}", f"{statistics.mean(m50):.3f} +- {sd(m50):.3f}"]
        cost = [rs[0]["params_m"], rs[0]["gflops_640"], rs[0]["cpu_ms_640"], rs[0]["s_per_epoch"], device]
        lines.append([variant, dataset, f"{epochs} ep @ {imgsz}", len(rs), *acc, *cost])
        label = f"{variant}, {epochs} ep @ {imgsz}"
        points.append((label, dataset, float(rs[0]["cpu_ms_640"]), statistics.mean(m), sd(m)))
    md = [
        "# A/B study: YOLO vs YOLO + HorNet on DigitScenes\n",
        "Produced by `benchmarks/ab_study.py` from `benchmarks/ab_results.csv`; same epochs, image size, batch, "
        "hyperparameters and augmentation (ultralytics defaults) for every variant, trained from scratch. CPU latency "
        "is measured in the same process right after each run: compare it within this table, not with RESULTS.md.\n",
        table(
            [
                "variant",
                "dataset",
                "schedule",
                "seeds",
                "mAP50-95 (mean +- std)",
                "mAP50 (mean +- std)",
                "params M",
                "GFLOPs@640",
                "CPU ms@640 (fused)",
                "s/epoch",
                "device",
            ],
            lines,
        ),  # fmt: skip
        "\n![accuracy vs latency](ab_scatter.png)\n\n![per-variant mAP](ab_bars.png)\n",
    ]
    if any(len(rs) < 3 for rs in groups.values()):
        md.insert(
            2,
            "**Pilot only**: rows with fewer than 3 seeds carry no error bar; a difference smaller than the "
            "seed-to-seed spread of a full run is not evidence either way.\n",
        )
    out_md.write_text("\n".join(md))
    if points:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for v, _, ms, mean, sd in points:
            ax.errorbar(ms, mean, yerr=sd, fmt="o", capsize=3, label=v)
        ax.set_xlabel("CPU latency at 640, fused (ms)")
        ax.set_ylabel("mAP50-95")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_md.parent / "ab_scatter.png", dpi=110)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.bar(range(len(points)), [p[3] for p in points], yerr=[p[4] for p in points], capsize=4)
        ax.set_xticks(range(len(points)), [f"{p[0]}\n{p[1]}" for p in points], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("mAP50-95 (mean +- std over seeds)")
        fig.tight_layout()
        fig.savefig(out_md.parent / "ab_bars.png", dpi=110)
        plt.close("all")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=2000, help="DigitScenes training images")
    p.add_argument("--val", type=int, default=500, help="DigitScenes validation images")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", default=None, help="cfg names to run (default: all)")
    p.add_argument("--device", default="")
    p.add_argument("--csv", default=str(HERE / "ab_results.csv"))
    p.add_argument("--out", default=str(HERE / "AB.md"))
    p.add_argument("--render", action="store_true", help="only render AB.md and plots from the CSV")
    p.add_argument("--smoke", action="store_true", help="1 epoch, 1 seed, 1 variant on the bundled split")
    a = p.parse_args(argv)
    csv_path = Path(a.csv)
    if not a.render:
        from yolo_hornet.cli.resolve import BUNDLED_DATA, REPO
        from yolo_hornet.data.digitscenes import write_dataset

        if a.smoke:
            data, dataset, a.epochs, a.seeds = BUNDLED_DATA, "bundled-300", 1, a.seeds[:1]
            variants = [v for v in VARIANTS if v[1] in (a.variants or ["yolov8n-hornet.yaml"])]
        else:
            dataset = f"digitscenes-{a.train}-{a.val}"
            data = REPO / "datasets" / dataset / "data.yaml"
            if not data.exists():
                write_dataset(data.parent, a.train, a.val, imgsz=a.imgsz, seed=0)
            variants = [v for v in VARIANTS if a.variants is None or v[1] in a.variants]
        done = {(r["cfg"], r["seed"], r["epochs"], r["imgsz"], r["dataset"]) for r in read_csv(csv_path)}
        for seed in a.seeds:
            for label, cfg in variants:
                if (cfg, str(seed), str(a.epochs), str(a.imgsz), dataset) in done:
                    print(f"skip {label} seed {seed} (in {csv_path.name})")
                    continue
                row = run_one(label, cfg, seed, a, data, dataset)
                new = not csv_path.exists()
                with csv_path.open("a", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=FIELDS)
                    if new:
                        w.writeheader()
                    w.writerow(row)
                print(row, flush=True)
    render(csv_path, Path(a.out))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
