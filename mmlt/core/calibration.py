"""DisAlign's adaptive calibration function, and classifiers that carry it.

For the original logits ``z`` of a frozen classifier and its input feature
``x`` (paper eq. 4 and 5)::

    s_j     = alpha_j * z_j + beta_j
    z_hat_j = sigma(x) * s_j + (1 - sigma(x)) * z_j,   sigma(x) = sigmoid(v^T x + b)

mmlt implements eq. 5 for every task. The paper's rewrite of it (eq. 6) is
algebraically wrong, and the public classification code that follows eq. 6
outputs ``2 z`` at initialisation.

The calibrated classifiers subclass ``nn.Linear`` / ``nn.Conv2d`` and keep
their parameter names, so a stage-1 checkpoint of the stock classifier loads
into them with only the ``calibration.*`` keys new.

The toolboxes' heads initialise their classifier through ``init_cfg``
(mmdet: Normal std 0.01 over the whole ``fc_cls``; mmseg: over ``conv_seg``;
mmpretrain: every ``Linear``), which would also redraw the confidence layer
inside it. mmengine's ``BaseModule.init_weights`` calls a child's
``init_weights()`` after applying the parent's ``init_cfg``, so each
calibrated classifier's ``init_weights()`` puts its calibration back to the
identity with the configured ``confidence_std``.

Cost. In inference on a GPU the classifiers compute the confidence score
in the same product as their logits when that moves fewer bytes
(``mmlt.core.fused_confidence``, whose doc says when; on a CPU and while
autograd records it is a product of its own). The calibration itself is
three passes over the logits (``z * (alpha - 1)``, ``+ beta``, ``z + sigma
* delta`` as one ``addcmul``; in inference into one buffer) in the logits'
dtype, the stock head's output dtype under autocast. In fp32 the outputs
equal the formula above to rounding (tests at 1e-6); fused, the logits are
the fused product's, equal to the stock classifier's to rounding.

The cosine classifier that ``DisAlignCosineLinear`` calibrates is
``mmlt.core.cosine_linear.CosineLinear`` (also importable from here).
"""
from typing import Callable, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .cosine_linear import CosineLinear
from .fused_confidence import (autograd_records, fused_parameters,
                               fusion_pays, logits_and_score, split_fused)


