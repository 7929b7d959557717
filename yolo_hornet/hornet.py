"""HorNet backbone (4 stages of HorBlocks) and the paper's presets."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from .horblock import HorBlock
from .layer_norm import LayerNorm2d


def init_hornet_weights(m: nn.Module) -> None:
    """HorNet's initialisation: truncated normal (std 0.02) for conv and linear weights, zero biases."""
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


class HorNet(nn.Module):
    """HorNet backbone returning the four stage outputs (strides 4, 8, 16, 32).

    Layout (identical to the official implementation, so ImageNet checkpoints load by key):
    ``downsample_layers.0`` = 4x4 stride-4 conv + LayerNorm, ``downsample_layers.{1,2,3}`` = LayerNorm + 2x2 stride-2
    conv, ``stages.{i}.{j}`` = HorBlocks. Stage output i = downsample i then the blocks of stage i (no extra norm).

    Args:
        depths (Sequence[int]): Number of HorBlocks per stage.
        base_dim (int): C; stage widths are C, 2C, 4C, 8C.
        orders (Sequence[int]): gnConv order per stage.
        s (float): gnConv scale.
        gf_stages (Sequence[int]): Stages (counted from 0) that use the global-local filter.
        gf_sizes (Sequence[tuple[int, int]]): Filter size (h, w) of each entry of ``gf_stages``.
        drop_path_rate (float): Stochastic depth rate, linearly increasing over all blocks.
        layer_scale_init (float): Initial layer scale.
        in_chans (int): Input image channels.

    Shape:
        x: (B, in_chans, H, W) -> [(B, C, H/4, W/4), (B, 2C, H/8, W/8), (B, 4C, H/16, W/16), (B, 8C, H/32, W/32)]
    """

    def __init__(
        self,
        depths: Sequence[int] = (2, 3, 18, 2),
        base_dim: int = 64,
        orders: Sequence[int] = (2, 3, 4, 5),
        s: float = 1.0 / 3.0,
        gf_stages: Sequence[int] = (),
        gf_sizes: Sequence[Sequence[int]] = ((14, 8), (7, 4)),
        drop_path_rate: float = 0.0,
        layer_scale_init: float = 1e-6,
        in_chans: int = 3,
    ):
        super().__init__()
        if len(depths) != 4 or len(orders) != 4:
            raise ValueError(f"HorNet needs 4 depths and 4 orders, got depths={list(depths)} orders={list(orders)}")
        if any(not isinstance(d, int) or d < 0 for d in depths):
            raise ValueError(f"HorNet depths must be whole numbers >= 0, got depths={list(depths)}")
        if len(gf_sizes) < len(gf_stages):
            raise ValueError(f"HorNet: gf_stages={list(gf_stages)} needs one (h, w) in gf_sizes per stage")
        if any(not 0 <= st <= 3 for st in gf_stages):
            raise ValueError(f"HorNet: gf_stages are counted from 0 and must lie in 0..3, got {list(gf_stages)}")
        dims = [base_dim * 2**i for i in range(4)]
        self.dims = dims
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(in_chans, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0], eps=1e-6))]
            + [
                nn.Sequential(LayerNorm2d(dims[i], eps=1e-6), nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2))
                for i in range(3)
            ]
        )
        gf = {stage: tuple(size) for stage, size in zip(gf_stages, gf_sizes)}
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        start = 0
        for i in range(4):
            h, w = gf.get(i, (14, 8))
            self.stages.append(
                nn.Sequential(
                    *(
                        HorBlock(
                            dims[i],
                            dims[i],
                            order=orders[i],
                            gf=i in gf,
                            h=h,
                            w=w,
                            s=s,
                            drop_path=rates[start + j],
                            layer_scale_init=layer_scale_init,
                        )
                        for j in range(depths[i])
                    )
                )
            )
            start += depths[i]
        self.apply(init_hornet_weights)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the list of the 4 stage outputs."""
        outs = []
        for downsample, stage in zip(self.downsample_layers, self.stages):
            x = stage(downsample(x))
            outs.append(x)
        return outs


class HorNetBackbone(HorNet):
    """The ``HorNet`` row of a YOLO YAML: the backbone as the first layer, emitting the 4 stage outputs.

    Pick the levels with ultralytics ``Index`` rows, e.g. ``[0, 1, Index, [256, 1]]`` for stride 8. The row's base
    width is scaled like ``Conv`` channels and the depths like repeat counts; ``Index`` channels that follow the row
    are set to the scaled stage widths automatically. Official ImageNet weights load into this row with
    :func:`yolo_hornet.load_official_weights` when the YAML scale leaves width and depth at 1.0.

    YAML args: ``[base_dim=64, depths=[2, 3, 18, 2], orders=[2, 3, 4, 5], gf_stages=[], gf_sizes=[[14, 8], [7, 4]],
    s=0.3333, drop_path_rate=0.0]``.

    Shape:
        x: (B, c1, H, W) -> list of 4 maps as :class:`HorNet`.
    """

    def __init__(
        self,
        c1: int,
        c2: int = 64,
        depths: Sequence[int] = (2, 3, 18, 2),
        orders: Sequence[int] = (2, 3, 4, 5),
        gf_stages: Sequence[int] = (),
        gf_sizes: Sequence[Sequence[int]] = ((14, 8), (7, 4)),
        s: float = 1.0 / 3.0,
        drop_path_rate: float = 0.0,
    ):
        super().__init__(
            depths=depths,
            base_dim=c2,
            orders=orders,
            s=s,
            gf_stages=gf_stages,
            gf_sizes=gf_sizes,
            drop_path_rate=drop_path_rate,
            in_chans=c1,
        )


_WIDTHS = {"tiny": 64, "small": 96, "base": 128, "large": 192}
_GF_SIZES = {"gf": ((14, 8), (7, 4)), "gf_384": ((24, 13), (12, 7))}
PRESETS: dict[str, dict] = {}
for _size, _width in _WIDTHS.items():
    PRESETS[f"{_size}_7x7"] = dict(base_dim=_width)
    for _kind, _sizes in _GF_SIZES.items():
        PRESETS[f"{_size}_{_kind}"] = dict(base_dim=_width, gf_stages=(2, 3), gf_sizes=_sizes)


def preset_key(name: str) -> str:
    """``hornet_tiny_gf`` / ``tiny_gf`` -> ``tiny_gf``; ValueError naming the presets for anything else."""
    key = str(name).removeprefix("hornet_")
    if key not in PRESETS:
        raise ValueError(f"unknown HorNet preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return key


class HorNetPreset(HorNet):
    """A YAML row ``[-1, 1, HorNet, [tiny_7x7]]``: exactly the official layout of a preset, never width- or
    depth-scaled (like ultralytics' ``TorchVision`` rows), so official ImageNet weights load at every model scale.

    The ``Index`` rows after it get the preset's stage widths. YAML args: ``[preset, drop_path_rate=0.0]``; the
    registration rewrites a ``HorNet`` row whose first argument is a preset name into this module.

    Args:
        preset (str): A key of ``PRESETS`` (``tiny_7x7``, ``small_gf``, ...), with or without ``hornet_``.
        drop_path_rate (float): Stochastic depth rate over the blocks (the official detection configs use 0.2-0.4).

    Shape:
        x: (B, 3, H, W) -> list of 4 maps (B, C*2**i, H/4/2**i, W/4/2**i) as :class:`HorNet`.
    """

    def __init__(self, preset: str = "tiny_7x7", drop_path_rate: float = 0.0):
        self.preset = preset_key(preset)
        super().__init__(**{**PRESETS[self.preset], "drop_path_rate": drop_path_rate})
