"""Shared helpers of the benchmarks: interleaved timing, machine description, RESULTS.md sections."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """One line naming the CPU/GPU, thread count and versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ultralytics

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {torch.get_num_threads()} threads ({os.cpu_count()} cores), {gpu}; torch {torch.__version__}, "
        f"ultralytics {ultralytics.__version__}; {time.strftime('%Y-%m-%d')}"
    )


def time_interleaved(fns: list[Callable[[], object]], repeats: int = 10, rounds: int = 5) -> list[float]:
    """Milliseconds per call of each function: the functions run alternately, round by round, and each keeps its
    median-of-round minimum (robust to a noisy machine, and fair because all variants see the same noise)."""
    for f in fns:
        f()
        f()
    per_round: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            for _ in range(repeats):
                f()
            per_round[i].append((time.perf_counter() - t) / repeats * 1e3)
    return [min(statistics.median(r), min(r) * 1.5) for r in per_round]


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md with ``markdown``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nMade by the scripts in `benchmarks/`.\n"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def roofline_gflops(channels: int = 512, hw: int = 80, repeats: int = 5) -> float:
    """This machine's achieved GFLOP/s on a large 1x1 convolution (float32, batch 1)."""
    conv = torch.nn.Conv2d(channels, channels, 1, bias=False).eval()
    x = torch.randn(1, channels, hw, hw)
    with torch.no_grad():
        (ms,) = time_interleaved([lambda: conv(x)], repeats=repeats)
    return 2 * channels * channels * hw * hw / (ms / 1e3) / 1e9
