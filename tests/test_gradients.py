"""Gradients reach every parameter and a few optimizer steps lower a loss (7x7 and GF)."""

import pytest
import torch

from yolo_hornet import C2fHB, HorFPN, HorNet


@pytest.mark.parametrize(
    "make",
    [
        lambda: HorNet(depths=(1, 1, 2, 1), base_dim=16, gf_stages=(2, 3), layer_scale_init=0.1),
        lambda: torch.nn.Sequential(C2fHB(3, 32, n=2, order=3), HorFPN(32, 16, gf=True)),
    ],
    ids=["hornet-gf", "c2fhb-horfpn"],
)
def test_optimizer_steps_lower_loss(make):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(4, 3, 64, 64)

    def loss_fn():
        out = model(x)
        out = out[-1] if isinstance(out, list) else out
        return (out - 0.5).pow(2).mean()

    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = loss_fn()
    first.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing
    opt.step()
    for _ in range(9):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    assert loss_fn().item() < 0.7 * first.item()