class AdaptiveCalibration(nn.Module):
    """Per-class magnitude and margin, blended by a per-input confidence.

    Args:
        num_classes: number of calibrated logits ``C``.
        in_channels: channels of the classifier's input feature.
        num_uncalibrated: trailing logits that pass through unchanged
            (mmdet's background logit). Defaults to 0.
        confidence_std: std of the confidence layer's initial weights. Small
            so ``sigma`` starts near 0.5 and has gradient; the public code's
            constant 0.1 on 2048 non-negative features saturates it at 1.
        confidence_relu: ``sigma = sigmoid(ReLU(v^T x + b))``, as DisAlign's
            public mmseg 0.x head computes it (sigma >= 0.5). Only for
            evaluating its published checkpoints exactly
            (``tools/model_converters/disalign_mmseg0x_to_mmlt.py``); do not
            train with it (a pitfall of the public code: sigma >= 0.5).
        initial_margin: the margins ``beta`` to start from (C values), e.g.
            ``mmlt.core.logit_adjustment.prior_margin``: the logit
            adjustment's offsets, so stage 2 starts where post-hoc logit
            adjustment ends. None (default): 0, the paper's identity start.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_uncalibrated: int = 0,
                 confidence_std: float = 0.01,
                 confidence_relu: bool = False,
                 initial_margin: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'AdaptiveCalibration needs >= 1 calibrated '
                             f'class, got num_classes={num_classes}.')
        self.num_classes = num_classes
        self.num_uncalibrated = num_uncalibrated
        self.confidence_relu = confidence_relu
        # alpha = 1, beta = 0: the calibrated logits equal the stage-1 ones.
        self.confidence_std = confidence_std
        self.magnitude = nn.Parameter(torch.ones(num_classes))
        self.margin = nn.Parameter(torch.zeros(num_classes))
        self.confidence = nn.Linear(in_channels, 1)
        # not in the state dict: a function of the config, as the logit
        # adjustment's prior
        self.register_buffer(
            'initial_margin',
            None if initial_margin is None else _margins(
                initial_margin, num_classes),
            persistent=False)
        # the tau of a start at the logit adjustment whose prior is still to
        # come (``start_from_prior``), else None
        self.pending_start_tau: Optional[float] = None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """The start of stage 2: alpha = 1, beta = ``initial_margin`` (0 by
        default: the identity), and a confidence layer drawn with
        ``confidence_std`` (bias 0, so sigma starts near 0.5)."""
        if self.pending_start_tau is not None:
            raise ValueError(
                f'a calibration of {self.num_classes} classes has '
                f'start_tau={self.pending_start_tau} but no class counts to '
                'start from: build the model with DisAlignRunner (it takes '
                "them from the head's G-RW loss), or give the classifier "
                'frequency_file= or class_counts=.')
        self.magnitude.fill_(1.0)
        if self.initial_margin is None:
            self.margin.zero_()
        else:
            self.margin.copy_(self.initial_margin)
        nn.init.normal_(self.confidence.weight, std=self.confidence_std)
        nn.init.zeros_(self.confidence.bias)

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, '
                f'num_uncalibrated={self.num_uncalibrated}')

    def start_from_prior(self, class_counts) -> None:
        """Resolve ``pending_start_tau`` with the training counts: the
        margins start at ``prior_margin(class_counts, tau)``."""
        from .logit_adjustment import prior_margin
        tau, self.pending_start_tau = self.pending_start_tau, None
        self.initial_margin = _margins(prior_margin(class_counts, tau),
                                       self.num_classes).to(
                                           self.margin.device)
        with torch.no_grad():  # no new draw: the random stream stays as is
            self.margin.copy_(self.initial_margin)

    def score(self, feature: Tensor) -> Tensor:
        """The confidence's pre-activation ``v^T x + b``: (N, 1) for an
        (N, D) feature, (N, 1, *spatial) for (N, D, *spatial), i.e. a 1x1
        convolution on feature maps."""
        weight, bias = self.confidence.weight, self.confidence.bias
        if feature.dim() == 2:
            return F.linear(feature, weight, bias)
        if feature.dim() == 4:
            return F.conv2d(feature, weight.view(1, -1, 1, 1), bias)
        return F.linear(feature.movedim(1, -1), weight, bias).movedim(-1, 1)

    def activate(self, score: Tensor) -> Tensor:
        """``sigmoid(score)`` (``sigmoid(ReLU(score))`` with
        ``confidence_relu``)."""
        if self.confidence_relu:
            score = torch.relu(score)
        return torch.sigmoid(score)

    def sigma(self, feature: Tensor) -> Tensor:
        """Confidence in (0, 1): one scalar per sample (or per pixel).

        ``feature`` is (N, D) or (N, D, *spatial); the result is (N, 1) or
        (N, 1, *spatial).
        """
        return self.activate(self.score(feature))

    def forward(self, logits: Tensor, feature: Tensor) -> Tensor:
        """Calibrate ``logits`` (N, C + num_uncalibrated, *spatial)."""
        return self.calibrate(logits, self.score(feature))

    def calibrate(self, logits: Tensor, score: Tensor) -> Tensor:
        """Calibrate ``logits`` given the confidence's pre-activation
        ``score`` (N, 1, *spatial), e.g. the extra row of a fused product.

        eq. 5 written as ``z + sigma * ((alpha - 1) z + beta)``: exactly z
        at initialisation, bit for bit. Three passes over the logits (a
        product, a sum, a fused multiply-add), in the logits' dtype.
        """
        expected = self.num_classes + self.num_uncalibrated
        if logits.size(1) != expected:
            raise ValueError(
                f'AdaptiveCalibration was built for {self.num_classes} '
                f'calibrated + {self.num_uncalibrated} uncalibrated logits '
                f'but got {logits.size(1)}.')
        dtype = logits.dtype
        shape = (1, -1) + (1, ) * (logits.dim() - 2)
        z = logits[:, :self.num_classes]
        sigma = self.activate(score).to(dtype)
        # alpha - 1 before the cast: 1.003 is 1.0 in bf16, 0.003 is not
        scale = (self.magnitude - 1).to(dtype).view(shape)
        margin = self.margin.to(dtype).view(shape)
        recording = autograd_records(logits, score, scale, margin)
        num = self.num_classes
        if recording:
            delta = z * scale
            delta.add_(margin)  # (z * scale) saved nothing that add_ changes
            calibrated = torch.addcmul(z, sigma, delta)
            if self.num_uncalibrated:
                calibrated = torch.cat([calibrated, logits[:, num:]], dim=1)
            return calibrated
        # Inference: the same passes in one output buffer. z * scale, then
        # + margin, not addcmul(margin, scale, z): on a CPU an op with two
        # operands broadcast along the innermost dimension (the per-class
        # scale and margin over a feature map's pixels) is not vectorised,
        # 2.5x slower than both.
        if self.num_uncalibrated:
            out = torch.empty_like(logits,
                                   memory_format=torch.contiguous_format)
            out[:, num:] = logits[:, num:]
            delta = torch.mul(z, scale, out=out[:, :num])
        else:
            out = delta = torch.mul(z, scale)
        delta.add_(margin)
        torch.addcmul(z, sigma, delta, out=delta)
        return out


def _margins(values: Sequence[float], num_classes: int) -> Tensor:
    margins = torch.as_tensor(values, dtype=torch.float32).flatten()
    if margins.numel() != num_classes or not torch.isfinite(margins).all():
        raise ValueError(f'initial_margin must be {num_classes} finite '
                         f'numbers (one per calibrated class), got '
                         f'{margins.numel()}: {margins.tolist()[:8]}.')
    return margins


def _num_calibrated(out_features: int, num_uncalibrated: int) -> int:
    if not 0 <= num_uncalibrated < out_features:
        raise ValueError(
            f'num_uncalibrated must be in [0, {out_features}) for a '
            f'classifier with {out_features} outputs, got {num_uncalibrated}.')
    return out_features - num_uncalibrated


class DisAlignLinear(nn.Linear):
    """A linear classifier followed by DisAlign's adaptive calibration.

    ``weight`` and ``bias`` are the (frozen) stage-1 classifier; only
    ``calibration`` is learnt in stage 2.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = True,
                 num_uncalibrated: int = 0,
                 confidence_std: float = 0.01,
                 initial_margin: Optional[Sequence[float]] = None) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_features, num_uncalibrated), in_features,
            num_uncalibrated, confidence_std, initial_margin=initial_margin)

    #: Compute the confidence in the classifier's product (module doc):
    #: None (default) in inference off a CPU when that moves fewer bytes
    #: (fewer outputs than samples), True always, False never.
    fuse_confidence: Optional[bool] = None

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return calibrated_product(self, x, self.out_features, F.linear)


