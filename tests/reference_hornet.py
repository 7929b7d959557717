"""An independent, plain functional re-implementation of the HorNet equations, driven by a state dict.

It shares no code with ``yolo_hornet``: LayerNorm is written out with mean/variance, the channel interleave uses index
assignment, the MLP uses explicit matmuls. Tests compare the package against it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def layer_norm_cf(x, w, b, eps=1e-6):
    """Channels-first LayerNorm on (B, C, H, W) as in the paper: (x - mean) / sqrt(var + eps) * w + b."""
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w[:, None, None] + b[:, None, None]


def conv1x1(x, w, b):
    """1x1 convolution written as an einsum."""
    return torch.einsum("bchw,oc->bohw", x, w[:, :, 0, 0]) + b[None, :, None, None]


def global_local(sd, p, x):
    """Global-local filter: pre-norm, 3x3 dw on half, FFT filter on the other half, interleave, post-norm."""
    x = layer_norm_cf(x, sd[p + "pre_norm.weight"], sd[p + "pre_norm.bias"])
    c = x.shape[1] // 2
    local = F.conv2d(x[:, :c], sd[p + "dw.weight"], padding=1, groups=c)
    h, w = x.shape[-2:]
    spec = torch.fft.rfft2(x[:, c:], norm="ortho")
    cw = sd[p + "complex_weight"]
    if tuple(cw.shape[1:3]) != tuple(spec.shape[-2:]):
        cw = F.interpolate(cw.permute(3, 0, 1, 2), size=spec.shape[-2:], mode="bilinear", align_corners=True)
        cw = cw.permute(1, 2, 3, 0)
    glob = torch.fft.irfft2(spec * torch.complex(cw[..., 0], cw[..., 1]), s=(h, w), norm="ortho")
    out = torch.empty_like(x)
    out[:, 0::2] = local
    out[:, 1::2] = glob
    return layer_norm_cf(out, sd[p + "post_norm.weight"], sd[p + "post_norm.bias"])


def gnconv(sd, p, x, order, s=1.0 / 3.0, gf=False):
    """Recursive gated conv: eq. 3.3-3.4 of the paper."""
    dim = sd[p + "proj_out.weight"].shape[0]
    dims = [dim // 2 ** (order - 1 - k) for k in range(order)]
    y = conv1x1(x, sd[p + "proj_in.weight"], sd[p + "proj_in.bias"])
    p0, q = y[:, : dims[0]], y[:, dims[0] :]
    if gf:
        q = global_local(sd, p + "dwconv.", q)
    else:
        q = F.conv2d(q, sd[p + "dwconv.weight"], sd[p + "dwconv.bias"], padding=3, groups=q.shape[1])
    q = q * s
    start = 0
    qs = []
    for d in dims:
        qs.append(q[:, start : start + d])
        start += d
    pk = p0 * qs[0]
    for k in range(1, order):
        pk = conv1x1(pk, sd[f"{p}pws.{k - 1}.weight"], sd[f"{p}pws.{k - 1}.bias"]) * qs[k]
    return conv1x1(pk, sd[p + "proj_out.weight"], sd[p + "proj_out.bias"])


def block(sd, p, x, order, gf=False):
    """HorBlock: two pre-norm residual branches with layer scale."""
    y = gnconv(sd, p + "gnconv.", layer_norm_cf(x, sd[p + "norm1.weight"], sd[p + "norm1.bias"]), order, gf=gf)
    x = x + sd[p + "gamma1"][:, None, None] * y
    z = layer_norm_cf(x, sd[p + "norm2.weight"], sd[p + "norm2.bias"])
    z = torch.einsum("bchw,oc->bohw", z, sd[p + "pwconv1.weight"]) + sd[p + "pwconv1.bias"][None, :, None, None]
    z = 0.5 * z * (1 + torch.erf(z / 2**0.5))
    z = torch.einsum("bchw,oc->bohw", z, sd[p + "pwconv2.weight"]) + sd[p + "pwconv2.bias"][None, :, None, None]
    return x + sd[p + "gamma2"][:, None, None] * z


def hornet(sd, x, depths, orders=(2, 3, 4, 5), gf_stages=()):
    """HorNet stage outputs from an official-layout state dict."""
    outs = []
    for i in range(4):
        d = f"downsample_layers.{i}."
        if i == 0:
            x = F.conv2d(x, sd[d + "0.weight"], sd[d + "0.bias"], stride=4)
            x = layer_norm_cf(x, sd[d + "1.weight"], sd[d + "1.bias"])
        else:
            x = layer_norm_cf(x, sd[d + "0.weight"], sd[d + "0.bias"])
            x = F.conv2d(x, sd[d + "1.weight"], sd[d + "1.bias"], stride=2)
        for j in range(depths[i]):
            x = block(sd, f"stages.{i}.{j}.", x, orders[i], gf=i in gf_stages)
        outs.append(x)
    return outs


def randomize_(module: torch.nn.Module, seed: int = 0) -> None:
    """Give every parameter random, non-trivial values (layer scale included) so that all terms matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, prm in module.named_parameters():
            scale = 0.5 if ("gamma" in name or "norm" in name) else 0.1
            prm.copy_(torch.randn(prm.shape, generator=g) * scale + (1.0 if name.endswith("norm1.weight") else 0.0))


def mmpretrain_layout(sd: dict, num_classes: int = 10) -> dict:
    """The keys mmpretrain's converted HorNet checkpoints use (its HorNet backbone + LinearClsHead)."""
    out = {}
    for k, v in sd.items():
        k = k.replace(".gnconv.pws.", ".gnconv.projs.")
        if k.endswith((".gamma1", ".gamma2")):
            k += ".weight"
        out["backbone." + k] = v
    c = next(v for k, v in sd.items() if k == "downsample_layers.3.1.weight").shape[0]
    out.update({"backbone.norm3.weight": torch.ones(c), "backbone.norm3.bias": torch.zeros(c),
                "head.fc.weight": torch.zeros(num_classes, c), "head.fc.bias": torch.zeros(num_classes)})  # fmt: skip
    return {"meta": {"mmpretrain_version": "1.2.0"}, "state_dict": out}
