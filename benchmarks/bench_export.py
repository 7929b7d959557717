"""ONNX export of every shipped YAML (n scale, 640) plus a GF backbone: ONNX Runtime (CPU) vs PyTorch (fused).

python benchmarks/bench_export.py          # writes the 'export' section of benchmarks/RESULTS.md (~3 min, 2 cores)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, time_interleaved, write_section  # noqa: E402
from ultralytics import YOLO  # noqa: E402

import yolo_hornet  # noqa: E402,F401

YAML = Path(__file__).resolve().parents[1] / "models" / "yaml"
IMGSZ = 640


def configs(tmp: Path) -> list[Path]:
    """n-scale copies of our YAMLs, plus a HorNet-GF backbone variant."""
    out = []
    for p in sorted(YAML.glob("*.yaml")):
        stem, rest = p.name.split("-", 1)
        out.append(tmp / f"{stem}n-{rest}")
        out[-1].write_text(p.read_text())
    d = yaml.safe_load((YAML / "yolov8-hornet-backbone.yaml").read_text())
    d["backbone"][0][3] = [64, [2, 3, 18, 2], [2, 3, 4, 5], [2, 3], [[14, 8], [7, 4]]]
    out.append(tmp / "yolov8n-hornet-gf-backbone.yaml")
    out[-1].write_text(yaml.safe_dump(d))
    return out


def main() -> None:
    import onnxruntime as ort

    threads = min(torch.get_num_threads(), 16)
    rows = []
    x = np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs(Path(tmp)):
            torch.manual_seed(0)
            model = YOLO(str(cfg))
            f = model.export(format="onnx", imgsz=IMGSZ, verbose=False)
            torch.set_num_threads(threads)  # the exporter may lower torch's thread count; time both on all threads
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy threads during PyTorch
            sess = ort.InferenceSession(f, opts, providers=["CPUExecutionProvider"])
            name = sess.get_inputs()[0].name
            net = model.model.fuse(verbose=False).eval()
            xt = torch.from_numpy(x)
            with torch.no_grad():
                ref = net(xt)[0].numpy()
                got = sess.run(None, {name: x})[0]
                t_pt, t_ort = time_interleaved([lambda: net(xt), lambda: sess.run(None, {name: x})], 3, 4)
            box = np.abs(got[:, :4] - ref[:, :4]).max()
            cls = np.abs(got[:, 4:] - ref[:, 4:]).max()
            rows.append([cfg.name, f"{t_pt:.0f}", f"{t_ort:.0f}", f"{t_pt / t_ort:.2f}x", f"{box:.1e}", f"{cls:.1e}"])
            print(rows[-1], flush=True)
    md = [
        f"## Export (ONNX Runtime CPU vs PyTorch, 640x640, batch 1)\n\nMachine: {machine()}. The global filter is "
        "exported as a circular depthwise convolution (no FFT operator). Box diff in pixels, class diff absolute.\n",
        table(
            ["model", "PyTorch fused ms", "ONNX Runtime ms", "ORT speed-up", "max box diff (px)", "max class diff"],
            rows,
        ),  # fmt: skip
    ]
    write_section("export", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (export)")


if __name__ == "__main__":
    main()
