"""HorNet in every model YAML of the installed ultralytics: graft each stock file (default: the P4 and P5 stage
blocks), build it at its first scale next to stock, and write the coverage table to RESULTS.md.

    python benchmarks/graft_coverage.py            # scale n (or the file's first scale)
    python benchmarks/graft_coverage.py --all-scales
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import machine, table, write_section  # noqa: E402


def stock_yamls() -> list[Path]:
    """Every model YAML ultralytics ships, sorted by family folder and name."""
    import ultralytics

    root = Path(ultralytics.__file__).parent / "cfg" / "models"
    return sorted(root.rglob("*.yaml"), key=lambda p: (p.parent.name, p.name))


def coverage(all_scales: bool = False) -> tuple[list[list], list[tuple[str, str]]]:
    """(table rows of the grafted files, [(file, reason)] of the others)."""
    from yolo_hornet.graft import GraftError, build, graft, load_source

    rows, failed = [], []
    for path in stock_yamls():
        family = path.parent.name
        try:
            g = graft(str(path))
        except GraftError as e:
            failed.append((f"{family}/{path.name}", str(e)))
            continue
        stock, _, _ = load_source(str(path))
        for scale in g.scales if all_scales else g.scales[:1]:
            p0, f0 = build(stock, scale)
            p1, f1 = build(g.model, scale)
            replaced = "; ".join(line.split(": ", 1)[1] if ": " in line else line for line in g.replaced)
            rows.append([family, f"`{path.name}`", scale or "-", replaced, f"{p0:.2f} -> {p1:.2f}",
                         f"{f0:.1f} -> {f1:.1f}"])  # fmt: skip
    return rows, failed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all-scales", action="store_true")
    a = p.parse_args(argv)
    import yolo_hornet  # noqa: F401

    rows, failed = coverage(a.all_scales)
    n = len({r[1] for r in rows}) + len(failed)
    share = len({r[1] for r in rows}) / n
    md = (
        "## HorNet in any YOLO: graft coverage of the installed ultralytics' model YAMLs\n\n"
        "`python benchmarks/graft_coverage.py` — `yolo_hornet.graft(<stock file>)` with the defaults (the P4 and "
        "P5 stage blocks of the backbone, found by following the strides), built next to stock at the file's "
        f"first scale; params in millions, GFLOPs at 640 (224 for classification). **{len({r[1] for r in rows})} of "
        f"{n} files ({share:.0%}) graft and build.**\n\n"
        + table(
            ["family", "file", "scale", "rows replaced", "params (M) stock -> HorNet", "GFLOPs stock -> HorNet"], rows
        )  # fmt: skip
        + "\n\nNot grafted (one reason each):\n\n"
        + "\n".join(f"- `{f}`: {why}" for f, why in failed)
        + f"\n\n{machine()}\n"
    )
    write_section("graft", md)
    print(md)


if __name__ == "__main__":
    main()
