"""The fused calibrated classifiers (confidence in the classifier's product,
calibration as two multiply-adds) against the reference formula, the code
before the fusion: ``z + sigma * ((alpha - 1) z + beta)``, ``sigma =
sigmoid(v^T x + b)`` (ReLU'd with ``confidence_relu``), the background
logits passed through, the cosine classifier's confidence on the normalised
feature. Outputs and gradients at 1e-6 in fp32, with the fusion on, off and
automatic, in inference and while autograd records (stage 2)."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from mmlt.core import (AdaptiveCalibration, CosineLinear, DisAlignConv2d,
                       DisAlignCosineLinear, DisAlignLinear)
from mmlt.core.fused_confidence import FUSED_ROWS_MULTIPLE, fused_parameters

TOL = dict(rtol=1e-6, atol=1e-6)
# gradients are sums over samples / pixels, accumulated in another order by
# a convolution's backward than by a multiply-and-sum: rounding of 1e-6
# relative per term adds up to a few 1e-6
GRAD_TOL = dict(rtol=1e-5, atol=1e-5)


def reference_sigma(cal, feature):
    """The pre-fusion confidence: a multiply-and-reduce over channels."""
    weight, bias = cal.confidence.weight, cal.confidence.bias
    if feature.dim() == 2:
        score = feature @ weight.t() + bias
    else:
        shape = (1, -1) + (1, ) * (feature.dim() - 2)
        score = (feature * weight.view(shape)).sum(
            dim=1, keepdim=True) + bias.view(shape)
    if cal.confidence_relu:
        score = torch.relu(score)
    return torch.sigmoid(score)


def reference_calibration(cal, logits, feature):
    shape = (1, -1) + (1, ) * (logits.dim() - 2)
    z = logits[:, :cal.num_classes]
    delta = (cal.magnitude.view(shape) - 1) * z + cal.margin.view(shape)
    out = z + reference_sigma(cal, feature) * delta
    return torch.cat([out, logits[:, cal.num_classes:]], dim=1)


def reference(layer, x):
    """The classifier's output as computed before the fusion."""
    if isinstance(layer, DisAlignCosineLinear):
        feature = F.normalize(x, dim=1)
        logits = layer.scale * F.linear(feature,
                                        F.normalize(layer.weight, dim=1))
        if layer.bias is not None:
            logits = logits + layer.bias
    elif isinstance(layer, DisAlignConv2d):
        feature = x
        logits = F.conv2d(x, layer.weight, layer.bias)
    else:
        feature = x
        logits = F.linear(x, layer.weight, layer.bias)
    return reference_calibration(layer.calibration, logits, feature)


def move_calibration(layer, seed=1):
    """A calibration far from the identity, confidence not saturated."""
    gen = torch.Generator().manual_seed(seed)
    cal = layer.calibration
    with torch.no_grad():
        cal.magnitude.copy_(torch.rand(cal.num_classes, generator=gen) + 0.5)
        cal.margin.copy_(torch.randn(cal.num_classes, generator=gen))
        cal.confidence.weight.copy_(
            torch.randn(cal.confidence.weight.shape, generator=gen) * 0.3)
        cal.confidence.bias.fill_(-0.2)
    return layer


def make(kind, background, bias, relu=False):
    torch.manual_seed(0)
    if kind == 'linear':
        layer = DisAlignLinear(16, 6, bias=bias, num_uncalibrated=background)
    elif kind == 'cosine':
        layer = DisAlignCosineLinear(16, 6, bias=bias,
                                     num_uncalibrated=background)
    else:
        layer = DisAlignConv2d(16, 6, bias=bias, num_uncalibrated=background,
                               confidence_relu=relu)
    with torch.no_grad():
        # rows of norms 0.1 to 3 (the cosine classifier's start at 1)
        scale = torch.rand((layer.weight.size(0), ) + (1, ) *
                           (layer.weight.dim() - 1)) * 2.9 + 0.1
        layer.weight.mul_(scale)
        if bias:
            layer.bias.normal_()
    return move_calibration(layer)


def feature(kind, num):
    gen = torch.Generator().manual_seed(2)
    if kind == 'conv':
        return torch.randn(num, 16, 3, 5, generator=gen) * 2
    return torch.randn(num, 16, generator=gen) * 2


LAYERS = [
    ('linear', 0, True, False), ('linear', 1, True, False),
    ('linear', 0, False, False), ('cosine', 0, False, False),
    ('cosine', 1, False, False), ('cosine', 1, True, False),
    ('conv', 0, True, False), ('conv', 0, True, True),
    ('conv', 1, True, False), ('conv', 0, False, True),
]


