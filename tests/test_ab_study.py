"""The A/B script's smoke mode: one epoch on the bundled split, a CSV row, and the rendered table and plots."""

import csv
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.mark.slow
def test_ab_smoke_run_and_render(tmp_path):
    import ab_study

    out_csv, out_md = tmp_path / "ab.csv", tmp_path / "AB.md"
    argv = ["--smoke", "--csv", str(out_csv), "--out", str(out_md), "--imgsz", "96", "--workers", "0",
            "--latency-csv", str(tmp_path / "lat.csv"), "--notes", str(tmp_path / "none.md")]  # fmt: skip
    ab_study.main(argv)
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 1 and rows[0]["cfg"] == "yolov8n-hornet.yaml" and rows[0]["epochs"] == "1"
    assert 0.0 <= float(rows[0]["map50_95"]) <= float(rows[0]["map50"]) <= 1.0
    assert abs(float(rows[0]["params_m"]) - 2.965) < 0.01
    text = out_md.read_text()
    assert "YOLOv8n-HorNet (C2fHB)" in text and "1 ep @ 96" in text and "## Pilot rows" in text
    assert (tmp_path / "ab_scatter.png").stat().st_size > 5000 and (tmp_path / "ab_bars.png").is_file()
    ab_study.main(argv)  # resumable: a second call skips the finished run
    assert len(list(csv.DictReader(out_csv.open()))) == 1


def _row(cfg: str, seed: int, m: float, m50: float, epochs: str = "25") -> dict:
    import ab_study

    label = {c: v for v, c in ab_study.VARIANTS}[cfg]
    return dict(
        variant=label,
        cfg=cfg,
        seed=str(seed),
        epochs=epochs,
        imgsz="160",
        dataset="ds",
        map50_95=str(m),
        map50=str(m50),
        params_m="3.0",
        gflops_640="8.0",
        cpu_ms_640="100.0",
        s_per_epoch="20.0",
        device="cpu",
    )


def test_baseline_and_paired_deltas_against_hand_formula():
    import ab_study

    assert ab_study.baseline_cfg("yolov8n-horfpn.yaml") == "yolov8n.yaml"
    assert ab_study.baseline_cfg("yolov5n-hornet.yaml") == "yolov5n.yaml"
    assert ab_study.baseline_cfg("yolov8n.yaml") == "yolov8n.yaml"
    base = [0.10, 0.12, 0.11]
    noisy = [0.13, 0.15, 0.12]  # diffs 0.03, 0.03, 0.01
    clear = [0.20, 0.23, 0.21]  # diffs 0.10, 0.11, 0.10
    rows = [_row("yolov8n.yaml", s, m, 2 * m) for s, m in enumerate(base)]
    rows += [_row("yolov8n-horfpn.yaml", s, m, 2 * m) for s, m in enumerate(noisy)]
    rows += [_row("yolov8n-hornet.yaml", s, m, 2 * m) for s, m in enumerate(clear)]
    rows += [_row("yolov5n-hornet.yaml", 0, 0.3, 0.5)]  # no stock YOLOv5n rows: no pair
    deltas = {d["variant"]: d for d in ab_study.paired_deltas(rows)}
    assert set(deltas) == {"YOLOv8n-HorFPN", "YOLOv8n-HorNet (C2fHB)"}
    d = [n - b for n, b in zip(noisy, base)]
    mean = sum(d) / 3
    sd = (sum((x - mean) ** 2 for x in d) / 2) ** 0.5
    half = 4.303 * sd / 3**0.5  # t(0.975, 2 dof)
    got = deltas["YOLOv8n-HorFPN"]
    assert abs(got["d_map"] - mean) < 1e-12 and abs(got["d_map_ci"] - half) < 1e-3
    assert abs(got["d_map50"] - 2 * mean) < 1e-12 and got["seeds"] == 3
    assert mean - half < 0 < mean + half and got["verdict"] == "not separated"
    assert deltas["YOLOv8n-HorNet (C2fHB)"]["verdict"] == "better"
    worse = [_row("yolov8n-horfpn.yaml", s, m - 0.05, m) for s, m in enumerate(base)]
    assert ab_study.paired_deltas(rows[:3] + worse)[0]["verdict"] == "worse"


def test_render_splits_full_and_pilot_rows(tmp_path):
    import ab_study

    rows = [_row("yolov8n.yaml", s, 0.10 + s / 100, 0.2) for s in range(3)]
    rows += [_row("yolov8n-horfpn.yaml", s, 0.12 + s / 100, 0.2) for s in range(3)]
    rows += [_row("yolov8n.yaml", 0, 0.05, 0.1, epochs="10")]
    path = tmp_path / "ab.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ab_study.FIELDS)
        w.writeheader()
        w.writerows(rows)
    lat = tmp_path / "lat.csv"
    lat.write_text("cfg,cpu_ms_640,machine\nyolov8n.yaml,100.0,m\nyolov8n-horfpn.yaml,90.0,m\n")
    notes = tmp_path / "notes.md"
    notes.write_text("## Reading\n\nhand-written text\n")
    ab_study.render(path, tmp_path / "AB.md", lat, notes)
    text = (tmp_path / "AB.md").read_text()
    full, pilot = text.split("## Pilot rows")
    assert "## Reading\n\nhand-written text" in full
    assert "7 runs" in text and "side by side" in text and "No GPU rows" in text
    assert "25 ep @ 160 | 3 | 0.1100 +- 0.0100" in full and "0.90x" in full and "10 ep @ 160" not in full
    assert "+0.0200 [+0.0200, +0.0200]" in full and "| better |" in full
    assert "10 ep @ 160 | 1 | 0.0500 +- 0.0000" in pilot
    assert (tmp_path / "ab_bars.png").stat().st_size > 5000
