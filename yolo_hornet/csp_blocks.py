"""CSP blocks with HorBlocks as the inner blocks: C3HB (YOLOv5's C3) and C2fHB (YOLOv8's C2f)."""

from __future__ import annotations

import torch.nn as nn
from ultralytics.nn.modules.block import C3, C2f

from .gnconv import check_order
from .horblock import HorBlock


class C3HB(C3):
    """YOLOv5 C3 (two 1x1 branches, concat, 1x1) whose inner bottlenecks are n HorBlocks.

    YAML args: ``[c2, order=3, e=0.5, gf=False]``; the repeat count n is depth-scaled and passed inside, like ``C3``.

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels.
        n (int): Number of HorBlocks.
        order (int): gnConv order of the HorBlocks; c_ = int(c2 * e) must be divisible by 2**(order-1).
        e (float): Hidden channel ratio.
        gf (bool): Use the global-local filter in the HorBlocks.

    Shape:
        x: (B, c1, H, W) -> (B, c2, H, W)
    """

    def __init__(self, c1: int, c2: int, n: int = 1, order: int = 3, e: float = 0.5, gf: bool = False):
        c_ = int(c2 * e)
        check_order(c_, order, where=f"C3HB(c2={c2}, e={e})")
        super().__init__(c1, c2, n=0, e=e)
        self.m = nn.Sequential(*(HorBlock(c_, c_, order=order, gf=gf) for _ in range(n)))


class C2fHB(C2f):
    """YOLOv8 C2f (split, chain of blocks, concat of every output, 1x1) with HorBlocks as the chained blocks.

    YAML args: ``[c2, order=3, e=0.5, gf=False]``; the repeat count n is depth-scaled and passed inside, like ``C2f``.

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels.
        n (int): Number of HorBlocks.
        order (int): gnConv order; int(c2 * e) must be divisible by 2**(order-1).
        e (float): Hidden channel ratio.
        gf (bool): Use the global-local filter in the HorBlocks.

    Shape:
        x: (B, c1, H, W) -> (B, c2, H, W)
    """

    def __init__(self, c1: int, c2: int, n: int = 1, order: int = 3, e: float = 0.5, gf: bool = False):
        c_ = int(c2 * e)
        check_order(c_, order, where=f"C2fHB(c2={c2}, e={e})")
        super().__init__(c1, c2, n=n, e=e)
        self.m = nn.ModuleList(HorBlock(c_, c_, order=order, gf=gf) for _ in range(n))