@pytest.mark.parametrize('kind, background, bias, relu', LAYERS)
@pytest.mark.parametrize('fuse', [None, True, False])
@pytest.mark.parametrize('num', [2, 40])  # fewer / more samples than rows
def test_inference_equals_reference(kind, background, bias, relu, fuse, num):
    layer = make(kind, background, bias, relu).eval()
    layer.fuse_confidence = fuse
    x = feature(kind, num)
    with torch.no_grad():
        expected = reference(layer, x)
        out = layer(x)
    assert out.shape == expected.shape and out.is_contiguous()
    torch.testing.assert_close(out, expected, **TOL)
    # the background logits pass through
    if background:
        torch.testing.assert_close(out[:, -1], expected[:, -1], rtol=0,
                                   atol=1e-6)


@pytest.mark.parametrize('kind, background, bias, relu', LAYERS)
@pytest.mark.parametrize('fuse', [None, True, False])
def test_stage2_gradients_equal_reference(kind, background, bias, relu,
                                          fuse):
    """Stage 2: the classifier frozen, magnitude / margin / confidence
    learnt; the gradients equal those of the reference formula."""
    layer = make(kind, background, bias, relu).train()
    layer.fuse_confidence = fuse
    for name, param in layer.named_parameters():
        param.requires_grad_(name.startswith('calibration.'))
    x = feature(kind, 40)
    gen = torch.Generator().manual_seed(3)
    out = layer(x)
    weight = torch.randn(out.shape, generator=gen)
    (out * weight).sum().backward()
    grads = {n: p.grad.clone() for n, p in layer.named_parameters()
             if p.requires_grad}
    assert sorted(grads) == ['calibration.confidence.bias',
                             'calibration.confidence.weight',
                             'calibration.magnitude', 'calibration.margin']
    layer.zero_grad()
    expected = reference(layer, x)
    torch.testing.assert_close(out, expected, **TOL)
    (expected * weight).sum().backward()
    for name, param in layer.named_parameters():
        if param.requires_grad:
            torch.testing.assert_close(grads[name], param.grad, **GRAD_TOL,
                                       msg=name)


@pytest.mark.parametrize('kind, background, bias, relu', LAYERS[:6:2])
def test_everything_trainable_gradients_equal_reference(kind, background,
                                                         bias, relu):
    """With the classifier and the input trainable too (fused or not)."""
    for fuse in (True, False):
        layer = make(kind, background, bias, relu)
        layer.fuse_confidence = fuse
        x = feature(kind, 40).requires_grad_()
        layer(x).pow(2).sum().backward()
        grads = [x.grad.clone()] + [p.grad.clone()
                                    for p in layer.parameters()]
        layer.zero_grad()
        x.grad = None
        reference(layer, x).pow(2).sum().backward()
        expected = [x.grad] + [p.grad for p in layer.parameters()]
        for got, want in zip(grads, expected):
            torch.testing.assert_close(got, want, **GRAD_TOL)


