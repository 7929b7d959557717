"""The straightforward baseline the benchmarks compare against: HorNet layers structured like the official code.

Channels-first LayerNorm written out with mean/variance, the MLP as ``nn.Linear`` between two permutes, layer scale
and the gnConv scale ``s`` as separate multiplications, the FFT filter resized on every call. Parameter names match
``yolo_hornet`` so ``load_state_dict`` copies weights across. Shapes as in ``yolo_hornet``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class RefLayerNormCF(nn.Module):
    """(B, C, H, W) LayerNorm over C with the explicit mean/variance formula."""

    def __init__(self, c: int, eps: float = 1e-6):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c)), eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * ((x - u) / torch.sqrt(s + self.eps)) + self.bias[:, None, None]


class RefGlobalLocalFilter(nn.Module):
    """Global-local filter: 3x3 depthwise half, FFT-filter half, interleaved."""

    def __init__(self, dim: int, h: int = 14, w: int = 8):
        super().__init__()
        self.dw = nn.Conv2d(dim // 2, dim // 2, 3, padding=1, bias=False, groups=dim // 2)
        self.complex_weight = nn.Parameter(torch.randn(dim // 2, h, w, 2) * 0.02)
        self.pre_norm, self.post_norm = RefLayerNormCF(dim), RefLayerNormCF(dim)

    def forward(self, x):
        x = self.pre_norm(x)
        x1, x2 = torch.chunk(x, 2, dim=1)
        x1 = self.dw(x1)
        b, c, a, bb = x2.shape
        x2 = torch.fft.rfft2(x2.float(), dim=(2, 3), norm="ortho")
        weight = self.complex_weight
        if weight.shape[1:3] != x2.shape[2:4]:
            weight = F.interpolate(weight.permute(3, 0, 1, 2), size=x2.shape[2:4], mode="bilinear", align_corners=True)
            weight = weight.permute(1, 2, 3, 0)
        x2 = torch.fft.irfft2(x2 * torch.view_as_complex(weight.contiguous()), s=(a, bb), dim=(2, 3), norm="ortho")
        x = torch.cat([x1.unsqueeze(2), x2.unsqueeze(2)], dim=2).reshape(b, 2 * c, a, bb)
        return self.post_norm(x)


class RefGnConv(nn.Module):
    """Recursive gated convolution, structured as in the paper's code."""

    def __init__(self, dim: int, order: int = 5, gf: bool = False, h: int = 14, w: int = 8, s: float = 1.0 / 3.0):
        super().__init__()
        self.order = order
        self.dims = [dim // 2**i for i in range(order)][::-1]
        self.proj_in = nn.Conv2d(dim, 2 * dim, 1)
        total = sum(self.dims)
        self.dwconv = RefGlobalLocalFilter(total, h, w) if gf else nn.Conv2d(total, total, 7, padding=3, groups=total)
        self.proj_out = nn.Conv2d(dim, dim, 1)
        self.pws = nn.ModuleList([nn.Conv2d(self.dims[i], self.dims[i + 1], 1) for i in range(order - 1)])
        self.scale = s

    def forward(self, x):
        fused = self.proj_in(x)
        pwa, abc = torch.split(fused, (self.dims[0], sum(self.dims)), dim=1)
        dw_abc = self.dwconv(abc) * self.scale
        dw_list = torch.split(dw_abc, self.dims, dim=1)
        x = pwa * dw_list[0]
        for i in range(self.order - 1):
            x = self.pws[i](x) * dw_list[i + 1]
        return self.proj_out(x)


class RefHorBlock(nn.Module):
    """HorNet block with permute + Linear MLP and separate layer-scale multiplications."""

    def __init__(self, dim: int, order: int = 3, gf: bool = False, h: int = 14, w: int = 8):
        super().__init__()
        self.norm1 = RefLayerNormCF(dim)
        self.gnconv = RefGnConv(dim, order, gf, h, w)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.act, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        self.gamma1 = nn.Parameter(1e-6 * torch.ones(dim))
        self.gamma2 = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        c = x.shape[1]
        x = x + self.gamma1.view(c, 1, 1) * self.gnconv(self.norm1(x))
        y = x.permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm2(y))))
        y = (self.gamma2 * y).permute(0, 3, 1, 2)
        return x + y
