"""gnConv: the recursive gated convolution of HorNet (paper eq. 3.3-3.4)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .global_local_filter import GlobalLocalFilter


def check_order(channels: int, order: int, where: str = "gnConv") -> None:
    """Raise ``ValueError`` unless ``order`` is an int in 1..5 and ``channels`` is divisible by 2**(order-1)."""
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 5:
        raise ValueError(f"{where}: order must be an integer from 1 to 5, got {order!r}")
    if channels % 2 ** (order - 1):
        raise ValueError(
            f"{where}: {channels} channels are not divisible by 2**(order-1) = {2 ** (order - 1)} "
            f"(order {order}); use a channel count that is a multiple of {2 ** (order - 1)} or a lower order"
        )


class gnConv(nn.Module):  # noqa: N801  (the paper's and the official code's name)
    """Recursive gated convolution of order n.

    ``proj_in`` (1x1, c1 -> 2*c2) splits into p0 (dims[0] channels) and q (sum(dims) channels); ONE spatial mixer
    ``dwconv`` (7x7 depthwise with bias, or a :class:`GlobalLocalFilter`) runs over all of q and is scaled by ``s``;
    then p_{k+1} = pws[k](p_k) * q_k with dims = [c2/2^(n-1), ..., c2/2, c2]; ``proj_out`` (1x1, c2 -> c2).
    Parameter names and shapes equal the official HorNet ``gnconv`` when c1 == c2.

    YAML args: ``[c2, order=5, gf=False, h=14, w=8, s=1/3]`` (c1 is inferred, c2 is width-scaled like ``Conv``).

    Args:
        c1 (int): Input channels.
        c2 (int | None): Output channels C (defaults to c1); must be divisible by 2**(order-1).
        order (int): Interaction order n, 1..5.
        gf (bool): Use the global-local filter instead of the 7x7 depthwise conv.
        h (int): Global filter height (only with gf).
        w (int): Global filter width (only with gf).
        s (float): Scale applied to the spatial mixer's output (1/3 in the paper).

    Shape:
        x: (B, c1, H, W) -> (B, c2, H, W)
    """

    def __init__(
        self,
        c1: int,
        c2: int | None = None,
        order: int = 5,
        gf: bool = False,
        h: int = 14,
        w: int = 8,
        s: float = 1.0 / 3.0,
    ):
        super().__init__()
        c2 = c2 or c1
        check_order(c2, order)
        self.order = order
        self.dims = [c2 // 2**i for i in range(order)][::-1]
        self.scale = float(s)
        total = sum(self.dims)
        self.proj_in = nn.Conv2d(c1, 2 * c2, 1)
        if gf:
            self.dwconv = GlobalLocalFilter(total, h=h, w=w)
        else:
            self.dwconv = nn.Conv2d(total, total, kernel_size=7, padding=3, bias=True, groups=total)
        self.proj_out = nn.Conv2d(c2, c2, 1)
        self.pws = nn.ModuleList(nn.Conv2d(self.dims[i], self.dims[i + 1], 1) for i in range(order - 1))

    def forward_nhwc(self, x: torch.Tensor) -> torch.Tensor:
        """The same computation on a channels-last (B, H, W, C) tensor: 1x1 convs as matmuls over the last dim, the
        depthwise conv on a channels_last view. Returns (B, H, W, c2)."""
        c_in, d0 = x.shape[-1], self.dims[0]
        w, b = self.proj_in.weight.view(-1, c_in), self.proj_in.bias
        p, q = F.linear(x, w[:d0], b[:d0]), F.linear(x, w[d0:], b[d0:])  # two dense outputs, no strided slices
        q = self.dwconv(q.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        if self.scale != 1.0:
            q = q * self.scale
        gates = q.split(self.dims, dim=-1)
        z = p * gates[0]
        for pw, gate in zip(self.pws, gates[1:]):
            z = F.linear(z, pw.weight.view(pw.weight.shape[0], -1), pw.bias) * gate
        return F.linear(z, self.proj_out.weight.view(self.proj_out.weight.shape[0], -1), self.proj_out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project in, mix space once, gate recursively from coarse to fine, project out."""
        p, q = self.proj_in(x).split((self.dims[0], sum(self.dims)), dim=1)
        q = self.dwconv(q)
        if self.scale != 1.0:
            q = q * self.scale
        gates = q.split(self.dims, dim=1)
        x = p * gates[0]
        for pw, gate in zip(self.pws, gates[1:]):
            x = pw(x) * gate
        return self.proj_out(x)
