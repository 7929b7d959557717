"""DigitScenes for every task: deterministic, detection scenes unchanged, and labels that mean what they say
(ink polygons around the ink, rotated frames that are rectangles around the digit, ImageFolder crops)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import REPO

from yolo_hornet.data.digitscenes import DigitScenes, main, write_dataset, yolo_lines
from yolo_hornet.data.task_labels import TASKS


def files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("task", TASKS)
def test_same_seed_same_bytes(tmp_path, task):
    a = write_dataset(tmp_path / "a", train=3, val=2, imgsz=96, seed=5, task=task)
    write_dataset(tmp_path / "b", train=3, val=2, imgsz=96, seed=5, task=task)
    fa, fb = files(tmp_path / "a"), files(tmp_path / "b")
    assert fa and fa == fb
    assert a.name == ("a" if task == "classify" else "data.yaml")


def test_detection_scenes_are_the_bundled_split():
    """The bundled split was written before the other tasks existed: the generator still writes it exactly."""
    gen = DigitScenes(imgsz=320, seed=0)
    for i in (0, 7, 42):
        _, labels = gen.scene(i, "val")
        bundled = (REPO / "data" / "digitscenes" / "labels" / "val" / f"{i:05d}.txt").read_text()
        assert "\n".join(yolo_lines(labels, 320)) + "\n" == bundled


def test_outlines_and_frames():
    gen = DigitScenes(imgsz=160, seed=2)
    n = 0
    for i in range(6):
        for whole in (False, True):
            _, objects = gen.scene_objects(i, "train", whole=whole)
            for o in objects:
                n += 1
                x1, y1, x2, y2 = o.box
                ox1, oy1 = o.outline.min(0)
                ox2, oy2 = o.outline.max(0)
                assert len(o.outline) >= 3
                assert x1 - 0.5 <= ox1 and ox2 <= x2 + 0.5 and y1 - 0.5 <= oy1 and oy2 <= y2 + 0.5
                if whole:  # a whole digit's outline spans its box (a cut one may show two separate pieces)
                    assert (ox2 - ox1) >= 0.6 * (x2 - x1) and (oy2 - oy1) >= 0.6 * (y2 - y1)
                edges = np.roll(o.frame, -1, 0) - o.frame  # TL->TR, TR->BR, BR->BL, BL->TL
                for a, b in zip(edges, np.roll(edges, -1, 0)):  # right angles
                    assert abs(a @ b) <= 1e-6 * (np.linalg.norm(a) * np.linalg.norm(b))
                angle = math.degrees(math.atan2(edges[0][1], edges[0][0]))
                assert abs(angle) <= 12.0 + 1e-6  # rotation within the generator's +-12 degrees, upright
                assert edges[1][1] > 0  # TR -> BR goes down: the frame is the digit's, not flipped
                fx1, fy1 = o.frame.min(0)
                fx2, fy2 = o.frame.max(0)
                if whole:  # the frame holds the whole digit and lies in the image
                    assert fx1 >= 0 and fy1 >= 0 and fx2 <= 160 and fy2 <= 160
                    assert fx1 <= x1 + 1 and fy1 <= y1 + 1 and x2 <= fx2 + 1 and y2 <= fy2 + 1
    assert n > 30


def test_classify_folders(tmp_path):
    out = write_dataset(tmp_path / "cls", train=6, val=3, imgsz=96, seed=1, task="classify")
    assert sorted(p.name for p in (out / "train").iterdir()) == [str(d) for d in range(10)]
    crops = list(out.rglob("*.jpg"))
    assert len(crops) > 20 and not (out / "labels").exists()
    gen = DigitScenes(imgsz=96, seed=1)
    _, objects = gen.scene_objects(0, "train")
    for j, o in enumerate(o for o in objects if min(o.box[2] - o.box[0], o.box[3] - o.box[1]) >= 8):
        assert (out / "train" / str(o.cls) / f"00000_{j}.jpg").is_file()  # the crop sits in its digit's folder


def test_command_line_task(tmp_path, capsys):
    assert main(["--task", "pose", "--out", str(tmp_path / "p"), "--train", "2", "--val", "1", "--imgsz", "64"]) == 0
    d = yaml.safe_load((tmp_path / "p" / "data.yaml").read_text())
    assert d["kpt_shape"] == [4, 3] and d["flip_idx"] == [1, 0, 3, 2] and d["nc"] == 10
    with pytest.raises(SystemExit) as info:
        main(["--task", "panoptic", "--out", str(tmp_path / "q")])
    assert info.value.code == 2 and "invalid choice: 'panoptic'" in capsys.readouterr().err
    assert main(["--task", "depth", "--out", str(tmp_path / "d"), "--train", "1", "--val", "1", "--imgsz", "64"]) == 0
    d = yaml.safe_load((tmp_path / "d" / "data.yaml").read_text())
    assert d["depth_scale"] == 1000 and d["names"] == {0: "depth"}
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["data.yaml", "depth", "images"]


def polygon_mask(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels inside or on the polygon (its vertices are pixel centres of the outermost ink, as findContours gives)."""
    import cv2

    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [np.round(poly).astype(np.int32)], 1)
    return canvas.astype(bool)


def test_segment_polygons_follow_the_ink_not_the_box():
    """For 300 digits of the sheet: the outline holds (nearly) all ink (the largest connected stroke: a few digits
    with a far-off fragment keep less), and it is not the bounding rectangle: its area is well under the ink box for
    most digits (a polygon equal to the box would fail here)."""
    from yolo_hornet.data.digitscenes import ink_outline, load_digits

    cells = load_digits().reshape(-1, 20, 20)[::17][:300].astype(np.float64) / 255
    inside, ratio = [], []
    for alpha in cells:
        ink = alpha > 0.35
        if ink.sum() < 5:
            continue
        mask = polygon_mask(ink_outline(alpha), alpha.shape)
        inside.append((mask & ink).sum() / ink.sum())
        ys, xs = np.nonzero(ink)
        ratio.append(mask.sum() / ((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)))
    assert len(inside) > 250
    assert np.median(inside) >= 0.95 and np.percentile(inside, 10) >= 0.9, np.percentile(inside, [10, 50])
    assert np.median(ratio) < 0.85 and np.mean(np.array(ratio) < 0.95) > 0.8, np.median(ratio)
