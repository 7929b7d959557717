"""Inference folding: fused == unfused for every module and every shipped YAML; ultralytics' fuse() calls it."""

import pytest
import torch
from conftest import DETECT_YAMLS, YAML_DIR
from reference_hornet import randomize_
from ultralytics import YOLO

from yolo_hornet import C3HB, C2fHB, HorBlock, HorFPN, HorNet, gnConv
from yolo_hornet.fuse import fuse_hornet_modules

MODULES = {
    "gnconv-7x7": lambda: gnConv(32, order=3),
    "gnconv-gf": lambda: gnConv(32, order=4, gf=True, h=6, w=4),
    "horblock": lambda: HorBlock(32, order=3),
    "horblock-gf": lambda: HorBlock(32, order=5, gf=True, h=8, w=5),
    "horblock-proj": lambda: HorBlock(24, 32, order=2),
    "c3hb": lambda: C3HB(16, 32, n=2, order=3),
    "c2fhb": lambda: C2fHB(16, 32, n=2, order=3, gf=True),
    "horfpn-7x7": lambda: HorFPN(48, 32, order=2),
    "horfpn-gf": lambda: HorFPN(48, 32, order=3, gf=True),
    "hornet": lambda: HorNet(depths=(1, 1, 2, 1), base_dim=16, gf_stages=(2, 3)),
}


def _first(y):
    return y[-1] if isinstance(y, list) else y


@pytest.mark.parametrize("name", sorted(MODULES))
def test_fused_equals_unfused(name):
    torch.manual_seed(0)
    m = MODULES[name]()
    randomize_(m, seed=1)
    for bn in (x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    m.eval()
    c_in = next(p for p in m.parameters() if p.dim() == 4).shape[1]
    x = torch.randn(2, c_in, 40, 36)
    with torch.no_grad():
        ref = _first(m(x))
        assert fuse_hornet_modules(m) >= 1
        got = _first(m(x))
    assert ref.abs().max() > 1e-3  # the check is not trivially passing on zeros
    assert (got - ref).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())
    params = dict(m.named_parameters())
    assert not any(k.endswith(("gamma1", "gamma2")) for k in params)


@pytest.mark.parametrize("yaml_name", DETECT_YAMLS)
def test_every_yaml_fused_equals_unfused(yaml_name):
    torch.manual_seed(0)
    stem, rest = yaml_name.split("-", 1)
    model = YOLO(str(YAML_DIR / f"{stem}n-{rest}")).model
    for mod in model.modules():
        if isinstance(mod, (HorBlock, HorNet, HorFPN, gnConv)):
            randomize_(mod, seed=2)
    model.eval()
    x = torch.rand(1, 3, 160, 224)
    with torch.no_grad():
        ref = model(x)[0]
        model.fuse()  # ultralytics' own fuse() -> our layers are folded too
        assert not any(getattr(b, "gamma1", 0) is not None for b in model.modules() if isinstance(b, HorBlock))
        got = model(x)[0]
    assert (got - ref).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())
