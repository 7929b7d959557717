"""HorBlock's own DropPath (stochastic depth per sample), and checkpoints saved with torchvision's StochasticDepth."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import StochasticDepth

from yolo_hornet import HorBlock
from yolo_hornet.horblock import DropPath
from yolo_hornet.safe_load import safe_load


def test_equals_torchvision_row_mode_under_the_same_seed():
    x = torch.randn(64, 8, 5, 5)
    ours, ref = DropPath(0.3).train(), StochasticDepth(0.3, mode="row").train()
    torch.manual_seed(7)
    a = ours(x)
    torch.manual_seed(7)
    b = ref(x)
    assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)


def test_statistics_and_eval():
    torch.manual_seed(0)
    x = torch.ones(20000, 3)
    y = DropPath(0.25).train()(x)
    dropped = (y[:, 0] == 0).float().mean().item()
    assert abs(dropped - 0.25) < 0.02  # per sample, not per element
    assert torch.equal(y[:, 0], y[:, 1]) and torch.allclose(y[y > 0], torch.full_like(y[y > 0], 1 / 0.75))
    assert torch.equal(DropPath(0.25).eval()(x), x)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        DropPath(1.0)


def test_old_checkpoint_with_torchvision_drop_path_loads_restricted(tmp_path):
    block = HorBlock(16, drop_path=0.1)
    assert isinstance(block.drop_path, DropPath)
    block.drop_path = StochasticDepth(0.1, mode="row")  # as yolo_hornet saved it before DropPath
    torch.save({"model": block}, tmp_path / "old.pt")
    loaded = safe_load(tmp_path / "old.pt")["model"]
    assert isinstance(loaded.drop_path, StochasticDepth)
    x = torch.randn(1, 16, 8, 8)
    assert torch.equal(loaded.eval()(x), block.eval()(x))
