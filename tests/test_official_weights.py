"""HorNet vs an independent re-implementation; official-layout checkpoints: load, round trip, clear errors."""

import pytest
import torch
from conftest import YAML_DIR
from reference_hornet import hornet as ref_hornet
from reference_hornet import mmpretrain_layout, randomize_

import yolo_hornet
from yolo_hornet import HorNet, hornet, load_official_weights, official_state_dict

SMALL = dict(depths=(2, 2, 3, 2), base_dim=32)


def small(gf: bool) -> HorNet:
    return HorNet(**SMALL, gf_stages=(2, 3) if gf else ())


@pytest.mark.parametrize("gf", [False, True], ids=["7x7", "gf"])
@pytest.mark.parametrize("size", [(224, 224), (256, 320)])
def test_matches_reference_implementation(gf, size):
    torch.manual_seed(0)
    model = small(gf).eval()
    randomize_(model, seed=3)
    sd = official_state_dict(model, num_classes=10)["model"]
    fresh = small(gf).eval()
    load_official_weights(fresh, {"model": sd})
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        ours = fresh(x)
        ref = ref_hornet(sd, x, SMALL["depths"], gf_stages=(2, 3) if gf else ())
    assert [o.shape[1] for o in ours] == [32, 64, 128, 256]
    assert [o.shape[-2:] for o in ours] == [(size[0] // s, size[1] // s) for s in (4, 8, 16, 32)]
    for a, b in zip(ours, ref):
        assert (a - b).abs().max().item() <= 1e-4


def test_round_trip_through_file(tmp_path):
    torch.manual_seed(0)
    a = small(True).eval()
    randomize_(a, seed=5)
    path = tmp_path / "hornet_small_gf.pth"
    torch.save(official_state_dict(a, num_classes=1000), path)
    b = small(True).eval()
    load_official_weights(b, str(path))
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        assert all(torch.equal(p, q) for p, q in zip(a(x), b(x)))


@pytest.mark.parametrize("wrapper", ["model", "state_dict", "bare", "ddp"])
def test_checkpoint_containers(wrapper):
    a = small(False)
    sd = official_state_dict(a)["model"]
    ckpt = {
        "model": {"model": sd},
        "state_dict": {"state_dict": sd},
        "bare": sd,
        "ddp": {"model": {"module." + k: v for k, v in sd.items()}},
    }[wrapper]
    b = small(False)
    load_official_weights(b, ckpt)
    assert torch.equal(b.stages[2][1].gnconv.proj_in.weight, a.stages[2][1].gnconv.proj_in.weight)


def test_wrong_variant_errors():
    sd_7x7 = official_state_dict(small(False))["model"]
    with pytest.raises(ValueError, match=r"missing key 'stages\.2\.0\.gnconv\.dwconv\.complex_weight'"):
        load_official_weights(small(True), sd_7x7)
    with pytest.raises(ValueError, match=r"unexpected key 'stages\.2\.2\."):
        load_official_weights(HorNet(depths=(2, 2, 2, 2), base_dim=32), sd_7x7)
    with pytest.raises(ValueError, match=r"shape mismatch for 'downsample_layers\.0\.0\.weight'"):
        load_official_weights(HorNet(depths=(2, 2, 3, 2), base_dim=64), sd_7x7)


def test_presets_parameter_counts():
    # backbone parameters of HorNet-T 7x7 / GF from the paper (22.4M / 22.9M with the 1000-class head 0.5M)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    head = 512 * 1000 + 1000 + 2 * 512
    assert abs((n(hornet("tiny_7x7")) + head) / 1e6 - 22.4) < 0.3
    assert abs((n(hornet("tiny_gf")) + head) / 1e6 - 22.9) < 0.3
    assert hornet("large_gf_384").stages[2][0].gnconv.dwconv.complex_weight.shape[1:3] == (24, 13)
    with pytest.raises(ValueError, match="unknown HorNet preset"):
        hornet("huge_7x7")


def test_load_into_yolo_row():
    from ultralytics import YOLO

    model = YOLO(str(YAML_DIR / "yolov8l-hornet-backbone.yaml"))
    backbone = yolo_hornet.official_weights.find_hornet(model.model)
    randomize_(backbone, seed=9)
    sd = official_state_dict(backbone, num_classes=1000)
    other = YOLO(str(YAML_DIR / "yolov8l-hornet-backbone.yaml"))
    load_official_weights(other, sd)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = hornet("tiny_7x7").eval()
        load_official_weights(ref, sd)
        assert torch.allclose(other.model.model[0].eval()(x)[3], ref(x)[3], atol=1e-5)


@pytest.mark.parametrize("gf", [False, True], ids=["7x7", "gf"])
def test_mmpretrain_layout_matches_reference(gf, tmp_path):
    torch.manual_seed(0)
    model = small(gf).eval()
    randomize_(model, seed=7)
    sd = official_state_dict(model)["model"]
    path = tmp_path / "hornet-tiny_3rdparty_in1k.pth"
    torch.save(mmpretrain_layout(sd), path)
    fresh = small(gf).eval()
    load_official_weights(fresh, str(path))
    x = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        ours = fresh(x)
        ref = ref_hornet(sd, x, SMALL["depths"], gf_stages=(2, 3) if gf else ())
    for a, b in zip(ours, ref):
        assert (a - b).abs().max().item() <= 1e-4


def test_mmpretrain_layout_wrong_variant_names_the_key():
    sd = official_state_dict(small(False))["model"]
    with pytest.raises(ValueError, match="missing key 'stages.2.0.gnconv.dwconv.complex_weight'"):
        load_official_weights(small(True), mmpretrain_layout(sd))