class DisAlignCosineLinear(CosineLinear):
    """``CosineLinear`` followed by DisAlign's calibration ("DisAlign*").

    The confidence layer sees the normalised feature, as in the paper.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = False,
                 scale: float = 20.0,
                 learnable_scale: bool = True,
                 num_uncalibrated: int = 0,
                 confidence_std: float = 0.01,
                 initial_margin: Optional[Sequence[float]] = None) -> None:
        super().__init__(in_features, out_features, bias, scale,
                         learnable_scale)
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_features, num_uncalibrated), in_features,
            num_uncalibrated, confidence_std, initial_margin=initial_margin)

    #: As ``DisAlignLinear.fuse_confidence``; None fuses in every inference
    #: off a CPU (the normalised weight is a copy anyway: the fused one
    #: replaces it).
    fuse_confidence: Optional[bool] = None

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        super().init_weights()
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        feature = self.normalized_input(x)
        confidence = self.calibration.confidence
        recording = autograd_records(x, self.weight, self.scale, self.bias,
                                     *confidence.parameters())
        fuse = self.fuse_confidence
        if fuse is None:
            fuse = not recording and fusion_pays(None, x)
        if not fuse:
            logits = self.scale * F.linear(feature,
                                           F.normalize(self.weight, dim=1))
            score = self.calibration.score(feature)
        else:
            weight, _ = fused_parameters(self.weight, None, confidence,
                                         normalize=True)
            logits, score = split_fused(F.linear(feature, weight),
                                        self.out_features, confidence, False)
            logits = self.scale * logits
        if self.bias is not None:
            logits = logits + self.bias
        return self.calibration.calibrate(logits, score)


class DisAlignConv2d(nn.Conv2d):
    """A 1x1 convolution classifier (mmseg's ``conv_seg``) with calibration.

    Calibration is per pixel: ``sigma`` is a 1x1 convolution of the feature
    map, magnitude and margin broadcast over it.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size=1,
                 bias: bool = True,
                 num_uncalibrated: int = 0,
                 confidence_std: float = 0.01,
                 confidence_relu: bool = False,
                 initial_margin: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        if kernel_size not in (1, (1, 1)):
            raise ValueError('DisAlignConv2d calibrates a per-pixel (1x1) '
                             f'classifier; got kernel_size={kernel_size}.')
        super().__init__(in_channels, out_channels, 1, bias=bias, **kwargs)
        if self.groups != 1:
            raise ValueError('DisAlignConv2d: the confidence reads every '
                             f'input channel; got groups={self.groups}.')
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_channels, num_uncalibrated), in_channels,
            num_uncalibrated, confidence_std, confidence_relu,
            initial_margin)

    #: As ``DisAlignLinear.fuse_confidence`` (None: in inference off a CPU,
    #: one extra output channel of the 1x1 convolution).
    fuse_confidence: Optional[bool] = None

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return calibrated_product(self, x, self.out_channels,
                                  self._conv_forward)


def calibrated_product(layer: nn.Module, x: Tensor, num_outputs: int,
                       product: Callable) -> Tensor:
    """The forward of ``DisAlignLinear`` / ``DisAlignConv2d``: the layer's
    ``product`` (linear or 1x1 convolution) and the confidence, in one
    product when ``layer.fuse_confidence`` says so (module doc), then the
    calibration."""
    fuse = layer.fuse_confidence
    if fuse is None:
        fuse = (fusion_pays(num_outputs, x) and not autograd_records(
            x, layer.weight, layer.bias,
            *layer.calibration.confidence.parameters()))
    logits, score = logits_and_score(layer.weight, layer.bias,
                                     layer.calibration.confidence, x,
                                     product, fuse)
    return layer.calibration.calibrate(logits, score)


def calibration_modules(
        model: nn.Module) -> Iterator[Tuple[str, AdaptiveCalibration]]:
    """Yield ``(name, module)`` for every calibration in ``model``."""
    for name, module in model.named_modules():
        if isinstance(module, AdaptiveCalibration):
            yield name, module
