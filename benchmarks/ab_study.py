"""A/B study: stock YOLO vs YOLO + HorNet at equal budget on DigitScenes, several seeds, resumable.

    python benchmarks/ab_study.py --train 2000 --val 500 --epochs 30 --imgsz 320 --seeds 0 1 2  # the grid
    python benchmarks/ab_study.py --latency  # fused CPU latency of all variants side by side, then render
    python benchmarks/ab_study.py --render   # AB.md table + plots from the CSV
    python benchmarks/ab_study.py --smoke    # 1 epoch, 1 seed, 1 variant on the bundled split

Every finished run is appended to ``benchmarks/ab_results.csv`` (committed); runs already in the CSV are skipped, so
the grid can be continued across sessions. ``--render`` writes ``benchmarks/AB.md`` and the PNG plots from the CSV.
All variants share epochs, image size, batch, hyperparameters and augmentation (ultralytics defaults).
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import machine, table, time_interleaved  # noqa: E402

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


T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}  # t(0.975, df)
MIN_SEEDS = 3  # groups with fewer seeds are reported as pilot rows only


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open())) if path.exists() else []


def baseline_cfg(cfg: str) -> str:
    """The stock model a variant is compared with: ``yolov8n-horfpn.yaml`` -> ``yolov8n.yaml``."""
    return cfg.removesuffix(".yaml").split("-")[0] + ".yaml"


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """(mean, sample std, half-width of the two-sided 95% Student-t interval of the mean); 0 widths for one value."""
    n = len(values)
    sd = statistics.stdev(values) if n > 1 else 0.0
    return statistics.mean(values), sd, (T95.get(n - 1, 1.96) * sd / math.sqrt(n) if n > 1 else 0.0)


def setting(r: dict) -> tuple[str, str, str, str]:
    """What must be equal for two rows (CSV rows or ``summarize`` entries) to be compared: dataset, epochs, image
    size, device."""
    return r["dataset"], r["epochs"], r["imgsz"], r["device"]


def summarize(rows: list[dict]) -> list[dict]:
    """One entry per (setting, variant): seeds, mAP means/stds, costs (median latency and s/epoch over seeds)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((*setting(r), r["cfg"]), []).append(r)
    out = []
    for (dataset, epochs, imgsz, device, cfg), rs in groups.items():
        m, m_sd, _ = mean_ci([float(r["map50_95"]) for r in rs])
        m50, m50_sd, _ = mean_ci([float(r["map50"]) for r in rs])
        out.append(dict(variant=rs[0]["variant"], cfg=cfg, dataset=dataset, epochs=epochs, imgsz=imgsz, device=device,
                        seeds=len(rs), map=m, map_sd=m_sd, map50=m50, map50_sd=m50_sd, params_m=rs[0]["params_m"],
                        gflops_640=rs[0]["gflops_640"],
                        cpu_ms_640=statistics.median(float(r["cpu_ms_640"]) for r in rs),
                        s_per_epoch=statistics.median(float(r["s_per_epoch"]) for r in rs)))  # fmt: skip
    return out


def paired_deltas(rows: list[dict]) -> list[dict]:
    """Each HorNet variant minus its stock baseline, paired by seed in the same setting: mean difference of mAP50-95
    and mAP50 with 95% t-intervals, and a verdict from the mAP50-95 interval (needs >= 2 paired seeds)."""
    index = {(*setting(r), r["cfg"], r["seed"]): r for r in rows}
    pairs: dict[tuple, list[tuple[float, float]]] = {}
    for (*s, cfg, seed), r in index.items():
        base = index.get((*s, baseline_cfg(cfg), seed))
        if base is None or base is r:
            continue
        d = (float(r["map50_95"]) - float(base["map50_95"]), float(r["map50"]) - float(base["map50"]))
        pairs.setdefault((*s, r["variant"], base["variant"]), []).append(d)
    out = []
    for (dataset, epochs, imgsz, device, variant, base), ds in pairs.items():
        if len(ds) < 2:
            continue
        d, _, d_ci = mean_ci([x[0] for x in ds])
        d50, _, d50_ci = mean_ci([x[1] for x in ds])
        verdict = "better" if d - d_ci > 0 else "worse" if d + d_ci < 0 else "not separated"
        out.append(
            dict(
                variant=variant,
                baseline=base,
                dataset=dataset,
                epochs=epochs,
                imgsz=imgsz,
                device=device,
                seeds=len(ds),
                d_map=d,
                d_map_ci=d_ci,
                d_map50=d50,
                d_map50_ci=d50_ci,
                verdict=verdict,
            )
        )
    return out


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


