"""HorBlock / gnConv: ours (folded for inference; our eager path for training) vs the official-structure reference.

python benchmarks/bench_layers.py          # writes the 'layers' section of benchmarks/RESULTS.md (~5 min, 2 cores)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from common import machine, roofline_gflops, table, time_interleaved, write_section  # noqa: E402
from reference_hornet import randomize_  # noqa: E402
from reference_layers import RefGnConv, RefHorBlock  # noqa: E402

from yolo_hornet import HorBlock, gnConv  # noqa: E402
from yolo_hornet.fuse import fuse_hornet_modules  # noqa: E402

INFER = [  # (module, channels, map, order, gf)
    ("HorBlock", 64, 80, 2, False),
    ("HorBlock", 128, 40, 3, False),
    ("HorBlock", 256, 20, 4, False),
    ("HorBlock", 512, 20, 5, False),
    ("HorBlock", 128, 40, 3, True),
    ("HorBlock", 256, 20, 4, True),
    ("HorBlock", 512, 10, 5, True),
    ("gnConv", 64, 80, 2, False),
    ("gnConv", 256, 20, 4, False),
    ("gnConv", 256, 20, 4, True),
    ("gnConv", 512, 10, 5, True),
]
TRAIN = [("HorBlock", 128, 40, 3, False), ("HorBlock", 256, 20, 4, False), ("HorBlock", 256, 20, 4, True)]


def pair(kind: str, c: int, order: int, gf: bool, hw: int):
    """(reference, ours) with identical random weights."""
    size = dict(h=hw, w=hw // 2 + 1) if gf else {}
    if kind == "HorBlock":
        ref, ours = RefHorBlock(c, order, gf, **size), HorBlock(c, c, order=order, gf=gf, **size)
    else:
        ref, ours = RefGnConv(c, order, gf, **size), gnConv(c, c, order=order, gf=gf, **size)
    randomize_(ref, seed=1)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def flops(module: torch.nn.Module, x: torch.Tensor) -> float:
    """GFLOPs (2 x MACs of convs and linears, as ultralytics counts) of one call."""
    from thop import profile

    macs, _ = profile(module, inputs=(x,), verbose=False)
    return 2 * macs / 1e9


def infer_rows() -> list[list]:
    rows = []
    for kind, c, hw, order, gf in INFER:
        for batch in (1, 8):
            ref, ours = pair(kind, c, order, gf, hw)
            ref.eval()
            ours.eval()
            fuse_hornet_modules(ours)
            x = torch.randn(batch, c, hw, hw)
            with torch.no_grad():
                diff = (ref(x) - ours(x)).abs().max().item()
                t_ref, t_ours = time_interleaved([lambda: ref(x), lambda: ours(x)], repeats=5 if batch == 8 else 10)
            params = sum(p.numel() for p in ref.parameters()) / 1e3
            rows.append(
                [f"{kind} {'GF' if gf else '7x7'}", c, f"{hw}x{hw}", order, batch, f"{t_ref:.2f}", f"{t_ours:.2f}",
                 f"**{t_ref / t_ours:.2f}x**", f"{diff:.1e}", f"{params:.0f}k", f"{flops(ref, x):.3f}"]
            )  # fmt: skip
            print(rows[-1], flush=True)
    return rows


PEAK = """
import sys, torch
sys.path[:0] = {paths!r}
from bench_layers import pair
def kib(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field))
ref, ours = pair({kind!r}, {c}, {order}, {gf}, {hw})
m = ref if {use_ref} else ours
x = torch.randn(8, {c}, {hw}, {hw})
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
base = kib("VmRSS")
for _ in range(2):
    m(x).square().mean().backward()
print((kib("VmHWM") - base) / 1024)
"""


def peak_mb(kind, c, hw, order, gf, use_ref: bool) -> float:
    """Peak resident memory growth (MiB) of two training steps, measured in a fresh process (Linux /proc)."""
    here = Path(__file__).resolve().parent
    code = PEAK.format(paths=[str(here), str(here.parent / "tests")], kind=kind, c=c, order=order, gf=gf, hw=hw,
                       use_ref=use_ref)  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    return float(out.stdout.strip().splitlines()[-1])


def train_rows() -> list[list]:
    rows = []
    for kind, c, hw, order, gf in TRAIN:
        ref, ours = pair(kind, c, order, gf, hw)
        ref.train()
        ours.train()
        x = torch.randn(8, c, hw, hw)

        def step(m):
            m.zero_grad(set_to_none=True)
            m(x).square().mean().backward()

        t_ref, t_ours = time_interleaved([lambda: step(ref), lambda: step(ours)], repeats=3, rounds=4)
        step(ref)
        step(ours)
        gdiff = max((a.grad - b.grad).abs().max().item() for a, b in zip(ref.parameters(), ours.parameters()))
        m_ref, m_ours = peak_mb(kind, c, hw, order, gf, True), peak_mb(kind, c, hw, order, gf, False)
        rows.append(
            [f"{kind} {'GF' if gf else '7x7'}", c, f"{hw}x{hw}", order, 8, f"{t_ref:.1f}", f"{t_ours:.1f}",
             f"**{t_ref / t_ours:.2f}x**", f"{gdiff:.1e}", f"{m_ref:.0f}", f"{m_ours:.0f}"]
        )  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(min(torch.get_num_threads(), 16))
    roof = roofline_gflops()
    md = [f"## Layers (CPU)\n\nMachine: {machine()}. Roofline: a 512->512 1x1 conv on 80x80 reaches "
          f"**{roof:.1f} GFLOP/s** here.\n",
          "Inference (eval, no grad; ours folded by `fuse_hornet_modules`), ms per call, reference = the official "
          "code's structure (`benchmarks/reference_layers.py`):\n",
          table(["module", "C", "map", "order", "batch", "reference ms", "ours ms", "speed-up", "max abs diff",
                 "params", "GFLOPs"], infer_rows()),
          "\nTraining step (forward + backward, batch 8), ms; max abs diff of all parameter gradients; peak RSS "
          "growth of two steps in a fresh process (MiB):\n",
          table(["module", "C", "map", "order", "batch", "reference ms", "ours ms", "speed-up", "grad diff",
                 "ref peak MiB", "ours peak MiB"], train_rows())]  # fmt: skip
    write_section("layers", "\n".join(md))
    print("wrote benchmarks/RESULTS.md (layers)")


if __name__ == "__main__":
    main()
