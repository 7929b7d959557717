"""HorBlock: the HorNet block (gnConv spatial mixing + MLP channel mixing, each with layer scale and drop path)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.nn.modules import Conv

from .gnconv import gnConv
from .layer_norm import LayerNorm2d


class DropPath(nn.Module):
    """Stochastic depth per sample: in training each sample's residual branch is zeroed with probability ``p`` and
    kept ones are scaled by ``1 / (1 - p)``; identity in eval (the official HorNet's and timm's ``DropPath``).

    Args:
        p (float): Drop probability in [0, 1).

    Shape:
        x: (B, ...) -> (B, ...)
    """

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"drop path probability must lie in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class HorBlock(nn.Module):
    """x + gamma1 * gnConv(LN(x)); x + gamma2 * MLP(LN(x)).

    MLP: Linear(C, 4C) -> GELU -> Linear(4C, C) applied per pixel. Layer scale ``gamma1``/``gamma2`` start at
    ``layer_scale_init`` (1e-6); all LayerNorms use eps 1e-6. Keys and shapes equal the official HorNet ``Block``
    (``norm1``, ``gnconv.*``, ``norm2``, ``pwconv1``, ``pwconv2``, ``gamma1``, ``gamma2``) when c1 == c2; when c1 != c2
    a 1x1 ``Conv`` (BN + SiLU) named ``proj`` first maps c1 -> c2.

    YAML args: ``[c2, order=3, gf=False, h=14, w=8, s=1/3]`` (c1 inferred, c2 width-scaled like ``Conv``).

    Args:
        c1 (int): Input channels.
        c2 (int | None): Output channels C (defaults to c1).
        order (int): gnConv order, 1..5.
        gf (bool): Use the global-local filter in gnConv.
        h (int): Global filter height.
        w (int): Global filter width.
        s (float): gnConv scale.
        drop_path (float): Stochastic depth rate of both residual branches.
        layer_scale_init (float): Initial value of gamma1/gamma2; 0 disables layer scale.
        mlp_ratio (int): Hidden width of the MLP as a multiple of C.

    Shape:
        x: (B, c1, H, W) -> (B, c2, H, W)
    """

    def __init__(
        self,
        c1: int,
        c2: int | None = None,
        order: int = 3,
        gf: bool = False,
        h: int = 14,
        w: int = 8,
        s: float = 1.0 / 3.0,
        drop_path: float = 0.0,
        layer_scale_init: float = 1e-6,
        mlp_ratio: int = 4,
    ):
        super().__init__()
        c2 = c2 or c1
        self.proj = Conv(c1, c2, 1) if c1 != c2 else nn.Identity()
        self.norm1 = LayerNorm2d(c2, eps=1e-6)
        self.gnconv = gnConv(c2, c2, order=order, gf=gf, h=h, w=w, s=s)
        self.norm2 = nn.LayerNorm(c2, eps=1e-6)
        self.pwconv1 = nn.Linear(c2, mlp_ratio * c2)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(mlp_ratio * c2, c2)
        if layer_scale_init > 0:
            self.gamma1 = nn.Parameter(layer_scale_init * torch.ones(c2))
            self.gamma2 = nn.Parameter(layer_scale_init * torch.ones(c2))
        else:
            self.gamma1 = self.gamma2 = None
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.fused = False  # set by yolo_hornet.fuse: eval then runs the channels-last path

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        """Channel MLP with its LayerNorm and layer scale on (B, C, H, W), computed channels-last."""
        y = x.permute(0, 2, 3, 1)
        y = F.layer_norm(y, self.norm2.normalized_shape, self.norm2.weight, self.norm2.bias, self.norm2.eps)
        y = self.pwconv2(self.act(self.pwconv1(y)))
        if self.gamma2 is not None:
            y = y * self.gamma2
        return y.permute(0, 3, 1, 2)

    def forward_nhwc(self, x: torch.Tensor) -> torch.Tensor:
        """Inference path computed channels-last end to end (no permute copies between the layers).

        Shape: (B, C, H, W) -> (B, C, H, W) in channels_last memory format."""
        x = self.proj(x).permute(0, 2, 3, 1).contiguous()
        c = x.shape[-1]
        y = self.gnconv.forward_nhwc(F.layer_norm(x, (c,), self.norm1.weight, self.norm1.bias, self.norm1.eps))
        x = x + self.drop_path(y * self.gamma1 if self.gamma1 is not None else y)
        y = F.layer_norm(x, (c,), self.norm2.weight, self.norm2.bias, self.norm2.eps)
        y = self.pwconv2(self.act(self.pwconv1(y)))
        x = x + self.drop_path(y * self.gamma2 if self.gamma2 is not None else y)
        return x.permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Two pre-norm residual branches: spatial (gnConv) then channel (MLP)."""
        if getattr(self, "fused", False) and not self.training:
            return self.forward_nhwc(x)
        x = self.proj(x)
        y = self.gnconv(self.norm1(x))
        if self.gamma1 is not None:
            y = y * self.gamma1.view(-1, 1, 1)
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp(x))
