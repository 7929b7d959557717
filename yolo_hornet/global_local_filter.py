"""Global-local filter: the "GF" spatial mixer of HorNet (half 3x3 depthwise conv, half learned FFT filter)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layer_norm import LayerNorm2d

DIRECT_MAX_AREA = 144  # eval maps up to 12x12 use the direct circular conv (faster than the FFT on CPU, measured)


class GlobalLocalFilter(nn.Module):
    """Mix space locally with a 3x3 depthwise conv and globally with a learned filter in the 2-D Fourier domain.

    ``pre_norm`` -> split channels into halves -> first half: 3x3 depthwise conv (``dw``, no bias); second half:
    ``rfft2`` (orthonormal, float32) times the complex filter ``complex_weight`` then ``irfft2`` back to the input size
    (a global circular convolution) -> the halves interleaved channel by channel (local, global, local, ...) ->
    ``post_norm``. When the input's rfft size differs from the stored filter size (h, w) the filter is resized
    bilinearly (align_corners=True), so any input size works.

    In eval mode the global half may instead run as the equivalent circular depthwise convolution whose spatial
    kernel is the filter's inverse FFT for that map size (cached per size): always while tracing for ONNX or
    TorchScript export (no FFT operator in the graph), and for maps of at most ``direct_max_area`` pixels, where it is
    faster than the FFT on CPU.

    Args:
        dim (int): C, number of channels (even).
        h (int): Stored filter height (rfft rows), 14 for 224 px ImageNet stage 3.
        w (int): Stored filter width (rfft columns, W // 2 + 1), 8 for stage 3 at 224 px.

    Shape:
        x: (B, C, H, W) -> (B, C, H, W)
    """

    def __init__(self, dim: int, h: int = 14, w: int = 8):
        super().__init__()
        if dim % 2:
            raise ValueError(f"GlobalLocalFilter needs an even channel count, got {dim}")
        half = dim // 2
        self.dw = nn.Conv2d(half, half, kernel_size=3, padding=1, bias=False, groups=half)
        self.complex_weight = nn.Parameter(torch.empty(half, h, w, 2, dtype=torch.float32))
        nn.init.trunc_normal_(self.complex_weight, std=0.02)
        self.pre_norm = LayerNorm2d(dim, eps=1e-6)
        self.post_norm = LayerNorm2d(dim, eps=1e-6)
        self.direct_max_area = DIRECT_MAX_AREA
        self._kernels: dict[tuple, torch.Tensor] = {}

    def spectral_weight(self, fh: int, fw: int) -> torch.Tensor:
        """Return the complex filter (C/2, fh, fw) for an rfft2 of size (fh, fw), resized if needed.

        Without autograd (inference) the resized filter is cached per size and weight version."""
        frozen = not torch.is_grad_enabled() and not torch.jit.is_tracing()
        key = ("spec", fh, fw, self.complex_weight.device, self.complex_weight._version)
        if frozen and key in self._kernels:
            return self._kernels[key]
        weight = self.complex_weight.float()
        if weight.shape[1:3] != (fh, fw):
            weight = F.interpolate(weight.permute(3, 0, 1, 2), size=(fh, fw), mode="bilinear", align_corners=True)
            weight = weight.permute(1, 2, 3, 0)
        weight = torch.view_as_complex(weight.contiguous())
        if frozen:
            self._kernels = {k: v for k, v in self._kernels.items() if k[0] != "spec" or k[-1] == key[-1]}
            self._kernels[key] = weight
        return weight

    def global_filter(self, x: torch.Tensor) -> torch.Tensor:
        """Global circular convolution of (B, C/2, H, W) by the learned filter, computed in float32 via the FFT."""
        dtype, (hh, ww) = x.dtype, x.shape[-2:]
        with torch.autocast(device_type=x.device.type, enabled=False):
            spec = torch.fft.rfft2(x.float(), dim=(2, 3), norm="ortho")
            spec = spec * self.spectral_weight(spec.shape[2], spec.shape[3])
            y = torch.fft.irfft2(spec, s=(hh, ww), dim=(2, 3), norm="ortho")
        return y.to(dtype)

    def train(self, mode: bool = True):
        """Switching modes drops the cached spatial kernels (weights may change in training)."""
        self._kernels = {}
        return super().train(mode)

    def spatial_kernel(self, hh: int, ww: int, device, dtype) -> torch.Tensor:
        """Depthwise kernel (C/2, 1, H, W) of the circular convolution equal to the FFT filter on an (H, W) map.

        Computed once per size outside autograd (numpy), so that it is a constant in traced/exported graphs.
        """
        key = ("kernel", hh, ww, device, dtype, self.complex_weight._version)
        if key not in self._kernels:
            with torch.no_grad():
                spec = self.spectral_weight(hh, ww // 2 + 1).detach().cpu().numpy()
            kernel = np.fft.irfft2(spec, s=(hh, ww), norm="ortho") / np.sqrt(hh * ww)  # (C/2, H, W)
            kernel = np.ascontiguousarray(kernel[:, None, ::-1, ::-1], dtype=np.float32)  # flipped: correlation form
            self._kernels[key] = torch.from_numpy(kernel).to(device=device, dtype=dtype)
        return self._kernels[key]

    def circular_conv(self, x: torch.Tensor) -> torch.Tensor:
        """The global filter as a circular depthwise convolution (exact same result as :meth:`global_filter`)."""
        hh, ww = int(x.shape[-2]), int(x.shape[-1])
        kernel = self.spatial_kernel(hh, ww, x.device, x.dtype)
        if hh > 1:
            x = torch.cat([x[:, :, 1:], x], dim=2)  # wrap-pad H-1 rows on top
        if ww > 1:
            x = torch.cat([x[:, :, :, 1:], x], dim=3)  # wrap-pad W-1 columns on the left
        return F.conv2d(x, kernel, groups=kernel.shape[0])

    def use_direct(self, x: torch.Tensor) -> bool:
        """Whether the global half runs as a circular convolution (export, or small maps in eval)."""
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            return True
        return not self.training and not torch.is_grad_enabled() and x.shape[-2] * x.shape[-1] <= self.direct_max_area

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the local and global branches and interleave their channels."""
        x = self.pre_norm(x)
        local, glob = x.chunk(2, dim=1)
        local = self.dw(local)
        glob = self.circular_conv(glob) if self.use_direct(glob) else self.global_filter(glob)
        x = torch.stack((local, glob.to(local.dtype)), dim=2).flatten(1, 2)  # (B, C/2, 2, H, W) -> interleaved
        return self.post_norm(x)
