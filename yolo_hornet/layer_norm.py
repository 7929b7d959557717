"""Channel LayerNorm for NCHW feature maps (HorNet's ``LayerNorm(data_format='channels_first')``)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of an NCHW tensor.

    Parameters are stored exactly as in HorNet's official channels-first LayerNorm: ``weight`` and ``bias`` are 1-D
    tensors of shape (C,). The computation runs ``F.layer_norm`` on a channels-last view, which is numerically the
    same as the official mean/variance formula and faster on CPU and GPU.

    Args:
        num_channels (int): C, the number of channels normalised.
        eps (float): Added to the variance. HorNet uses 1e-6 everywhere.

    Shape:
        x: (B, C, H, W) -> (B, C, H, W)
    """

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__(num_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise every pixel's channel vector, then apply the per-channel affine."""
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