def measure_latency(csv_path: Path) -> None:
    """Fused CPU latency at 640 (batch 1) of every variant, timed side by side in one process (interleaved rounds,
    so all variants see the same machine noise), written to ``csv_path``."""
    from ultralytics import YOLO

    import yolo_hornet  # noqa: F401
    from yolo_hornet.cli.resolve import resolve_cfg

    x = torch.zeros(1, 3, 640, 640)
    nets = [YOLO(resolve_cfg(cfg)).model.fuse(verbose=False).eval() for _, cfg in VARIANTS]
    with torch.no_grad():
        ms = time_interleaved([lambda n=n: n(x) for n in nets], repeats=3, rounds=5)
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cfg", "cpu_ms_640", "machine"])
        w.writerows([cfg, f"{t:.1f}", machine()] for (_, cfg), t in zip(VARIANTS, ms))


def fmt(mean: float, sd: float) -> str:
    return f"{mean:.4f} +- {sd:.4f}"


def fmt_ci(mean: float, half: float) -> str:
    return f"{mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}]"


def render(csv_path: Path, out_md: Path, latency_csv: Path | None = None, notes: Path | None = None) -> None:
    """Write AB.md: the main table (groups with >= MIN_SEEDS seeds), paired differences to the stock models, the
    hand-written ``notes`` (protocol choices, reading of the result) if given, pilot rows, and the two plots
    (accuracy vs latency, per-variant bars with std error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(csv_path)
    summary = summarize(rows)
    latency_rows = read_csv(latency_csv) if latency_csv else []
    side_by_side = {r["cfg"]: float(r["cpu_ms_640"]) for r in latency_rows}
    for g in summary:
        g["cpu_ms_640"] = side_by_side.get(g["cfg"], g["cpu_ms_640"])
    ms_of = {(*setting(g), g["cfg"]): g["cpu_ms_640"] for g in summary}
    main = [g for g in summary if g["seeds"] >= MIN_SEEDS]
    pilot = [g for g in summary if g["seeds"] < MIN_SEEDS]
    deltas = [d for d in paired_deltas(rows) if d["seeds"] >= MIN_SEEDS]

    def cost_rows(gs: list[dict]) -> list[list]:
        out = []
        for g in gs:
            base = ms_of.get((*setting(g), baseline_cfg(g["cfg"])))
            ratio = f"{g['cpu_ms_640'] / base:.2f}x" if base else "-"
            out.append([g["variant"], g["dataset"], f"{g['epochs']} ep @ {g['imgsz']}", g["seeds"],
                        fmt(g["map"], g["map_sd"]), fmt(g["map50"], g["map50_sd"]), g["params_m"], g["gflops_640"],
                        f"{g['cpu_ms_640']:.1f}", ratio, f"{g['s_per_epoch']:.1f}", g["device"]])  # fmt: skip
        return out

    headers = ["variant", "dataset", "schedule", "seeds", "mAP50-95 (mean +- std)", "mAP50 (mean +- std)", "params M",
               "GFLOPs@640", "CPU ms@640 (fused)", "latency vs stock", "s/epoch", "device"]  # fmt: skip
    hours = sum(float(r["s_per_epoch"]) * int(r["epochs"]) for r in rows) / 3600
    latency_note = (
        "CPU latency: fused, batch 1, 640x640, all variants timed side by side in one process "
        f"(`--latency`, {latency_rows[0]['machine']})."
        if side_by_side
        else "CPU latency: median over seeds of the fused latency measured right after each run."
    )
    md = [
        "# A/B study: YOLO vs YOLO + HorNet on DigitScenes\n",
        "Produced by `benchmarks/ab_study.py` from `benchmarks/ab_results.csv` "
        f"({len(rows)} runs, {hours:.1f} h of training in total). Every variant is trained from scratch with the same "
        "epochs, image size, batch 16, hyperparameters and augmentation (ultralytics defaults); seeds change the "
        f"initial weights and the data order. {latency_note}\n",
    ]
    if main:
        md += [f"## Result ({MIN_SEEDS}+ seeds)\n", table(headers, cost_rows(main)), ""]
    if deltas:
        md += [
            "## Difference to the stock model, paired by seed\n",
            "Variant minus its stock model (same seed), mean with the 95% Student-t interval over seeds. "
            "'not separated' means the mAP50-95 interval contains 0.\n",
            table(
                [
                    "variant",
                    "stock model",
                    "dataset",
                    "schedule",
                    "seeds",
                    "d mAP50-95 [95% CI]",
                    "d mAP50 [95% CI]",
                    "verdict",
                ],
                [
                    [
                        d["variant"],
                        d["baseline"],
                        d["dataset"],
                        f"{d['epochs']} ep @ {d['imgsz']}",
                        d["seeds"],
                        fmt_ci(d["d_map"], d["d_map_ci"]),
                        fmt_ci(d["d_map50"], d["d_map50_ci"]),
                        d["verdict"],
                    ]
                    for d in deltas
                ],
            ),  # fmt: skip
            "",
        ]
    md.append("![accuracy vs latency](ab_scatter.png)\n\n![per-variant mAP](ab_bars.png)\n")
    if notes is not None:
        md.append(notes.read_text().rstrip() + "\n")
    if pilot:
        md += [
            f"## Pilot rows (fewer than {MIN_SEEDS} seeds: not evidence either way)\n",
            table(headers, cost_rows(pilot)),
            "",
        ]
    if all(r["device"] in ("cpu", "") for r in rows):
        md.append("No GPU rows: every run above is on CPU. On a GPU machine, `--device 0` with a longer schedule "
                  "adds its rows as a separate group (the device is part of the setting).\n")  # fmt: skip
    out_md.write_text("\n".join(md))
    plotted = main or pilot
    if plotted:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for g in plotted:
            ax.errorbar(g["cpu_ms_640"], g["map"], yerr=g["map_sd"], fmt="o", capsize=3,
                        label=f"{g['variant']}, {g['epochs']} ep @ {g['imgsz']}")  # fmt: skip
        ax.set_xlabel("CPU latency at 640, fused (ms)")
        ax.set_ylabel("mAP50-95 (mean +- std over seeds)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_md.parent / "ab_scatter.png", dpi=110)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        colors = ["tab:gray" if baseline_cfg(g["cfg"]) == g["cfg"] else "tab:blue" for g in plotted]  # stock: gray
        ax.bar(range(len(plotted)), [g["map"] for g in plotted], yerr=[g["map_sd"] for g in plotted], capsize=4,
               color=colors)  # fmt: skip
        ax.set_xticks(range(len(plotted)), [f"{g['variant']}\n{g['epochs']} ep @ {g['imgsz']}" for g in plotted],
                      rotation=30, ha="right", fontsize=7)  # fmt: skip
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
    p.add_argument("--latency-csv", default=str(HERE / "ab_latency.csv"))
    p.add_argument("--notes", default=str(HERE / "ab_notes.md"), help="hand-written reading, inserted if it exists")
    p.add_argument("--render", action="store_true", help="only render AB.md and plots from the CSV")
    p.add_argument("--latency", action="store_true", help="time all variants side by side, then render")
    p.add_argument("--smoke", action="store_true", help="1 epoch, 1 seed, 1 variant on the bundled split")
    a = p.parse_args(argv)
    csv_path = Path(a.csv)
    if a.latency:
        measure_latency(Path(a.latency_csv))
    elif not a.render:
        from yolo_hornet.data.digitscenes import write_dataset
        from yolo_hornet.paths import CHECKOUT_DATA, REPO

        scratch = None
        if a.smoke:  # a copy of the bundled split, so that ultralytics' label caches land outside the checkout
            scratch = Path(tempfile.mkdtemp(prefix="ab-smoke-"))
            skip = shutil.ignore_patterns("*.cache")
            copy = shutil.copytree(CHECKOUT_DATA.parent, scratch / "digitscenes", ignore=skip)
            data, dataset, a.epochs, a.seeds = copy / "data.yaml", "bundled-300", 1, a.seeds[:1]
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
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    latency_csv = Path(a.latency_csv)
    notes = Path(a.notes)
    render(csv_path, Path(a.out), latency_csv if latency_csv.exists() else None, notes if notes.exists() else None)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
