"""CPU deployment: PyTorch (fused) vs ONNX Runtime fp32 vs OpenVINO fp32 vs OpenVINO int8 (NNCF), side by side.

python benchmarks/bench_deploy.py                # every ready YAML (n scale) at 320 and 640, plus the accuracy table
python benchmarks/bench_deploy.py --sizes 320    # fewer rows

Latency: each format runs the same input in one process, interleaved round by round (common.time_interleaved),
torch/ORT/OpenVINO all on every core. Accuracy: the bundled yolov8n-hornet weights exported to each format and
validated by ultralytics on the bundled DigitScenes val split (int8 calibrated on that split, as export.py does).
Writes the 'deployment' section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, time_interleaved, write_section  # noqa: E402
from ultralytics import YOLO  # noqa: E402

import yolo_hornet  # noqa: E402,F401
from yolo_hornet.paths import BUNDLED_WEIGHTS, CHECKOUT_DATA  # noqa: E402
from yolo_hornet.ultralytics_glue import cli_offline_policy  # noqa: E402

YAML = Path(__file__).resolve().parents[1] / "models" / "yaml"


def openvino_runner(folder: str, threads: int):
    """A callable running the OpenVINO model in ``folder`` on CPU with ``threads`` threads."""
    import openvino as ov

    core = ov.Core()
    xml = next(Path(folder).glob("*.xml"))
    config = {"INFERENCE_NUM_THREADS": threads}
    if "int8" not in str(folder):
        config["INFERENCE_PRECISION_HINT"] = "f32"  # true fp32 (OpenVINO would run bf16 on CPUs that have it)
    compiled = core.compile_model(core.read_model(xml), "CPU", config)
    request = compiled.create_infer_request()
    return lambda x: request.infer([x])[compiled.outputs[0]]


def onnx_runner(file: str, threads: int):
    """A callable running the ONNX model ``file`` with ONNX Runtime on CPU."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy threads while others run
    sess = ort.InferenceSession(file, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})[0]


def export_all(weights: str, imgsz: int, data: str, threads: int) -> dict:
    """Export ``weights`` (a .pt or YAML) to ONNX, OpenVINO fp32 and OpenVINO int8; return the artifacts."""
    out = {
        "onnx": YOLO(weights).export(format="onnx", imgsz=imgsz, verbose=False),
        "openvino": YOLO(weights).export(format="openvino", imgsz=imgsz, verbose=False),
        "openvino-int8": YOLO(weights).export(format="openvino", imgsz=imgsz, quantize=8, data=data, verbose=False),
    }
    torch.set_num_threads(threads)  # the exporters may lower torch's thread count
    return out


def latency_rows(sizes: list[int], data: str, threads: int, work: Path) -> list[list]:
    """One row per ready YAML and size: ms per image of each format and the int8 ratio to fused PyTorch."""
    rows = []
    for cfg in sorted(YAML.glob("*.yaml")):
        stem, rest = cfg.name.split("-", 1)
        for imgsz in sizes:
            folder = work / f"{stem}n-{rest[:-5]}-{imgsz}"
            folder.mkdir()
            pt = folder / "model.pt"
            torch.manual_seed(0)
            YOLO(f"{stem}n-{rest}").save(pt)
            files = export_all(str(pt), imgsz, data, threads)
            net = YOLO(str(pt)).model.float().fuse(verbose=False).eval()
            x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
            xt = torch.from_numpy(x)
            runs = [lambda: net(xt), onnx_runner(files["onnx"], threads), openvino_runner(files["openvino"], threads),
                    openvino_runner(files["openvino-int8"], threads)]  # fmt: skip
            with torch.no_grad():
                ref = net(xt)[0].numpy()
                out = runs[2](x)
                box_diff, cls_diff = np.abs(out[:, :4] - ref[:, :4]).max(), np.abs(out[:, 4:] - ref[:, 4:]).max()
                ms = time_interleaved([runs[0]] + [lambda r=r: r(x) for r in runs[1:]], repeats=3, rounds=4)
            rows.append([f"{stem}n-{rest}", imgsz, *(f"{t:.1f}" for t in ms), f"{ms[3] / ms[0]:.2f}x",
                         f"{box_diff:.1e} / {cls_diff:.1e}"])  # fmt: skip
            print(rows[-1], flush=True)
    return rows


