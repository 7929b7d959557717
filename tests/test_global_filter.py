"""Global-local filter: FFT branch == explicit circular convolution, interleaving, any size, float32 under autocast."""

import pytest
import torch

from yolo_hornet import GlobalLocalFilter, gnConv


def circular_conv_reference(x: torch.Tensor, spec_weight: torch.Tensor) -> torch.Tensor:
    """y[c, i, j] = sum_{a, b} k[c, a, b] * x[c, i - a, j - b] (indices mod H, W), with k the spatial kernel of the
    orthonormal rfft filter: k = irfft2(weight) / sqrt(H W) ... computed with torch.roll."""
    h, w = x.shape[-2:]
    kernel = torch.fft.irfft2(spec_weight, s=(h, w), norm="ortho") / (h * w) ** 0.5  # (C, H, W)
    y = torch.zeros_like(x)
    for a in range(h):
        for b in range(w):
            y += kernel[None, :, a, b, None, None] * torch.roll(x, shifts=(a, b), dims=(2, 3))
    return y


@pytest.mark.parametrize("size", [(6, 6), (5, 7), (8, 5)])
def test_fft_branch_is_circular_convolution(size):
    torch.manual_seed(0)
    h, w = size
    m = GlobalLocalFilter(8, h=h, w=w // 2 + 1)
    x = torch.randn(2, 4, h, w)
    expected = circular_conv_reference(x, m.spectral_weight(h, w // 2 + 1))
    assert torch.allclose(m.global_filter(x), expected, atol=1e-5)


def test_channels_are_interleaved():
    torch.manual_seed(0)
    m = GlobalLocalFilter(8, h=6, w=4).eval()
    x = torch.randn(1, 8, 6, 6)
    xn = m.pre_norm(x)
    local = m.dw(xn[:, :4])
    glob = m.global_filter(xn[:, 4:])
    stacked = torch.zeros(1, 8, 6, 6)
    stacked[:, 0::2], stacked[:, 1::2] = local, glob
    assert torch.allclose(m(x), m.post_norm(stacked), atol=1e-5)
    # and not the plain concatenation
    assert not torch.allclose(m(x), m.post_norm(torch.cat([local, glob], 1)), atol=1e-3)


@pytest.mark.parametrize("size", [(14, 14), (13, 21), (40, 24), (7, 7), (1, 3)])
def test_any_input_size(size):
    m = gnConv(64, order=3, gf=True, h=14, w=8)
    assert m(torch.randn(1, 64, *size)).shape == (1, 64, *size)


def test_filter_resize_matches_bilinear_align_corners():
    m = GlobalLocalFilter(4, h=3, w=2)
    with torch.no_grad():
        m.complex_weight.copy_(torch.arange(24, dtype=torch.float32).view(2, 3, 2, 2))
    wgt = m.spectral_weight(5, 3)  # corners kept, midpoints averaged (align_corners=True)
    assert torch.allclose(wgt[:, 0, 0], torch.view_as_complex(m.complex_weight[:, 0, 0].contiguous()))
    assert torch.allclose(wgt[:, 4, 2], torch.view_as_complex(m.complex_weight[:, 2, 1].contiguous()))
    mid = (m.complex_weight[:, 0, 0] + m.complex_weight[:, 1, 0]) / 2
    assert torch.allclose(wgt[:, 1, 0], torch.view_as_complex(mid.contiguous()))


def test_fft_runs_in_float32_under_bf16_autocast():
    torch.manual_seed(0)
    m = GlobalLocalFilter(16, h=8, w=5)
    x = torch.randn(1, 8, 8, 8)
    ref = m.global_filter(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = m.global_filter(x.bfloat16())
    assert y.dtype == torch.bfloat16
    assert (y.float() - ref).abs().max() < 0.05 * ref.abs().max()


def test_odd_channel_count_rejected():
    with pytest.raises(ValueError, match="even channel count"):
        GlobalLocalFilter(7)


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (12, 10), (20, 20)])
def test_direct_circular_conv_equals_fft(size):
    torch.manual_seed(0)
    m = GlobalLocalFilter(16, h=14, w=8).eval()
    x = torch.randn(2, 8, *size)
    with torch.no_grad():
        assert torch.allclose(m.circular_conv(x), m.global_filter(x), atol=1e-5)
        m.direct_max_area = 10_000
        y_direct = m(torch.randn(1, 16, *size))
    assert y_direct.shape == (1, 16, *size)
