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
"""
from typing import Iterator, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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
            train with it (METHODS.md: a pitfall of the public code).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_uncalibrated: int = 0,
                 confidence_std: float = 0.01,
                 confidence_relu: bool = False) -> None:
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
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """The identity calibration: alpha = 1, beta = 0, and a confidence
        layer drawn with ``confidence_std`` (bias 0)."""
        self.magnitude.fill_(1.0)
        self.margin.zero_()
        nn.init.normal_(self.confidence.weight, std=self.confidence_std)
        nn.init.zeros_(self.confidence.bias)

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, '
                f'num_uncalibrated={self.num_uncalibrated}')

    def sigma(self, feature: Tensor) -> Tensor:
        """Confidence in (0, 1): one scalar per sample (or per pixel).

        ``feature`` is (N, D) or (N, D, *spatial); the result is (N, 1) or
        (N, 1, *spatial), i.e. a 1x1 convolution on feature maps.
        """
        if feature.dim() == 2:
            score = self.confidence(feature)
        else:
            shape = (1, -1) + (1, ) * (feature.dim() - 2)
            score = (feature * self.confidence.weight.view(shape)).sum(
                dim=1, keepdim=True) + self.confidence.bias.view(shape)
        if self.confidence_relu:
            score = torch.relu(score)
        return torch.sigmoid(score)

    def forward(self, logits: Tensor, feature: Tensor) -> Tensor:
        """Calibrate ``logits`` (N, C + num_uncalibrated, *spatial)."""
        expected = self.num_classes + self.num_uncalibrated
        if logits.size(1) != expected:
            raise ValueError(
                f'AdaptiveCalibration was built for {self.num_classes} '
                f'calibrated + {self.num_uncalibrated} uncalibrated logits '
                f'but got {logits.size(1)}.')
        shape = (1, -1) + (1, ) * (logits.dim() - 2)
        z = logits[:, :self.num_classes]
        # eq. 5 written as z + sigma * ((alpha - 1) z + beta): exactly z at
        # initialisation, bit for bit.
        delta = (self.magnitude.view(shape) - 1) * z + self.margin.view(shape)
        calibrated = z + self.sigma(feature) * delta
        if self.num_uncalibrated:
            calibrated = torch.cat(
                [calibrated, logits[:, self.num_classes:]], dim=1)
        return calibrated


class CosineLinear(nn.Linear):
    """Cosine classifier: ``scale * <x / |x|, w_j / |w_j|>``.

    The learnable scale starts at 20 (DisAlign's cosine variant). No bias by
    default.

    The rows start with unit norm, and ``init_weights()`` (which mmengine
    calls after the head's ``init_cfg``) draws them so again: the gradient
    through ``F.normalize`` scales as ``1 / |w_j|``, so rows drawn with the
    toolboxes' Normal std 0.01 (norm ~0.08 for 64 features) take one huge
    first step (measured: to norm ~37 in the first epoch on LT-Digits at lr
    0.1), after which their effective learning rate (``~ 1 / |w_j|^2``) is
    ~1e-3 of the intended one and the classifier stays where it started:
    stage 1 predicted 2-5 of 10 classes.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = False,
                 scale: float = 20.0,
                 learnable_scale: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.scale = nn.Parameter(
            torch.tensor(float(scale)), requires_grad=learnable_scale)

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Rows of unit norm in random directions; bias 0 (class doc)."""
        nn.init.normal_(self.weight)
        self.weight.div_(self.weight.norm(dim=1, keepdim=True))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (class doc)."""
        self.reset_parameters()

    def normalized_input(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=1)

    def forward(self, x: Tensor) -> Tensor:
        logits = self.scale * F.linear(
            self.normalized_input(x), F.normalize(self.weight, dim=1))
        return logits if self.bias is None else logits + self.bias


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
                 confidence_std: float = 0.01) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_features, num_uncalibrated), in_features,
            num_uncalibrated, confidence_std)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.calibration(super().forward(x), x)


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
                 confidence_std: float = 0.01) -> None:
        super().__init__(in_features, out_features, bias, scale,
                         learnable_scale)
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_features, num_uncalibrated), in_features,
            num_uncalibrated, confidence_std)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        super().init_weights()
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.calibration(super().forward(x), self.normalized_input(x))


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
                 **kwargs) -> None:
        if kernel_size not in (1, (1, 1)):
            raise ValueError('DisAlignConv2d calibrates a per-pixel (1x1) '
                             f'classifier; got kernel_size={kernel_size}.')
        super().__init__(in_channels, out_channels, 1, bias=bias, **kwargs)
        self.calibration = AdaptiveCalibration(
            _num_calibrated(out_channels, num_uncalibrated), in_channels,
            num_uncalibrated, confidence_std, confidence_relu)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (module doc)."""
        self.calibration.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.calibration(super().forward(x), x)


def calibration_modules(
        model: nn.Module) -> Iterator[Tuple[str, AdaptiveCalibration]]:
    """Yield ``(name, module)`` for every calibration in ``model``."""
    for name, module in model.named_modules():
        if isinstance(module, AdaptiveCalibration):
            yield name, module
