"""Semantic segmentation and depth on DigitScenes: stock YOLO26 vs YOLO26 + HorNet, same budget, side by side.

    python benchmarks/dense_tasks.py --train 400 --val 100 --epochs 25 --imgsz 320   # train all pairs, then render
    python benchmarks/dense_tasks.py --render                                          # RESULTS.md from the CSV
    python benchmarks/dense_tasks.py --latency                                         # fused CPU latency, interleaved

Every pair (stock, HorNet) trains from scratch with identical arguments (``--hyp``, else ultralytics defaults) through
our ``train.py``; each finished run is appended to ``benchmarks/dense_results.csv`` (committed) and skipped when
it is already there. Metrics: mIoU and pixel accuracy (semantic), delta1 and AbsRel (depth), on the val split.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import io
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import machine, table, time_interleaved, write_section  # noqa: E402

PAIRS = {  # task -> (stock cfg, HorNet cfg), scale n
    "semantic": ("yolo26n-sem.yaml", "yolo26n-sem-hornet.yaml"),
    "depth": ("yolo26n-depth.yaml", "yolo26n-depth-hornet.yaml"),
}
METRICS = {"semantic": ("metrics/mIoU", "metrics/pixel_acc"), "depth": ("metrics/delta1", "metrics/abs_rel")}
FIELDS = ["task", "cfg", "epochs", "imgsz", "train", "val", "seed", "metric1", "metric2", "s_per_epoch", "machine",
          "batch", "hyp", "digit_iou"]  # fmt: skip
COLUMNS = ["task", "model", "batch", "train", "settings", "metric", "metric", "digit IoU", "params (M)", "CPU ms @640",
           "s/epoch"]  # fmt: skip
CSV = HERE / "dense_results.csv"
LATENCY_CSV = HERE / "dense_latency.csv"


def read_csv(path: Path) -> list[dict]:
    """The rows of ``path``; a column added since a row was written reads as its default (batch 16, no hyp, -)."""
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    for r in rows:
        r["batch"], r["hyp"] = r.get("batch") or "16", r.get("hyp") or "defaults"
        r["digit_iou"] = r.get("digit_iou") or "-"
    return rows


def append_row(row: dict) -> None:
    """Add ``row`` to the results CSV, rewriting the file whole (atomically, under a lock: runs go in parallel)."""
    from yolo_hornet.atomic import atomic_write_bytes

    with CSV.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = io.StringIO(newline="")
        w = csv.DictWriter(text, FIELDS)
        w.writeheader()
        w.writerows({k: r.get(k, "") for k in FIELDS} for r in read_csv(CSV) + [row])
        atomic_write_bytes(CSV, text.getvalue().encode())


def parse_hyp(pairs: list[str]) -> dict:
    """``["lr0=0.002", "mosaic=0"]`` -> ``{"lr0": 0.002, "mosaic": 0}`` (values parsed as YAML scalars)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --hyp takes key=value pairs, got '{pair}'")
        out[key] = yaml.safe_load(value)
    return out


def hyp_label(hyp: dict) -> str:
    """The CSV/table spelling of a hyperparameter set: ``lr0=0.002 mosaic=0.0``, or ``defaults``."""
    return " ".join(f"{k}={v}" for k, v in sorted(hyp.items())) or "defaults"


def train_one(task: str, cfg: str, data: Path, a: argparse.Namespace) -> dict:
    """Train ``cfg`` from scratch on ``data``; return the CSV row with the final epoch's val metrics."""
    from yolo_hornet.cli import train

    hyp = parse_hyp(a.hyp)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        args = ["--cfg", cfg, "--data", str(data), "--epochs", str(a.epochs), "--img", str(a.imgsz),
                "--batch-size", str(a.batch), "--workers", str(a.workers), "--seed", str(a.seed),
                "--project", tmp, "--name", "dense", "--noplots"]  # fmt: skip
        if hyp:
            (Path(tmp) / "hyp.yaml").write_text(yaml.safe_dump(hyp))
            args += ["--hyp", str(Path(tmp) / "hyp.yaml")]
        train(args)
        elapsed = time.time() - start
        rows = read_csv(Path(tmp) / "dense" / "results.csv")
        digits = digit_iou(Path(tmp) / "dense" / "weights" / "last.pt", data, a, tmp) if task == "semantic" else "-"
    last = {k.strip(): v for k, v in rows[-1].items()}
    m1, m2 = METRICS[task]
    return dict(task=task, cfg=cfg, epochs=a.epochs, imgsz=a.imgsz, train=a.train, val=a.val, seed=a.seed,
                metric1=f"{float(last[m1]):.4f}", metric2=f"{float(last[m2]):.4f}",
                s_per_epoch=f"{elapsed / a.epochs:.1f}", machine=machine(), batch=a.batch,
                hyp=hyp_label(hyp), digit_iou=digits)  # fmt: skip


