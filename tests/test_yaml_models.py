"""Every shipped YAML x every scale builds in stock ultralytics, runs, scales channels/depths like the built-ins."""

import pytest
import torch
from conftest import DETECT_YAMLS, YAML_DIR
from ultralytics import YOLO
from ultralytics.utils.ops import make_divisible

import yolo_hornet  # noqa: F401

YAMLS = DETECT_YAMLS
SCALES = "nsmlx"


def scaled_name(yaml_name: str, scale: str) -> str:
    """yolov8-hornet.yaml + s -> yolov8s-hornet.yaml (as ultralytics names its scaled files)."""
    stem, rest = yaml_name.split("-", 1)
    return f"{stem}{scale}-{rest}"


def n_params(model) -> int:
    return sum(p.numel() for p in model.model.parameters())


def test_all_nine_detect_yamls_present():
    assert YAMLS == [
        "yolo11-hornet.yaml",
        "yolo12-hornet.yaml",
        "yolo26-hornet.yaml",
        "yolov5-gnconv.yaml",
        "yolov5-hornet-backbone.yaml",
        "yolov5-hornet.yaml",
        "yolov8-horfpn.yaml",
        "yolov8-hornet-backbone.yaml",
        "yolov8-hornet.yaml",
    ]


@pytest.mark.parametrize("yaml_name", YAMLS)
def test_every_scale_builds_runs_and_grows(yaml_name):
    counts = []
    for scale in SCALES:
        model = YOLO(str(YAML_DIR / scaled_name(yaml_name, scale)))
        assert model.model.yaml["scale"] == scale
        counts.append(n_params(model))
        net = model.model.eval()
        with torch.no_grad():
            for size in (320, 640) if scale in "ns" else (320,):
                preds = net(torch.zeros(1, 3, size, size))
                out = preds[0] if isinstance(preds, (list, tuple)) else preds
                n_anchors = sum((size // s) ** 2 for s in (8, 16, 32))
                assert out.shape == (1, 4 + 80, n_anchors)
    assert counts == sorted(counts) and len(set(counts)) == 5, counts


@pytest.mark.slow
@pytest.mark.parametrize("yaml_name", YAMLS)
def test_large_scales_at_640(yaml_name):
    for scale in "mlx":
        net = YOLO(str(YAML_DIR / scaled_name(yaml_name, scale))).model.eval()
        with torch.no_grad():
            assert net(torch.zeros(1, 3, 640, 640))[0].shape == (1, 84, 8400)


@pytest.mark.parametrize("scale,depth,width", [("n", 0.33, 0.25), ("m", 0.67, 0.75), ("x", 1.0, 1.25)])
def test_c2fhb_channels_and_repeats_scaled_like_c2f(scale, depth, width):
    model = YOLO(str(YAML_DIR / scaled_name("yolov8-hornet.yaml", scale))).model
    max_ch = {"n": 1024, "m": 768, "x": 512}[scale]
    layer6, layer8 = model.model[6], model.model[8]
    assert type(layer6).__name__ == "C2fHB"
    assert layer6.cv2.conv.out_channels == make_divisible(min(512, max_ch) * width, 8)
    assert layer8.cv2.conv.out_channels == make_divisible(min(1024, max_ch) * width, 8)
    assert len(layer6.m) == max(round(3 * depth), 1)
    assert layer6.cv1.conv.in_channels == model.model[5].conv.out_channels  # c1 inferred
    assert type(layer6.m[0]).__name__ == "HorBlock"


def test_c3hb_and_gnconv_scaling():
    model = YOLO(str(YAML_DIR / "yolov5m-hornet.yaml")).model
    c3hb = model.model[6]
    assert type(c3hb).__name__ == "C3HB" and len(c3hb.m) == round(3 * 0.67)
    assert c3hb.cv3.conv.out_channels == make_divisible(512 * 0.75, 8)
    gn = YOLO(str(YAML_DIR / "yolov5s-gnconv.yaml")).model.model[8]
    assert type(gn).__name__ == "gnConv" and gn.proj_out.out_channels == 512 and gn.proj_in.in_channels == 512


@pytest.mark.parametrize("scale,base,depths", [("n", 16, [1, 1, 6, 1]), ("l", 64, [2, 3, 18, 2])])
def test_hornet_row_and_index_channels(scale, base, depths):
    model = YOLO(str(YAML_DIR / f"yolov8{scale}-hornet-backbone.yaml")).model
    backbone = model.model[0]
    assert type(backbone).__name__ == "HorNetBackbone"
    assert [len(s) for s in backbone.stages] == depths
    assert backbone.dims == [base, 2 * base, 4 * base, 8 * base]
    assert model.model[4].cv1.conv.in_channels == 8 * base  # SPPF after Index(3) gets the scaled width
    feats = backbone.eval()(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == backbone.dims


def test_horfpn_rows():
    model = YOLO(str(YAML_DIR / "yolov8s-horfpn.yaml")).model
    assert [type(model.model[i]).__name__ for i in (12, 15)] == ["HorFPN", "HorFPN"]
    assert model.model[15].cv1.conv.out_channels == 128


def test_scale_from_file_name_in_subfolder():
    assert YOLO(str(YAML_DIR / "yolov8s-hornet.yaml")).model.yaml["scale"] == "s"
    assert YOLO(str(YAML_DIR / "yolo11m-hornet.yaml")).model.yaml["scale"] == "m"
