"""One-command GPU check (< 5 min): AMP training, validation, prediction, ONNX export, fp32/fp16 latency.

    python benchmarks/gpu_check.py     # on a CUDA machine; writes the 'gpu' section of benchmarks/RESULTS.md

Trains yolov8n-hornet for 3 epochs on the bundled DigitScenes with AMP, validates, predicts the demo video, exports
ONNX, and times yolov8n-hornet vs stock yolov8n at 640 in fp32 and fp16. Without CUDA it says so and exits 0.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, write_section  # noqa: E402


def cuda_ms(model, x, repeats=50) -> float:
    """Median-free simple timing with CUDA synchronisation."""
    with torch.no_grad():
        for _ in range(10):
            model(x)
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(repeats):
            model(x)
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / repeats * 1e3


def main() -> int:
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device on this machine; nothing to check (run it where a GPU is available)")
        return 0
    from ultralytics import YOLO

    import yolo_hornet  # noqa: F401
    from yolo_hornet.cli import detect, train
    from yolo_hornet.cli.resolve import resolve_cfg
    from yolo_hornet.paths import CHECKOUT_DATA

    steps = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.time()
        train(["--cfg", "yolov8n-hornet.yaml", "--epochs", "3", "--img", "320", "--device", "0", "--project", tmp])
        best = Path(tmp) / "exp" / "weights" / "best.pt"
        steps.append(["train 3 epochs (AMP)", f"{time.time() - t:.0f} s", best.is_file()])
        t = time.time()
        metrics = YOLO(str(best)).val(data=str(CHECKOUT_DATA), device=0, imgsz=320, verbose=False)
        steps.append(["val", f"{time.time() - t:.0f} s", f"mAP50 {metrics.box.map50:.3f}"])
        t = time.time()
        detect(["--weights", str(best), "--device", "0", "--project", tmp])
        steps.append(["predict demo video", f"{time.time() - t:.0f} s", True])
        t = time.time()
        onnx = YOLO(str(best)).export(format="onnx", imgsz=320)
        steps.append(["export ONNX", f"{time.time() - t:.0f} s", Path(onnx).is_file()])
    rows = []
    x = torch.zeros(1, 3, 640, 640, device="cuda")
    for name in ("yolov8n-hornet.yaml", "yolov8n.yaml", "yolov8s-hornet.yaml", "yolov8s.yaml"):
        net = YOLO(resolve_cfg(name)).model.fuse(verbose=False).eval().cuda()
        fp32 = cuda_ms(net, x)
        fp16 = cuda_ms(net.half(), x.half())
        rows.append([name, f"{fp32:.2f}", f"{fp16:.2f}"])
        print(rows[-1], flush=True)
    md = [
        f"## GPU check\n\nDevice: {machine()}.\n",
        table(["step", "time", "result"], steps),
        "\nLatency at 640, batch 1, fused (ms):\n",
        table(["model", "fp32 ms", "fp16 ms"], rows),
    ]
    write_section("gpu", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (gpu)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
