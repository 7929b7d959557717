"""HorFPN: the paper's neck block, a gnConv in place of the 3x3 conv that follows feature fusion."""

from __future__ import annotations

import torch
import torch.nn as nn
from ultralytics.nn.modules import Conv

from .gnconv import gnConv


class HorFPN(nn.Module):
    """Neck block for the head section of a YOLO YAML, placed right after a ``Concat`` (the fusion).

    1x1 ``Conv`` (BN + SiLU) maps the fused c1 channels to c2 (the lateral/fusion projection), then a gnConv followed
    by BatchNorm and SiLU replaces the 3x3 conv of a classic FPN output layer, with a residual connection. The two
    flavours of the paper are chosen by ``gf``: HorFPN 7x7 (``gf=False``) and HorFPN GF (``gf=True``).

    YAML args: ``[c2, order=2, gf=False, h=20, w=11]`` (c1 inferred, c2 width-scaled like ``Conv``).

    Args:
        c1 (int): Input channels (the concatenated fusion).
        c2 (int): Output channels; divisible by 2**(order-1).
        order (int): gnConv order.
        gf (bool): HorFPN GF (global-local filter) instead of HorFPN 7x7.
        h (int): Global filter height (resized to the map automatically).
        w (int): Global filter width.

    Shape:
        x: (B, c1, H, W) -> (B, c2, H, W)
    """

    def __init__(self, c1: int, c2: int, order: int = 2, gf: bool = False, h: int = 20, w: int = 11):
        super().__init__()
        self.cv1 = Conv(c1, c2, 1)
        self.gnconv = gnConv(c2, c2, order=order, gf=gf, h=h, w=w)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fuse channels with a 1x1 conv, then refine with a residual gnConv + BN + SiLU."""
        x = self.cv1(x)
        return x + self.act(self.bn(self.gnconv(x)))