def digit_iou(weights: Path, data: Path, a: argparse.Namespace, tmp: str) -> str:
    """Mean IoU of the digit classes alone (background left out) of the last epoch's model on the val split.

    mIoU counts background as one of 11 classes, so a model that predicts background everywhere already scores
    about 0.94 / 11; this column shows what was learned about the digits themselves.
    """
    from ultralytics import YOLO

    model = YOLO(str(weights))
    metrics = model.val(data=str(data), imgsz=a.imgsz, batch=a.batch, workers=a.workers, plots=False, project=tmp,
                        name="digits", verbose=False)  # fmt: skip
    names = model.names
    ious = [float(v) for i, v in enumerate(metrics.per_class_iou) if names[i] != "background"]
    return f"{sum(ious) / len(ious):.4f}"


def measure_latency() -> None:
    """Fused CPU latency at 640, batch 1, of every model in PAIRS, interleaved in one process."""
    from ultralytics import YOLO

    import yolo_hornet  # noqa: F401

    cfgs = [c for pair in PAIRS.values() for c in pair]
    nets = [YOLO(c).model.fuse(verbose=False).eval() for c in cfgs]
    params = [sum(p.numel() for p in n.parameters()) / 1e6 for n in nets]
    x = torch.zeros(1, 3, 640, 640)
    with torch.no_grad():
        ms = time_interleaved([lambda n=n: n(x) for n in nets], repeats=2, rounds=5)
    with LATENCY_CSV.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cfg", "params_m", "cpu_ms_640", "machine"])
        w.writerows([c, f"{p:.3f}", f"{t:.1f}", machine()] for c, p, t in zip(cfgs, params, ms))


def trained_on(runs: list[dict]) -> str:
    """``machine; date1, date2``: the machines of ``runs`` with the dates their rows were measured."""
    seen: dict[str, list[str]] = {}
    for r in runs:
        where, _, day = r["machine"].rpartition("; ")
        days = seen.setdefault(where, [])
        if day not in days:
            days.append(day)
    return "; ".join(f"{where}; {', '.join(days)}" for where, days in seen.items()) or "?"


def render() -> None:
    """Write the RESULTS.md section from the two CSVs."""
    runs, lat = read_csv(CSV), {r["cfg"]: r for r in read_csv(LATENCY_CSV)}
    rows = []
    for r in runs:
        names = ("mIoU", "pixel acc") if r["task"] == "semantic" else ("delta1", "AbsRel")
        l_ = lat.get(r["cfg"], {})
        rows.append([r["task"], f"`{r['cfg']}`", r["batch"], r["train"], r["hyp"], f"{names[0]} {r['metric1']}",
                     f"{names[1]} {r['metric2']}", r["digit_iou"], l_.get("params_m", "-"), l_.get("cpu_ms_640", "-"),
                     r["s_per_epoch"]])  # fmt: skip
    setting = runs[0] if runs else {}
    md = (
        "## Semantic segmentation and depth (DigitScenes, stock YOLO26 vs HorNet, same budget)\n\n"
        f"`python benchmarks/dense_tasks.py` — from scratch, {setting.get('epochs', '?')} epochs at "
        f"{setting.get('imgsz', '?')} px, the train scenes and batch size of each row (val: a quarter of train), "
        "the settings of each row (same for both models), ultralytics defaults otherwise; metrics of the last epoch "
        "on the val split (unseen handwriting). Semantic mIoU averages 11 classes, background included: predicting "
        "background everywhere scores about 0.086 here (the rows near it learned no digits); *digit IoU* is the mean "
        "IoU of the 10 digit classes alone (background left out; - where not measured). Latency: "
        "fused, CPU, 640x640, batch 1, timed interleaved in one process.\n\n"
        + table(COLUMNS, rows)
        + f"\n\nTraining: {trained_on(runs)}. Latency: "
        f"{next(iter(lat.values()), {}).get('machine', 'not measured')}.\n"
    )
    write_section("dense", md)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=400, help="DigitScenes training images")
    p.add_argument("--val", type=int, default=100, help="DigitScenes validation images")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hyp", nargs="*", default=[], help="ultralytics settings for both models: lr0=0.002 mosaic=0 ...")
    p.add_argument("--tasks", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    p.add_argument("--cfgs", nargs="+", default=None, help="only these cfgs of the pairs")
    p.add_argument("--render", action="store_true", help="only write RESULTS.md from the CSVs")
    p.add_argument("--latency", action="store_true", help="only time the models, then render")
    a = p.parse_args(argv)
    if a.latency:
        measure_latency()
    if not (a.render or a.latency):
        from yolo_hornet.data.digitscenes import write_dataset

        key = ("task", "cfg", "epochs", "imgsz", "train", "batch", "hyp")
        done = {tuple(r[k] for k in key) for r in read_csv(CSV)}
        label = hyp_label(parse_hyp(a.hyp))
        with tempfile.TemporaryDirectory() as tmp:
            for task in a.tasks:
                data = write_dataset(Path(tmp) / task, train=a.train, val=a.val, imgsz=a.imgsz, task=task)
                for cfg in PAIRS[task]:
                    if a.cfgs and cfg not in a.cfgs:
                        continue
                    if (task, cfg, str(a.epochs), str(a.imgsz), str(a.train), str(a.batch), label) in done:
                        continue
                    row = train_one(task, cfg, data, a)
                    append_row(row)
                    print(row, flush=True)
    render()


if __name__ == "__main__":
    main()
