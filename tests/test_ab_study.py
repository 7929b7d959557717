"""The A/B script's smoke mode: one epoch on the bundled split, a CSV row, and the rendered table and plots."""

import csv
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))


def test_ab_smoke_run_and_render(tmp_path):
    import ab_study

    out_csv, out_md = tmp_path / "ab.csv", tmp_path / "AB.md"
    ab_study.main(["--smoke", "--csv", str(out_csv), "--out", str(out_md), "--imgsz", "96", "--workers", "0"])
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 1 and rows[0]["cfg"] == "yolov8n-hornet.yaml" and rows[0]["epochs"] == "1"
    assert 0.0 <= float(rows[0]["map50_95"]) <= float(rows[0]["map50"]) <= 1.0
    assert abs(float(rows[0]["params_m"]) - 2.965) < 0.01
    text = out_md.read_text()
    assert "YOLOv8n-HorNet (C2fHB)" in text and "1 ep @ 96" in text
    assert (tmp_path / "ab_scatter.png").stat().st_size > 5000 and (tmp_path / "ab_bars.png").is_file()
    # resumable: a second call skips the finished run
    ab_study.main(["--smoke", "--csv", str(out_csv), "--out", str(out_md), "--imgsz", "96", "--workers", "0"])
    assert len(list(csv.DictReader(out_csv.open()))) == 1
