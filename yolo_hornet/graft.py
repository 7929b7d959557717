"""Graft HorNet into any model YAML: the stock files of the installed ultralytics, or a user's own.

    graft("yolov10n.yaml", out="v10.yaml")                             # HorBlocks in the P4 and P5 stage blocks
    graft("yolov9t.yaml", at=("p3", "p4", "p5"), order=2)
    graft("rtdetr-l.yaml", backbone="hornet_tiny_7x7", out="rtdetr-hornet-tiny.yaml")
    graft("yolo26n-sem.yaml", neck="horfpn")

The backbone is walked row by row, following each row's output stride (``Conv``/``DWConv``/``SCDown`` strides,
``AConv``/``ADown``/``MaxPool2d`` downsampling, ``HGStem``, ...), never by row numbers. At each requested pyramid
level (p3 = stride 8, p4 = 16, p5 = 32) the last stage block of the backbone at that stride is replaced:

* ``C2f``, ``C3k2``, ``C2fCIB``, ``A2C2f``, ``ELAN1``, ``RepNCSPELAN4``, ``HGBlock``, a stride-1 ``Conv``, ... by
  ``C2fHB`` (C2f whose blocks are HorBlocks), and ``C3``-like blocks (``C3``, ``C3x``, ``C3Ghost``, ``RepC3``,
  ``BottleneckCSP``) by ``C3HB``; same output channels and repeat count, so scales, heads, flags (``end2end``,
  ``reg_max``, ``kpt_shape``) and every row reading the level stay as they are.
* gnConv's order (auto: 2 at p2/p3, 3 at p4, 4 at p5 and deeper, the ready YAMLs' choice) must divide the
  block's channels at every scale the file declares; auto lowers it where needed, an explicit ``order`` that does
  not fit is an error naming the scale.

``neck="horfpn"``: every top-down fusion block of the head (the block after a ``Concat`` of an upsampled map)
becomes ``HorFPN`` (gnConv replaces the post-fusion conv). ``backbone="hornet_tiny_7x7"`` (any preset): the
backbone becomes the official HorNet layout (``HorNet`` preset row + ``Index`` rows for the levels the head reads;
rows after the last stage, such as ``SPPF``/``C2PSA``, are kept) and every row reading a backbone level is
rewired, so ``--weights hornet_tiny_7x7`` gives an ImageNet start under any head.

Files that cannot be grafted raise :class:`GraftError` with the reason (no stage block at a level, a backbone
that downsamples inside its stage blocks, a torchvision backbone).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

C2F_LIKE = {"C2f", "C3k2", "C2fCIB", "A2C2f", "ELAN1", "RepNCSPELAN4", "C2fAttn", "HGBlock", "Bottleneck", "Conv",
            "GhostBottleneck", "RepConv", "C2", "C2fPSA", "C3k"}  # fmt: skip
C3_LIKE = {"C3", "C3x", "C3Ghost", "C3TR", "RepC3", "BottleneckCSP"}
BLOCKS = ("C2fHB", "C3HB", "HorBlock", "gnConv")
INNER_COUNT = {"HGBlock"}  # its repeat count is the number of convs inside one block: one HorNet block replaces it
AUTO_ORDER = {2: 2, 3: 2, 4: 3, 5: 4, 6: 4}  # pyramid level -> gnConv order (as the ready YAMLs)
LEVEL_OF = {"p2": 2, "p3": 3, "p4": 4, "p5": 5, "p6": 6}
NOT_STAGES = {"SPPF", "SPP", "SPPELAN", "C2PSA", "PSA", "Concat", "nn.Upsample", "Index", "CBFuse", "CBLinear"}


class GraftError(ValueError):
    """A model YAML that cannot be grafted as asked, with the reason."""


@dataclass
class Grafted:
    """The result of :func:`graft`.

    Attributes:
        source (str): The model YAML grafted (path or ultralytics' stock file).
        model (dict): The new model dict (backbone/head rows and every other key of the source).
        replaced (list[str]): One line per replaced row: ``"row 6 (P4/16): C2f -> C2fHB order 3"``.
        text (str): The YAML file text, with a header saying what was replaced.
        scales (list[str]): The scales the file declares ('' when it has none).
    """

    source: str
    model: dict
    replaced: list[str] = field(default_factory=list)
    text: str = ""
    scales: list[str] = field(default_factory=list)

    def write(self, path: str | Path) -> None:
        """Write :attr:`text` to ``path`` (folders created, an existing file replaced atomically)."""
        from .atomic import atomic_write_bytes

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(path), self.text.encode())


def stock_file(name: str) -> Path | None:
    """The installed ultralytics' model YAML for a stock name (``yolov10s.yaml`` -> ``v10/yolov10s.yaml``,
    ``yolo11n-pose.yaml`` -> ``11/yolo11-pose.yaml``), or None."""
    import ultralytics

    root = Path(ultralytics.__file__).parent / "cfg" / "models"
    name = Path(name).name if Path(name).suffix in {".yaml", ".yml"} else f"{Path(name).name}.yaml"
    unscaled = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", name)
    for candidate in (name, unscaled):
        found = sorted(root.rglob(candidate))
        if found:
            return found[0]
    return None


def scale_of(name: str, scales: dict | None) -> str:
    """The scale letter a file name asks for (``yolov10s.yaml`` -> 's'), '' if none or the file has no scales."""
    m = re.search(r"\d+([nslmxtcebm])(?:[-.]|$)", Path(name).stem + ".")
    return m.group(1) if m and scales and m.group(1) in scales else ""


def load_source(model: str | Path) -> tuple[dict, str, str]:
    """(model dict as written, where it came from, the scale letter asked for) for a path or a stock name."""
    path = Path(model)
    if not path.is_file():
        found = stock_file(str(model))
        if found is None:
            raise GraftError(f"'{model}' is neither a YAML file nor a model YAML of the installed ultralytics")
        path = found
    try:
        d = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise GraftError(f"cannot read '{model}': {e}") from e
    if not isinstance(d, dict) or not isinstance(d.get("backbone"), list) or not isinstance(d.get("head"), list):
        raise GraftError(f"'{model}' is not a model YAML (no backbone: and head: lists)")
    return d, str(path), scale_of(str(model), d.get("scales"))


def module_name(row: list) -> str:
    return str(row[2])


def down_factor(row: list) -> float:
    """How much one row divides the resolution (2 for a stride-2 conv, 0.5 for a 2x upsample, 1 otherwise)."""
    m, args = module_name(row), list(row[3] or [])
    if m in {"Conv", "GhostConv", "DWConv", "SCDown", "RepConv", "CBLinear", "LightConv", "DWConvTranspose2d"}:
        return float(args[2]) if len(args) > 2 and isinstance(args[2], int) else 1.0
    if m in {"AConv", "ADown", "MP", "Focus", "SPDConv"}:
        return 2.0
    if m == "HGStem":
        return 4.0
    if m == "nn.MaxPool2d":
        return float(args[1] if len(args) > 1 else args[0])
    if m == "nn.Upsample":
        return 1.0 / float(args[1] if len(args) > 1 else 2)
    if m == "ResNetLayer":  # [c1, c2, s, is_first, n]: the first layer is the 7x7/2 stem + 3x3/2 max pool
        return 4.0 if len(args) > 3 and args[3] else float(args[2] if len(args) > 2 else 1)
    if m == "TorchVision":
        raise GraftError("its backbone is a torchvision model (TorchVision row), not YAML stage blocks")
    if m in {"HorNet", "HorNetBackbone", "HorNetPreset", "C2fHB", "C3HB", "HorBlock"}:
        raise GraftError("it already holds HorNet rows")
    return 1.0


def strides(rows: list[list]) -> list[float]:
    """Output stride of every row (inputs listed in ``from`` share a stride; ``CBFuse`` takes its last input's)."""
    out: list[float] = []
    for i, row in enumerate(rows):
        f = row[0]
        src = f[-1] if isinstance(f, list) else f
        before = 1.0 if src == -1 and i == 0 else out[src if src >= 0 else i + src]
        out.append(before * down_factor(row))
    return out


def out_channels(row: list) -> int:
    """The output channels a stage row declares (``HGBlock``: its second argument)."""
    args = row[3] or []
    return int(args[1] if module_name(row) == "HGBlock" else args[0])


def scaled_channels(c2: int, d: dict) -> dict[str, int]:
    """``c2`` at every scale of ``d``, as ultralytics scales Conv-like channels ('' when unscaled)."""
    scales = d.get("scales") or {"": [d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")]}
    return {k: math.ceil(min(c2, v[2]) * v[1] / 8) * 8 for k, v in scales.items()}


def pick_order(c2: int, level: int, d: dict, order: int | None, e: float = 0.5) -> int:
    """gnConv order for a block of ``c2`` output channels (hidden ``c2 * e``): ``order`` if it fits at every scale,
    else the auto order lowered until it fits; GraftError naming the scale for an explicit order that does not."""
    hidden = {k: int(c * e) for k, c in scaled_channels(c2, d).items()}
    fits = lambda n: all(h % 2 ** (n - 1) == 0 for h in hidden.values())  # noqa: E731
    if order is not None:
        bad = {k: h for k, h in hidden.items() if h % 2 ** (order - 1)}
        if bad:
            k, h = next(iter(bad.items()))
            raise GraftError(
                f"gnConv order {order} needs channels divisible by {2 ** (order - 1)}, but the P{level} block has "
                f"{h} hidden channels at scale {k or '(unscaled)'}; choose --order {max(1, order - 1)} or lower"
            )
        return order
    n = AUTO_ORDER.get(level, 4)
    while n > 1 and not fits(n):
        n -= 1
    return n


def new_row(row: list, block: str, level: int, d: dict, order: int | None, gf: bool) -> tuple[list, int]:
    """The HorNet row replacing a stage row (same ``from`` and repeats, same output channels) and its order."""
    m, c2 = module_name(row), out_channels(row)
    kind = block if block != "auto" else ("C3HB" if m in C3_LIKE else "C2fHB")
    e = 0.5 if kind in {"C2fHB", "C3HB"} else 1.0
    n = pick_order(c2, level, d, order, e)
    args: list = [c2, n] + ([0.5, True] if gf and kind in {"C2fHB", "C3HB"} else [True] if gf else [])
    repeats = row[1] if kind in {"C2fHB", "C3HB", "HorBlock"} and m not in INNER_COUNT else 1
    return [row[0], repeats, kind, args], n


def stage_rows(rows: list[list], levels: list[int]) -> dict[int, int]:
    """Level -> index of the last stage block of the backbone at that level's stride (a block of a known kind that
    keeps the resolution; a plain ``Conv`` counts when it is 3x3 or larger, as in YOLOv3-tiny and YOLOv6)."""
    s = strides(rows)

    def is_stage(row: list) -> bool:
        m, args = module_name(row), list(row[3] or [])
        if m not in C2F_LIKE | C3_LIKE or down_factor(row) != 1:
            return False
        return m != "Conv" or (len(args) > 1 and isinstance(args[1], int) and args[1] >= 3)

    found = {}
    for level in levels:
        at = [i for i, row in enumerate(rows) if s[i] == 2**level and is_stage(row)]
        if not at and any(module_name(r) == "ResNetLayer" for r in rows):
            raise GraftError(
                "its ResNet stages (ResNetLayer) downsample inside the stage block, so there is no block to swap; "
                "replace the whole backbone instead: --backbone hornet_tiny_7x7"
            )
        if not at:
            raise GraftError(f"the backbone has no stage block at P{level}/{2**level} (stride {2**level})")
        found[level] = at[-1]
    return found


def graft_rows(d: dict, at: tuple[str, ...] | None, rows: list[int] | None, block: str, order: int | None,
               gf: bool) -> list[str]:  # fmt: skip
    """Replace stage rows in ``d['backbone']`` (in place); return the lines saying what was replaced."""
    backbone = d["backbone"]
    s = strides(backbone + d["head"])
    if rows:
        bad = [r for r in rows if not 0 <= r < len(backbone)]
        if bad:
            raise GraftError(f"--rows {bad}: the backbone has rows 0..{len(backbone) - 1}")
        chosen = {int(round(s[r])).bit_length() - 1: r for r in rows}
    else:
        levels = []
        for a in ("p4", "p5") if at is None else at:
            if a.lower() not in LEVEL_OF:
                raise GraftError(f"--at {a}: use p2, p3, p4, p5 or p6")
            levels.append(LEVEL_OF[a.lower()])
        chosen = stage_rows(backbone, levels)
    lines = []
    for level, i in sorted(chosen.items(), key=lambda kv: kv[1]):
        old = module_name(backbone[i])
        backbone[i], n = new_row(backbone[i], block, level, d, order, gf)
        lines.append(f"row {i} (P{level}/{2**level}): {old} -> {backbone[i][2]} order {n}{' GF' if gf else ''}")
    return lines


def graft_neck(d: dict, gf: bool) -> list[str]:
    """HorFPN after every top-down fusion of the head (in place); return the lines saying what was replaced."""
    rows = d["backbone"] + d["head"]
    nb = len(d["backbone"])
    lines = []
    for j, row in enumerate(d["head"]):
        i = nb + j
        prev = rows[i - 1] if i else None
        if not prev or module_name(prev) != "Concat" or row[0] != -1 or module_name(row) in NOT_STAGES:
            continue
        sources = prev[0] if isinstance(prev[0], list) else [prev[0]]
        upsampled = any(module_name(rows[(i - 1) + f if f < 0 else f]) == "nn.Upsample" for f in sources)
        if not upsampled or down_factor(row) != 1:
            continue
        c2 = out_channels(row)
        d["head"][j] = [-1, 1, "HorFPN", [c2, 2, bool(gf)]]
        lines.append(f"row {i} (head, top-down fusion): {module_name(row)} -> HorFPN order 2")
    if not lines:
        raise GraftError("the head has no top-down fusion (a block after a Concat of an upsampled map) for HorFPN")
    return lines


def graft_backbone(d: dict, preset: str) -> list[str]:
    """Replace the backbone by the HorNet ``preset`` (in place) and rewire the rows that read its levels."""
    from .hornet import PRESETS, preset_key

    try:
        key = preset_key(preset)
    except ValueError as e:
        raise GraftError(str(e)) from e
    base = PRESETS[key].get("base_dim", 64)
    old = d["backbone"]
    s = strides(old)
    if any(v > 32 for v in s):
        raise GraftError("its backbone goes deeper than stride 32 (P5), where HorNet's last stage ends")
    at32 = [i for i, v in enumerate(s) if v == 32 and module_name(old[i]) not in NOT_STAGES]
    if not at32:
        raise GraftError("its backbone does not reach stride 32 (P5), where HorNet's last stage ends")
    last32 = at32[-1]  # HorNet replaces the rows up to the last P5 stage
    tail = old[last32 + 1 :]  # (SPPF, C2PSA, ...: kept)
    head = d["head"]
    reads = set()  # old backbone rows read by the tail or the head (besides -1 chains)
    for j, row in enumerate(tail + head):
        i = last32 + 1 + j
        for f in row[0] if isinstance(row[0], list) else [row[0]]:
            src = i + f if f < 0 else f
            if src <= last32:
                reads.add(src)
    levels = sorted({int(s[r]).bit_length() - 1 for r in reads} | {5})
    if min(levels) < 2:
        raise GraftError(f"its head reads a stride-{2 ** min(levels)} map; HorNet's maps start at stride 4")
    new = [[-1, 1, "HorNet", [key]]]
    index_row = {}
    for level in levels:
        index_row[level] = len(new)
        new.append([0, 1, "Index", [base * 2 ** (level - 2), level - 2]])
    offset = len(new) - (last32 + 1)
    rewired = []
    for j, row in enumerate(tail + head):
        i_old = last32 + 1 + j
        mapped = []
        for f in row[0] if isinstance(row[0], list) else [row[0]]:
            src = i_old + f if f < 0 else f
            if f == -1 and (src > last32 or j == 0):  # the previous row (the first one reads P5, now last)
                mapped.append(-1)
            elif src <= last32:
                mapped.append(index_row[int(s[src]).bit_length() - 1])
            else:
                mapped.append(src + offset)
        new_from = mapped if isinstance(row[0], list) else mapped[0]
        if new_from != row[0]:
            rewired.append(str(i_old + offset))
        row[0] = new_from
    d["backbone"] = new + tail
    lines = [f"backbone rows 0-{last32}: -> HorNet preset {key} (official layout, unscaled) + Index rows for P"
             + ", P".join(str(v) for v in levels)]  # fmt: skip
    if rewired:
        lines.append(f"rows whose inputs were renumbered: {', '.join(rewired)}")
    return lines


def flow(value) -> str:
    """One YAML flow value: lists in brackets, strings bare when they read back the same, else quoted."""
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str):
        return value if value and yaml.safe_load(value) == value and not re.search(r"[:#,\[\]{}]", value) else (
            json.dumps(value))  # fmt: skip
    return json.dumps(value) if value is not None else "null"


def render(d: dict, header: list[str]) -> str:
    """The YAML text of a model dict: the header as comments, keys as written, one flow row per line."""
    lines = [f"# {h}" for h in header]
    for k, v in d.items():
        if k in {"backbone", "head"}:
            continue
        if isinstance(v, dict):
            lines.append(f"{k}:")
            lines += [f"  {kk}: {flow(vv)}" for kk, vv in v.items()]
        else:
            lines.append(f"{k}: {flow(v)}")
    offset = 0
    for part in ("backbone", "head"):
        lines += ["", f"{part}:"]
        for i, row in enumerate(d[part]):
            lines.append(f"  - {flow(row)} # {offset + i}")
        offset += len(d[part])
    return "\n".join(lines) + "\n"


def graft(
    model: str | Path,
    at: tuple[str, ...] | list[str] | None = ("p4", "p5"),
    block: str = "auto",
    order: int | None = None,
    gf: bool = False,
    neck: str | None = None,
    backbone: str | None = None,
    out: str | Path | None = None,
    rows: list[int] | None = None,
    save: bool = True,
) -> Grafted:
    """Graft HorNet into ``model`` (a stock name such as ``yolov10s.yaml`` or a YAML path); see the module doc.

    Args:
        model: Stock model YAML name of the installed ultralytics, or a path to a model YAML.
        at: Pyramid levels whose stage blocks to replace (``p2``..``p6``); ignored with ``rows`` or ``backbone``.
        block: ``auto`` (C2fHB, or C3HB for C3-like blocks), ``C2fHB``, ``C3HB``, ``HorBlock`` or ``gnConv``.
        order: gnConv order (None: 2/3/4 at P3/P4/P5, lowered where the channels need it).
        gf: Use the global-local filter (GF) in the new blocks.
        neck: ``horfpn`` to put HorFPN after the head's top-down fusions.
        backbone: A HorNet preset (``hornet_tiny_7x7``, ``small_gf``, ...) to replace the whole backbone with.
        out: The grafted YAML's path: written there (folders are created; an existing file is replaced atomically);
            when ``model`` names a scale (``yolo11s.yaml``) and ``out`` does not, only that scale is kept.
        rows: Backbone row indices to replace instead of following ``at``.
        save: Write ``out`` (False: only name it, e.g. to write with :meth:`Grafted.write` after a check).

    Returns:
        (Grafted): The new model dict, what was replaced, and the file text.
    """
    if block not in ("auto", *BLOCKS):
        raise GraftError(f"--block {block}: use one of auto, {', '.join(BLOCKS)}")
    if order is not None and (isinstance(order, bool) or not 1 <= int(order) <= 5):
        raise GraftError(f"--order {order}: gnConv orders are 1 to 5")
    if neck not in (None, "", "horfpn"):
        raise GraftError(f"--neck {neck}: the only HorNet neck is horfpn")
    d, source, scale = load_source(model)
    for row in d["backbone"] + d["head"]:
        down_factor(row)  # GraftError for rows we cannot follow (ResNetLayer, TorchVision, HorNet rows)
    replaced = graft_backbone(d, backbone) if backbone else graft_rows(d, at, rows, block, order, gf) if (
        at is None or at or rows) else []  # fmt: skip
    if neck:
        replaced += graft_neck(d, gf)
    if not replaced:
        raise GraftError("nothing to graft: give levels (--at), rows, a neck or a backbone")
    import ultralytics

    try:
        shown = Path(source).relative_to(Path(ultralytics.__file__).parent)
        origin = f"ultralytics {ultralytics.__version__} {shown.as_posix()}"
    except ValueError:
        origin = f"{source}"
    header = [
        f"yolo_hornet graft of {origin}",
        *[f"  {line}" for line in replaced],
        "Needs 'import yolo_hornet' before building (our commands do it). C2fHB/C3HB args: [c2, order, e, gf]",
    ]
    scales = d.get("scales") or {}
    if scale and out and scale_of(str(out), scales) != scale:  # keep the scale asked for: the only one left
        d["scales"] = {scale: scales[scale]}
        header.insert(
            1, f"  scale {scale} as asked ({Path(str(model)).name}); the stock file also has {', '.join(scales)}"
        )
    result = Grafted(source, d, replaced, render(d, header), list(d.get("scales") or {}) or [""])
    if out and save:
        result.write(out)
    return result


def model_class(d: dict) -> type:
    """The ultralytics model class that builds the model dict ``d`` (by its head, as ultralytics' own models do)."""
    from ultralytics.nn import tasks

    head = module_name(d["head"][-1])
    by_head = {"RTDETRDecoder": "RTDETRDetectionModel", "WorldDetect": "WorldModel", "YOLOEDetect": "YOLOEModel",
               "YOLOESegment": "YOLOESegModel", "YOLOESegment26": "YOLOESegModel"}  # fmt: skip
    by_task = {"detect": "DetectionModel", "segment": "SegmentationModel", "classify": "ClassificationModel",
               "pose": "PoseModel", "obb": "OBBModel", "semantic": "SemanticSegmentationModel",
               "depth": "DepthModel"}  # fmt: skip
    name = by_head.get(head) or by_task.get(tasks.guess_model_task(d), "DetectionModel")
    return getattr(tasks, name)


def build(d: dict, scale: str = "") -> tuple[float, float]:
    """(parameters in millions, GFLOPs at 640, or 224 for classification) of the model dict ``d`` at ``scale``."""
    import copy

    from ultralytics.utils.torch_utils import get_flops

    cfg = copy.deepcopy(d)
    if scale:
        cfg["scale"] = scale
    cls = model_class(cfg)
    model = cls(cfg, verbose=False)
    imgsz = 224 if cls.__name__ == "ClassificationModel" else 640
    return sum(p.numel() for p in model.parameters()) / 1e6, get_flops(model, imgsz)


def compare(grafted: Grafted) -> list[tuple[str, float, float, float, float]]:
    """(scale, stock params M, grafted params M, stock GFLOPs, grafted GFLOPs) at every scale of the file."""
    stock, _, _ = load_source(grafted.source)
    rows = []
    for scale in grafted.scales:
        p0, g0 = build(stock, scale)
        p1, g1 = build(grafted.model, scale)
        rows.append((scale, p0, p1, g0, g1))
    return rows
