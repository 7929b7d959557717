"""Start-up cost of our commands next to ultralytics' own, measured side by side (interleaved, one process).

Each command runs as a fresh subprocess, alternately, so all see the same machine noise: ``import ultralytics``
(with its model classes) vs ``import yolo_hornet``, and ``yolo help`` vs ``yolo-hornet --help`` and
``yolo-hornet-train --help``. Writes the "Start-up" section of RESULTS.md.

    python benchmarks/bench_startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import machine, table, write_section

BIN = Path(sys.executable).parent
ULTRALYTICS = "import ultralytics.nn.tasks; from ultralytics import YOLO"
COMMANDS = {
    "import ultralytics (+ YOLO, nn.tasks)": [sys.executable, "-c", ULTRALYTICS],
    "import yolo_hornet": [sys.executable, "-c", "import yolo_hornet"],
    "yolo help": [str(BIN / "yolo"), "help"],
    "yolo-hornet --help": [str(BIN / "yolo-hornet"), "--help"],
    "yolo-hornet-train --help": [str(BIN / "yolo-hornet-train"), "--help"],
}  # fmt: skip
PAIRS = [("import yolo_hornet", "import ultralytics (+ YOLO, nn.tasks)"), ("yolo-hornet --help", "yolo help"),
         ("yolo-hornet-train --help", "yolo help")]  # fmt: skip


def seconds(cmd: list[str]) -> float:
    env = dict(os.environ, YOLO_OFFLINE="1")
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t


def main(rounds: int) -> str:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # warm the file cache
        seconds(cmd)
    for _ in range(rounds):
        for name, cmd in COMMANDS.items():
            times[name].append(seconds(cmd))
    med = {name: statistics.median(t) for name, t in times.items()}
    rows = [[name, f"{med[name]:.2f}"] for name in COMMANDS]
    ratios = [[f"{a} / {b}", f"{med[a] / med[b]:.2f}x"] for a, b in PAIRS]
    text = (
        "## Start-up (median of fresh processes, run interleaved)\n\n"
        f"Machine: {machine()}; {rounds} rounds. `bench_startup.py`.\n\n"
        + table(["command", "seconds"], rows)
        + "\n\n"
        + table(["ratio", "value"], ratios)
    )
    write_section("startup", text)
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    print(main(parser.parse_args().rounds))
