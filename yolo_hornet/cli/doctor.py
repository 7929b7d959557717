"""``yolo-hornet doctor``: what this installation can do, for bug reports.

Prints the versions of yolo_hornet, ultralytics, torch and Python, whether ultralytics is inside the supported
range, and every row of the patch table (:data:`yolo_hornet.ultralytics_glue.PATCHES`) with ``ok`` or ``off`` and
why, so a changed ultralytics internal shows up as one named feature that is off.
"""

from __future__ import annotations

import platform


def doctor_lines() -> list[str]:
    """The report, one line per item (every row of both scopes checked and, where ok, applied)."""
    import torch
    import ultralytics

    import yolo_hornet
    from yolo_hornet import ultralytics_glue as glue

    glue.apply_patches("import")
    glue.apply_patches("commands")
    lo, hi = glue.SUPPORTED
    inside = glue.Version(lo) <= glue.Version(ultralytics.__version__) <= glue.Version(hi)
    lines = [
        f"yolo_hornet {yolo_hornet.__version__}  ultralytics {ultralytics.__version__}  torch {torch.__version__}  "
        f"python {platform.python_version()}",
        f"supported ultralytics: {lo} to {hi} ({'inside' if inside else 'OUTSIDE'} the tested range)",
        f"{'row':<24}{'scope':<10}{'access':<13}status",
    ]
    off = []
    for row in glue.PATCHES:
        status = glue.STATUS.get(row.name, "not checked")
        probe = row.probe() if row.probe and status == "ok" else None  # the slower behaviour checks run here too
        status = f"off: {probe}" if probe else status
        lines.append(f"{row.name:<24}{row.scope:<10}{row.access:<13}{status}")
        if status.startswith("off"):
            off.append(row.feature)
    lines.append("features off: " + ("; ".join(off) if off else "none"))
    return lines


def doctor() -> int:
    """Print :func:`doctor_lines`; exit code 0 (a feature that is off is information, not an error)."""
    print("\n".join(doctor_lines()))
    return 0
