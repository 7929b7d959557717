"""gnConv: shapes, the equations written out by hand for orders 1 and 2, parameter layout, errors."""

import pytest
import torch
import torch.nn.functional as F

from yolo_hornet import gnConv


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("size", [(17, 23), (32, 32), (9, 40)])
def test_shapes_all_orders(order, size):
    m = gnConv(32, order=order)
    y = m(torch.randn(2, 32, *size))
    assert y.shape == (2, 32, *size)
    assert m.dims == [32 // 2 ** (order - 1 - k) for k in range(order)]
    assert len(m.pws) == order - 1


def test_channel_change_shapes():
    m = gnConv(24, 64, order=3)
    assert m(torch.randn(1, 24, 10, 12)).shape == (1, 64, 10, 12)
    assert m.proj_in.weight.shape == (128, 24, 1, 1)


def test_official_parameter_shapes():
    m = gnConv(64, order=4)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    total = 8 + 16 + 32 + 64
    assert shapes["proj_in.weight"] == (128, 64, 1, 1)
    assert shapes["dwconv.weight"] == (total, 1, 7, 7)
    assert shapes["dwconv.bias"] == (total,)
    assert shapes["pws.0.weight"] == (16, 8, 1, 1)
    assert shapes["pws.2.weight"] == (64, 32, 1, 1)
    assert shapes["proj_out.weight"] == (64, 64, 1, 1)


def _conv1x1(x, conv):
    return torch.einsum("bchw,oc->bohw", x, conv.weight[:, :, 0, 0]) + conv.bias.view(1, -1, 1, 1)


def test_order1_by_hand():
    torch.manual_seed(0)
    m = gnConv(8, order=1, s=0.5).eval()
    x = torch.randn(1, 8, 6, 7)
    # order 1: [p0, q0] = proj_in(x);  p1 = p0 * s * f(q0);  y = proj_out(p1)
    y = _conv1x1(x, m.proj_in)
    p0, q0 = y[:, :8], y[:, 8:]
    f = F.conv2d(q0, m.dwconv.weight, m.dwconv.bias, padding=3, groups=8)
    expected = _conv1x1(p0 * (0.5 * f), m.proj_out)
    assert torch.allclose(m(x), expected, atol=1e-5)


def test_order2_by_hand():
    torch.manual_seed(1)
    m = gnConv(8, order=2).eval()
    x = torch.randn(2, 8, 5, 9)
    # dims = [4, 8]; proj_in -> p0 (4) | q (12); f over q; q0 = 4 ch, q1 = 8 ch
    y = _conv1x1(x, m.proj_in)
    p0, q = y[:, :4], y[:, 4:]
    f = F.conv2d(q, m.dwconv.weight, m.dwconv.bias, padding=3, groups=12) / 3.0
    q0, q1 = f[:, :4], f[:, 4:]
    p1 = p0 * q0
    p2 = _conv1x1(p1, m.pws[0]) * q1
    assert torch.allclose(m(x), _conv1x1(p2, m.proj_out), atol=1e-5)


@pytest.mark.parametrize("order", [0, 6, 2.5, True])
def test_order_out_of_range(order):
    with pytest.raises(ValueError, match="order must be an integer from 1 to 5"):
        gnConv(32, order=order)


def test_channels_not_divisible():
    with pytest.raises(ValueError, match=r"not divisible by 2\*\*\(order-1\) = 8"):
        gnConv(36, order=4)
