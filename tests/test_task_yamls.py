"""The YOLO12/YOLO26 detect YAMLs, the segment/pose/OBB/classify YAMLs of YOLOv8, YOLO11 and YOLO26, and YOLO26's
semantic segmentation and depth YAMLs.

Each file is checked against the stock ultralytics YAML it modifies: identical except backbone rows 6 and 8
(C2fHB), the same task inferred from the head, the same output shapes at every scale, parameters within 10%.
"""

from pathlib import Path

import pytest
import torch
import ultralytics
import yaml
from conftest import ALL_YAMLS, DENSE_YAMLS, PRESET_YAMLS, TASK_YAMLS, YAML_DIR
from ultralytics import YOLO

import yolo_hornet  # noqa: F401

STOCK_DIR = Path(ultralytics.__file__).parent / "cfg" / "models"
FAMILY_DIR = {"yolov8": "v8", "yolo11": "11", "yolo12": "12", "yolo26": "26"}
TASKS = {"": "detect", "-seg": "segment", "-pose": "pose", "-obb": "obb", "-cls": "classify", "-sem": "semantic",
         "-depth": "depth"}  # fmt: skip
DENSE = ["yolo26-sem-hornet.yaml", "yolo26-depth-hornet.yaml"]  # the two tasks of ultralytics 8.4.1xx
NEW = (
    ["yolo12-hornet.yaml", "yolo26-hornet.yaml"]
    + [f"{fam}{t}-hornet.yaml" for fam in ("yolov8", "yolo11", "yolo26") for t in ("-seg", "-pose", "-obb", "-cls")]
    + DENSE
)
REPEATS = {("yolov8-cls-hornet.yaml", 8): 4}  # documented in that file's header (parameters within 10%)


def split_name(name: str) -> tuple[str, str]:
    """yolo26-seg-hornet.yaml -> ('yolo26', '-seg')."""
    stem = name.removesuffix("-hornet.yaml")
    family, _, task = stem.partition("-")
    return family, f"-{task}" if task else ""


def scaled(name: str, scale: str) -> str:
    family, task = split_name(name)
    return f"{family}{scale}{task}"


def shapes(out) -> object:
    """Nested shapes of a model output (tensors, lists, dicts)."""
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (list, tuple)):
        return [shapes(o) for o in out]
    if isinstance(out, dict):
        return {k: shapes(v) for k, v in out.items()}
    return type(out).__name__


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_all_sixteen_present():
    assert set(NEW) <= set(ALL_YAMLS) and len(NEW) == 16
    assert set(TASK_YAMLS) == set(NEW) - {"yolo12-hornet.yaml", "yolo26-hornet.yaml", *DENSE}
    assert DENSE_YAMLS == sorted(DENSE)
    assert PRESET_YAMLS == [
        "yolo11-hornet-tiny.yaml",
        "yolo26-hornet-tiny.yaml",
        "yolo26-sem-hornet-tiny.yaml",
        "yolov8-hornet-tiny.yaml",
    ]


@pytest.mark.parametrize("name", NEW)
def test_only_rows_6_and_8_differ_from_stock(name):
    family, task = split_name(name)
    ours = yaml.safe_load((YAML_DIR / name).read_text())
    stock = yaml.safe_load((STOCK_DIR / FAMILY_DIR[family] / f"{family}{task}.yaml").read_text())
    assert {k: v for k, v in ours.items() if k != "backbone"} == {k: v for k, v in stock.items() if k != "backbone"}
    assert len(ours["backbone"]) == len(stock["backbone"])
    for i, (row, stock_row) in enumerate(zip(ours["backbone"], stock["backbone"])):
        if i in (6, 8):
            assert row[0] == stock_row[0] and row[2] == "C2fHB" and row[3][0] == stock_row[3][0], (i, row)
            assert row[1] == REPEATS.get((name, i), stock_row[1]), (i, row, stock_row)
        else:
            assert row == stock_row, (i, row, stock_row)


def build_like_stock(name: str, scale: str) -> int:
    """Build ``name`` at ``scale`` by name and its stock counterpart; check task, scale, parameters within 10% and
    (at n and s) the output shapes. Returns the parameter count."""
    family, task = split_name(name)
    model = YOLO(f"{scaled(name, scale)}-hornet.yaml")  # by name, from the test's empty folder
    stock = YOLO(f"{scaled(name, scale)}.yaml")
    assert model.task == stock.task == TASKS[task]
    assert model.model.yaml["scale"] == scale
    ours_n, stock_n = n_params(model.model), n_params(stock.model)
    assert 0.9 <= ours_n / stock_n <= 1.1, (scale, ours_n, stock_n)
    if scale in "ns":
        size = 64 if task == "-cls" else 160
        x = torch.rand(1, 3, size, size)
        with torch.no_grad():
            got, want = model.model.eval()(x), stock.model.eval()(x)
        assert shapes(got) == shapes(want)
    return ours_n


@pytest.mark.parametrize("name", NEW)
def test_scale_n_builds_by_name_like_stock(name):
    assert build_like_stock(name, "n") > 0  # (s, m, l, x and their growth: the slow test below)


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_every_scale_builds_like_stock_and_grows(name):
    counts = [build_like_stock(name, scale) for scale in "nsmlx"]
    assert counts == sorted(counts) and len(set(counts)) == 5, counts
