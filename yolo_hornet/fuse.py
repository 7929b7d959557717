"""Inference folding for the HorNet layers (exact algebra, done in place, for eval only).

What is folded, per module:

- HorBlock: the ``norm1`` affine into ``gnconv.proj_in``; ``gamma1`` into ``gnconv.proj_out``; the ``norm2`` affine
  into ``pwconv1``; ``gamma2`` into ``pwconv2``. The two LayerNorms become affine-free, and the block then runs its
  channels-last path (1x1 convs as matmuls on (B, H, W, C), no permute copies between layers).
- gnConv: the scale ``s`` into the 7x7 depthwise weights and bias, or into the GF ``post_norm`` affine.
- HorFPN: the BatchNorm after the gnConv into ``gnconv.proj_out``.
- HorNet: each downsampling LayerNorm's affine into the following 2x2 stride-2 conv (no padding, so exact).

:func:`fuse_hornet_modules` is called automatically after ultralytics' own ``fuse()`` (predict, val, export).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .gnconv import gnConv
from .horblock import HorBlock
from .horfpn import HorFPN
from .hornet import HorNet


def _matrix(layer: nn.Module) -> torch.Tensor:
    """(out, in) weight of a 1x1 conv or linear layer as a 2-D view."""
    return layer.weight.view(layer.weight.shape[0], -1)


@torch.no_grad()
def fold_norm_affine_into_next(norm: nn.Module, layer: nn.Module) -> None:
    """layer(w * xhat + b) == layer'(xhat): scale the input columns of ``layer`` by w, move ``layer(b)`` to its bias.

    ``layer`` is a 1x1 conv, a linear layer, or an unpadded conv (then b's contribution is a constant per output).
    """
    if norm.weight is None:
        return
    w, b = norm.weight, norm.bias
    shape = [1, -1] + [1] * (layer.weight.dim() - 2)
    bias_shift = (layer.weight * b.view(shape)).flatten(1).sum(1)
    layer.weight.mul_(w.view(shape))
    if layer.bias is None:
        layer.bias = nn.Parameter(bias_shift.clone())
    else:
        layer.bias.add_(bias_shift)
    norm.weight = None
    norm.bias = None


@torch.no_grad()
def fold_output_scale(layer: nn.Module, scale: torch.Tensor, shift: torch.Tensor | None = None) -> None:
    """scale * layer(x) + shift == layer'(x) for a conv or linear ``layer`` (per output channel)."""
    shape = [-1] + [1] * (layer.weight.dim() - 1)
    layer.weight.mul_(scale.view(shape))
    bias = layer.bias * scale if layer.bias is not None else torch.zeros_like(scale)
    if shift is not None:
        bias = bias + shift
    layer.bias = nn.Parameter(bias)


@torch.no_grad()
def fuse_gnconv(m: gnConv) -> None:
    """Fold the scale s into the spatial mixer."""
    if m.scale == 1.0:
        return
    s = torch.full((m.dwconv.weight.shape[0] if isinstance(m.dwconv, nn.Conv2d) else 1,), m.scale)
    if isinstance(m.dwconv, nn.Conv2d):
        fold_output_scale(m.dwconv, s.to(m.dwconv.weight))
    else:
        m.dwconv.post_norm.weight.mul_(m.scale)
        m.dwconv.post_norm.bias.mul_(m.scale)
    m.scale = 1.0


@torch.no_grad()
def fuse_horblock(m: HorBlock) -> None:
    """Fold LayerNorm affines and layer scales of a HorBlock into its linear layers."""
    fold_norm_affine_into_next(m.norm1, m.gnconv.proj_in)
    if m.gamma1 is not None:
        fold_output_scale(m.gnconv.proj_out, m.gamma1)
        m.gamma1 = None
    fold_norm_affine_into_next(m.norm2, m.pwconv1)
    if m.gamma2 is not None:
        fold_output_scale(m.pwconv2, m.gamma2)
        m.gamma2 = None
    fuse_gnconv(m.gnconv)
    m.fused = True


@torch.no_grad()
def fuse_horfpn(m: HorFPN) -> None:
    """Fold the BatchNorm that follows the gnConv into ``proj_out``."""
    if isinstance(m.bn, nn.BatchNorm2d):
        a = m.bn.weight / torch.sqrt(m.bn.running_var + m.bn.eps)
        fold_output_scale(m.gnconv.proj_out, a, m.bn.bias - a * m.bn.running_mean)
        m.bn = nn.Identity()
    fuse_gnconv(m.gnconv)


@torch.no_grad()
def fuse_hornet_downsampling(m: HorNet) -> None:
    """Fold each downsampling LayerNorm's affine into the following unpadded 2x2 stride-2 conv."""
    for layer in list(m.downsample_layers)[1:]:
        fold_norm_affine_into_next(layer[0], layer[1])


def fuse_hornet_modules(model: nn.Module) -> int:
    """Fold every HorNet layer inside ``model`` for inference; returns the number of modules folded."""
    count = 0
    for module in model.modules():
        if isinstance(module, HorBlock):
            fuse_horblock(module)
        elif isinstance(module, HorFPN):
            fuse_horfpn(module)
        elif isinstance(module, HorNet):
            fuse_hornet_downsampling(module)
        elif isinstance(module, gnConv):
            fuse_gnconv(module)
        else:
            continue
        count += 1
    return count