def count_products(monkeypatch):
    calls = []
    for name in ('linear', 'conv2d'):
        original = getattr(F, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(F, name, counting)
    return calls


@pytest.mark.parametrize('kind, num, products', [
    ('conv', 2, 1),     # every pixel: one extra output channel
    ('cosine', 2, 1),   # the normalised weight is a copy anyway
    ('linear', 40, 1),  # more samples than outputs: fused
    ('linear', 2, 2),   # 8 x 16 weights to copy for 2 samples: not fused
])
def test_inference_fuses_the_confidence_when_it_pays(monkeypatch, kind, num,
                                                     products):
    """Off a CPU ('meta' stands in for a GPU here) inference fuses when the
    copy moves fewer bytes; on a CPU never (measured: not faster there, and
    the logits stay the stock classifier's bit for bit)."""
    layer = make(kind, 1, kind != 'cosine').eval()
    x = feature(kind, num)
    calls = count_products(monkeypatch)
    with torch.no_grad():
        layer(x)
    assert len(calls) == 2, calls
    layer.to('meta')
    x = x.to('meta')
    calls.clear()
    with torch.no_grad():
        out = layer(x)
    assert len(calls) == products, calls
    assert out.device.type == 'meta' and out.shape[1] == 6
    # while autograd records, the confidence is a product of its own, so
    # that backward computes no gradient for the classifier's rows
    calls.clear()
    layer(x)
    assert len(calls) == 2, calls


def test_calibration_on_its_own_equals_reference():
    torch.manual_seed(0)
    for relu, shape in itertools.product((False, True),
                                         [(4, 8), (2, 8, 3, 5), (2, 8, 7),
                                          (2, 8, 2, 3, 2)]):
        cal = AdaptiveCalibration(3, 8, num_uncalibrated=1,
                                  confidence_relu=relu)
        with torch.no_grad():
            cal.magnitude.uniform_(0.5, 1.5)
            cal.margin.normal_()
            cal.confidence.weight.normal_(std=0.5)
            cal.confidence.bias.fill_(-0.3)
        x = torch.randn(shape)
        logits = torch.randn((shape[0], 4) + shape[2:])
        torch.testing.assert_close(cal(logits, x),
                                   reference_calibration(cal, logits, x),
                                   **TOL)
        torch.testing.assert_close(cal.sigma(x), reference_sigma(cal, x),
                                   **TOL)


def stock_product(layer, x):
    """The stock classifier's logits (the stage-1 layer's forward)."""
    if isinstance(layer, DisAlignCosineLinear):
        return CosineLinear.forward(layer, x)
    if isinstance(layer, DisAlignConv2d):
        return F.conv2d(x, layer.weight, layer.bias)
    return F.linear(x, layer.weight, layer.bias)


def fused_product(layer, x):
    """The logits rows of the product on ``fused_parameters``."""
    conf = layer.calibration.confidence
    if isinstance(layer, DisAlignCosineLinear):
        w, _ = fused_parameters(layer.weight, None, conf, normalize=True)
        return layer.scale * F.linear(F.normalize(x, dim=1),
                                      w)[:, :layer.out_features]
    w, b = fused_parameters(layer.weight, layer.bias, conf)
    if isinstance(layer, DisAlignConv2d):
        return F.conv2d(x, w, b)[:, :layer.out_channels]
    return F.linear(x, w, b)[:, :layer.out_features]


@pytest.mark.parametrize('kind', ['linear', 'cosine', 'conv'])
def test_identity_at_init_is_the_classifiers_own_logits(kind):
    """alpha = 1, beta = 0: the output is the product's logits bit for bit
    (the stock product's unfused, the fused product's rows fused), whatever
    sigma is."""
    torch.manual_seed(0)
    layer = {'linear': DisAlignLinear(16, 6, num_uncalibrated=1),
             'cosine': DisAlignCosineLinear(16, 6, num_uncalibrated=1),
             'conv': DisAlignConv2d(16, 6)}[kind].eval()
    with torch.no_grad():
        layer.calibration.confidence.weight.normal_()
    x = feature(kind, 40)
    with torch.no_grad():
        for fuse, product in ((True, fused_product), (False, stock_product)):
            layer.fuse_confidence = fuse
            assert torch.equal(layer(x), product(layer, x)), fuse


@pytest.mark.parametrize('kind', ['linear', 'cosine', 'conv'])
@pytest.mark.parametrize('fuse', [True, False])
@pytest.mark.parametrize('background', [0, 1])
def test_autocast_keeps_the_stock_heads_dtype(kind, fuse, background):
    """Under bf16 autocast the calibrated logits are bf16, as the stock
    classifier's (not promoted to fp32 by the fp32 calibration), and close
    to the fp32 result."""
    layer = make(kind, background, kind != 'cosine').eval()
    layer.fuse_confidence = fuse
    x = feature(kind, 40)
    with torch.no_grad():
        full = layer(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            stock = stock_product(layer, x)
            half = layer(x)
    assert half.dtype == stock.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), full, rtol=2e-2, atol=5e-2)


def test_grouped_calibrated_convolution_is_refused():
    with pytest.raises(ValueError, match='groups'):
        DisAlignConv2d(16, 6, groups=2)


@pytest.mark.parametrize('outputs', [6, 7, 8, 15])
@pytest.mark.parametrize('bias', [True, False])
def test_fused_parameters_rows(outputs, bias):
    """``[W; v; 0]``: the classifier's rows, the confidence's, zero rows to a
    multiple of FUSED_ROWS_MULTIPLE; the same with autograd recording."""
    layer = DisAlignLinear(16, outputs, bias=bias)
    move_calibration(layer)
    conf = layer.calibration.confidence
    for recording in (False, True):
        with torch.set_grad_enabled(recording):
            w, b = fused_parameters(layer.weight, layer.bias, conf)
        assert w.requires_grad == recording
        assert w.size(0) % FUSED_ROWS_MULTIPLE == 0
        assert outputs + 1 <= w.size(0) < outputs + 1 + FUSED_ROWS_MULTIPLE
        assert torch.equal(w[:outputs], layer.weight)
        assert torch.equal(w[outputs], conf.weight[0])
        assert not w[outputs + 1:].any()
        if bias:
            assert torch.equal(b[:outputs], layer.bias)
            assert torch.equal(b[outputs:outputs + 1], conf.bias)
            assert not b[outputs + 1:].any()
        else:
            assert b is None
