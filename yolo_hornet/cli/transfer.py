"""What a start from another model's checkpoint transferred, row by row of the YAML (``train.py --cfg X --weights
stock.pt``): ultralytics copies every tensor whose name and shape match; this says which rows that covered."""

from __future__ import annotations

import re

import torch


def _ranges(rows: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2, 5, 7-8'."""
    out, start = [], None
    for i, r in enumerate(rows):
        if start is None:
            start = r
        if i + 1 == len(rows) or rows[i + 1] != r + 1:
            out.append(f"{start}-{r}" if r > start else f"{r}")
            start = None
    return ", ".join(out)


def transfer_rows(model: torch.nn.Module, source: torch.nn.Module) -> dict[int, tuple[int, int]]:
    """``{row: (tensors matched by name and shape, tensors in the row)}`` for a YOLO ``model`` and the model of the
    checkpoint it was started from (ultralytics' own rule: same key, same shape)."""
    theirs = source.float().state_dict()
    rows: dict[int, list[int]] = {}
    for key, value in model.state_dict().items():
        match = re.match(r"model\.(\d+)\.", key)
        if not match:
            continue
        counts = rows.setdefault(int(match.group(1)), [0, 0])
        counts[1] += 1
        counts[0] += key in theirs and theirs[key].shape == value.shape
    return {row: (hit, total) for row, (hit, total) in sorted(rows.items())}


def transfer_report(model: torch.nn.Module, source: torch.nn.Module) -> str:
    """Lines naming the rows transferred whole, in part (with counts) and started fresh (with their modules)."""
    rows = transfer_rows(model, source)
    kind = {i: type(m).__name__ for i, m in enumerate(model.model)}
    whole = [r for r, (hit, total) in rows.items() if hit == total]
    fresh = [r for r, (hit, _) in rows.items() if hit == 0]
    part = [r for r in rows if r not in whole and r not in fresh]
    lines = [f"transferred rows: {_ranges(whole) or 'none'} (rows without weights, e.g. Concat, not listed)"]
    if part:
        lines.append("partly transferred: " + ", ".join(f"{r} ({kind[r]}: {rows[r][0]}/{rows[r][1]})" for r in part))
    lines.append("start fresh: " + (", ".join(f"{r} ({kind[r]})" for r in fresh) or "none"))
    return "\n".join(lines)
