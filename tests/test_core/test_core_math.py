"""The toolbox-free math against hand-computed values."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmlt.core import (AdaptiveCalibration, CosineLinear, DisAlignConv2d,
                       DisAlignCosineLinear, DisAlignLinear,
                       effective_number_weights, grw_weights)


def test_grw_weights_by_hand():
    # (1 / r)^1 = [0.01, 0.1, 1], sum 1.11, times C = 3.
    w = grw_weights([100, 10, 1], rho=1.0)
    expected = torch.tensor([0.01, 0.1, 1.0]) / 1.11 * 3
    assert torch.allclose(w, expected, rtol=1e-6)
    # rho = 0.5: sqrt of the ratios.
    w = grw_weights([100, 25], rho=0.5)
    expected = torch.tensor([0.1, 0.2]) / 0.3 * 2
    assert torch.allclose(w, expected, rtol=1e-6)


def test_grw_rho_zero_is_uniform_and_mean_one():
    assert torch.equal(grw_weights([5000, 3, 1], 0.0), torch.ones(3))
    assert grw_weights([7, 3, 1, 1e9], 1.3).mean().item() == pytest.approx(1.0)


def test_grw_huge_pixel_counts_stay_finite():
    w = grw_weights([3e12, 1.0, 5e6], rho=1.5)
    assert torch.isfinite(w).all() and w[1] > w[2] > w[0]


def test_grw_zero_count_gets_rarest_weight():
    w = grw_weights([100, 0, 4], rho=1.0)
    assert torch.isfinite(w).all()
    assert w[1].item() == pytest.approx(w[2].item())


@pytest.mark.parametrize('rho', [-0.1, float('nan'), float('inf')])
def test_grw_rho_out_of_range(rho):
    with pytest.raises(ValueError, match='rho'):
        grw_weights([1, 2], rho)


@pytest.mark.parametrize('counts', [[], [0, 0], [1, -1], [1, float('nan')]])
def test_grw_bad_counts(counts):
    with pytest.raises(ValueError):
        grw_weights(counts, 1.0)


def test_effective_number_weights_by_hand():
    # (1 - b) / (1 - b^n): n=1 -> 1, n=2 -> 0.1 / 0.19; then mean 1.
    w = effective_number_weights([1, 2], beta=0.9)
    raw = torch.tensor([1.0, 0.1 / 0.19])
    assert torch.allclose(w, raw / raw.sum() * 2, rtol=1e-6)
    assert torch.equal(effective_number_weights([10, 3], 0.0), torch.ones(2))
    for beta in (-0.1, 1.0, 2):
        with pytest.raises(ValueError, match='beta'):
            effective_number_weights([1, 2], beta)


def test_calibration_eq5_by_hand():
    cal = AdaptiveCalibration(num_classes=2, in_channels=3, num_uncalibrated=1)
    with torch.no_grad():
        cal.magnitude.copy_(torch.tensor([2.0, 1.0]))
        cal.margin.copy_(torch.tensor([0.0, 1.0]))
        cal.confidence.weight.zero_()
        cal.confidence.bias.fill_(math.log(3))  # sigma = 0.75
    z = torch.tensor([[1.0, 2.0, 5.0]])
    out = cal(z, torch.randn(1, 3))
    # s = [2, 3]; z_hat = 0.75 s + 0.25 z = [1.75, 2.75]; background kept.
    assert torch.allclose(out, torch.tensor([[1.75, 2.75, 5.0]]))


def test_calibration_is_identity_at_init_bit_for_bit():
    torch.manual_seed(0)
    linear = DisAlignLinear(16, 6, num_uncalibrated=1)
    x = torch.randn(5, 16)
    assert torch.equal(linear(x), F.linear(x, linear.weight, linear.bias))
    conv = DisAlignConv2d(8, 4)
    x = torch.randn(2, 8, 5, 5)
    assert torch.equal(conv(x), F.conv2d(x, conv.weight, conv.bias))


def test_confidence_starts_near_half_with_gradient():
    # 2048 non-negative features: the public code's constant 0.1 weights
    # saturate sigmoid here; the small normal init must not.
    torch.manual_seed(0)
    cal = AdaptiveCalibration(10, 2048)
    x = torch.relu(torch.randn(64, 2048))
    sigma = cal.sigma(x)
    assert abs(sigma.mean().item() - 0.5) < 0.1
    # far from saturation (the public init gives sigma(1 - sigma) ~ 0)
    assert (sigma * (1 - sigma)).min().item() > 0.15


def test_sigma_per_pixel_matches_1x1_conv():
    torch.manual_seed(0)
    cal = AdaptiveCalibration(3, 4)
    x = torch.randn(2, 4, 3, 5)
    expected = torch.sigmoid(
        F.conv2d(x, cal.confidence.weight.view(1, 4, 1, 1),
                 cal.confidence.bias))
    assert torch.allclose(cal.sigma(x), expected, atol=1e-6)


def test_cosine_linear_by_hand():
    layer = CosineLinear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 0.0], [1.0, 1.0]]))
    out = layer(torch.tensor([[0.0, 2.0]]))
    assert torch.allclose(out, torch.tensor([[0.0, 20 / math.sqrt(2)]]))
    assert layer.scale.requires_grad and layer.scale.item() == 20.0


def test_cosine_disalign_confidence_sees_normalised_feature():
    torch.manual_seed(0)
    layer = DisAlignCosineLinear(4, 3)
    x = torch.randn(2, 4)
    assert torch.equal(layer(x), CosineLinear.forward(layer, x))
    with torch.no_grad():
        layer.calibration.margin.fill_(1.0)
    sigma = layer.calibration.sigma(F.normalize(x, dim=1))
    assert torch.allclose(layer(x) - CosineLinear.forward(layer, x),
                          sigma.expand(2, 3), atol=1e-6)
    # scaling the input changes nothing: sigma saw the normalised feature.
    assert torch.allclose(layer(x), layer(10 * x), atol=1e-5)


def test_calibrated_layers_keep_stock_state_dict_keys():
    stock = torch.nn.Linear(8, 5).state_dict()
    layer = DisAlignLinear(8, 5)
    missing, unexpected = layer.load_state_dict(stock, strict=False)
    assert unexpected == []
    assert sorted(missing) == [
        'calibration.confidence.bias', 'calibration.confidence.weight',
        'calibration.magnitude', 'calibration.margin'
    ]


def test_bad_calibration_arguments():
    with pytest.raises(ValueError, match='num_uncalibrated'):
        DisAlignLinear(4, 2, num_uncalibrated=2)
    with pytest.raises(ValueError, match='1x1'):
        DisAlignConv2d(4, 2, kernel_size=3)
    cal = AdaptiveCalibration(3, 4)
    with pytest.raises(ValueError, match='3 calibrated'):
        cal(torch.randn(2, 4), torch.randn(2, 4))
