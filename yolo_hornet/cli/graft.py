"""``yolo-hornet-graft``: HorNet in any model YAML, in one command (see :mod:`yolo_hornet.graft`).

yolo-hornet-graft yolov10n.yaml --out v10.yaml && python train.py --cfg v10.yaml --epochs 1
yolo-hornet-graft rtdetr-l.yaml --backbone hornet_tiny_7x7 --out rtdetr-hornet.yaml
yolo-hornet-graft my-model.yaml --at p3,p4,p5 --order 2 --gf
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import HelpFormatter
from .errors import UserError, run_cli


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="yolo-hornet-graft", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter
    )
    p.add_argument("model", help="a stock model YAML name (yolov10s.yaml, rtdetr-l.yaml, yolo26n-pose.yaml) or a path")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--at", default="p4,p5", help="pyramid levels whose backbone stage blocks to replace")
    where.add_argument("--rows", default="", help="backbone rows to replace instead, e.g. 6,8")
    p.add_argument(
        "--block", default="auto", help="auto (C2fHB; C3HB for C3-like blocks), C2fHB, C3HB, HorBlock, gnConv"
    )
    p.add_argument("--order", type=int, default=None, help="gnConv order (default: 2/3/4 at P3/P4/P5)")
    p.add_argument("--gf", action="store_true", help="global-local filter (GF) instead of the 7x7 depthwise conv")
    p.add_argument("--neck", default="", help="horfpn: HorFPN after the head's top-down fusions")
    p.add_argument("--backbone", default="", help="a HorNet preset for the whole backbone, e.g. hornet_tiny_7x7")
    p.add_argument("--out", default="", help="output YAML (default: <model>-hornet.yaml in this folder)")
    p.add_argument("--no-compare", action="store_true", help="skip building stock and grafted models per scale")
    return p.parse_args(argv)


def graft_command(argv: list[str] | None = None) -> None:
    """Graft, write the file, print what was replaced and params/GFLOPs per scale next to stock."""
    opt = parse_args(argv)
    import yolo_hornet  # noqa: F401  (registers our modules)
    from yolo_hornet.graft import GraftError, compare, graft

    name = Path(opt.model).name
    out = opt.out or f"{name.rsplit('.', 1)[0] if name.endswith(('.yaml', '.yml')) else name}-hornet.yaml"
    if Path(out).resolve() == Path(opt.model).resolve():
        raise UserError(f"--out {out} is the model file itself; choose another name (nothing was written)")
    try:
        rows = [int(r) for r in opt.rows.split(",") if r.strip()] if opt.rows else None
    except ValueError as e:
        raise UserError(f"--rows '{opt.rows}': give row numbers such as 6,8") from e
    try:
        g = graft(
            opt.model,
            at=tuple(a.strip() for a in opt.at.split(",") if a.strip()),
            block=opt.block,
            order=opt.order,
            gf=opt.gf,
            neck=opt.neck or None,
            backbone=opt.backbone or None,
            rows=rows,
            out=out,
            save=False,  # written below, once the grafted model has built
        )
        table = [] if opt.no_compare else compare(g)
    except GraftError as e:
        raise UserError(f"cannot graft {opt.model}: {e}") from e
    except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:  # the grafted model does not build
        raise UserError(f"cannot graft {opt.model}: the grafted model does not build ({type(e).__name__}: {e})") from e
    g.write(out)
    print(f"grafted {g.source}")
    for line in g.replaced:
        print(f"  {line}")
    if table:
        print(f"{'scale':>5}  {'params (M) stock -> HorNet':>27}  {'GFLOPs stock -> HorNet':>23}")
        for scale, p0, p1, f0, f1 in table:
            params = f"{p0:12.2f} -> {p1:7.2f} ({p1 / p0 - 1:+4.0%})"
            print(f"{scale or '-':>5}  {params}  {f0:9.1f} -> {f1:6.1f} ({f1 / f0 - 1:+4.0%})")
    print(f"wrote {out}; train it with: python train.py --cfg {out}")


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(graft_command, argv)


if __name__ == "__main__":
    sys.exit(main())