def accuracy_rows(data: str, threads: int, work: Path) -> list[list]:
    """mAP of the bundled weights in each format on the bundled val split (320 px, ultralytics' val)."""
    weights = Path(shutil.copy(BUNDLED_WEIGHTS, work / "yolov8n-hornet.pt"))
    files = export_all(str(weights), 320, data, threads)
    rows = []
    for name, model in [("PyTorch", str(weights)), *files.items()]:
        m = YOLO(model, task="detect").val(data=data, imgsz=320, batch=1, plots=False, verbose=False,
                                           project=str(work / "val"), name=name)  # fmt: skip
        rows.append([name, f"{m.box.map50:.3f}", f"{m.box.map:.3f}"])
        print(rows[-1], flush=True)
    return rows


OUR_OPS = {  # OpenVINO op type -> what it is in our layers (and in the stock ones)
    "Convolution": "1x1 / 3x3 convs (proj_in, proj_out, pws, CSP convs)",
    "GroupConvolution": "depthwise 7x7 / 3x3 (gnConv dwconv, GF local half, circular global filter)",
    "MatMul": "HorBlock MLP (pwconv1/pwconv2, channels-last linear)",
    "MVN": "LayerNorm (HorBlock norm1/norm2, gnConv GF pre/post norm)",
    "Gelu": "GELU (HorBlock MLP)",
    "Multiply": "gating products p_k * q_k, layer scale, scale s",
}


def int8_coverage(folder: str) -> list[list]:
    """Per op type of interest: how many ops of the int8 IR take a quantized (FakeQuantize) activation input."""
    import openvino as ov

    model = ov.Core().read_model(next(Path(folder).glob("*.xml")))
    counts: dict[str, list[int]] = {}
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind not in OUR_OPS:
            continue
        sources = [op.input_value(i).get_node().get_type_name() for i in range(op.get_input_size())]
        quantized = any(src == "FakeQuantize" for src in sources)
        total, q = counts.get(kind, [0, 0])
        counts[kind] = [total + 1, q + quantized]
    return [[kind, OUR_OPS[kind], total, q] for kind, (total, q) in sorted(counts.items())]


def coverage_section(data: str, threads: int, work: Path) -> None:
    """Write the 'deployment-int8' section: which layers of the bundled model run in int8."""
    weights = Path(shutil.copy(BUNDLED_WEIGHTS, work / "yolov8n-hornet.pt"))
    folder = YOLO(str(weights)).export(format="openvino", imgsz=320, quantize=8, data=data, verbose=False)
    rows = int8_coverage(folder)
    md = [
        "### What the int8 model quantizes (bundled yolov8n-hornet, NNCF defaults as ultralytics calls them)\n",
        "Ops of each type whose activation input comes from a FakeQuantize (int8) in the exported IR; the rest run "
        "in floating point. Made by `python benchmarks/bench_deploy.py --coverage`.\n",
        table(["op", "in our layers", "ops", "int8 input"], rows),
    ]
    write_section("deployment-int8", "\n".join(md))
    print(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[320, 640])
    p.add_argument("--coverage", action="store_true", help="only the table of which ops the int8 model quantizes")
    a = p.parse_args(argv)
    cli_offline_policy()  # as export.py runs: offline, and no OpenVINO analytics
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_dir = shutil.copytree(CHECKOUT_DATA.parent, work / "digitscenes", ignore=shutil.ignore_patterns("*.cache"))
        data = str(data_dir / "data.yaml")
        if a.coverage:
            coverage_section(data, threads, work)
            return
        acc = accuracy_rows(data, threads, work)
        rows = latency_rows(a.sizes, data, threads, work)
    md = [
        "## Deployment (CPU: PyTorch fused, ONNX Runtime, OpenVINO fp32, OpenVINO int8)\n",
        f"Machine: {machine()}. Made by `python benchmarks/bench_deploy.py`. Batch 1, ms per image, all formats "
        f"timed side by side in one process on all {threads} threads. int8: OpenVINO post-training quantization "
        "(NNCF) calibrated on the bundled DigitScenes val split, as `export.py --include openvino --int8` does. "
        "'fp32 diff': the largest box (px) / class-score difference of OpenVINO fp32 (precision hint f32) to PyTorch, "
        "for these randomly initialised models. OpenVINO's own default on CPUs with bf16 (this one) would run bf16.\n",
        table(
            [
                "model",
                "imgsz",
                "PyTorch fused",
                "ORT fp32",
                "OpenVINO fp32",
                "OpenVINO int8",
                "int8 / PyTorch",
                "fp32 diff box / cls",
            ],
            rows,
        ),  # fmt: skip
        "\nAccuracy of the bundled `yolov8n-hornet.pt` in each format (bundled val split, 320 px, ultralytics' val):\n",
        table(["format", "mAP50", "mAP50-95"], acc),
    ]
    write_section("deployment", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (deployment)")


if __name__ == "__main__":
    main()
