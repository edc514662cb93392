"""tau-normalisation (Kang et al., ICLR 2020, "Decoupling Representation and
Classifier for Long-Tailed Recognition"): no training, each class's weight
row rescaled ``W_j / ||W_j||^tau`` and its bias dropped. ``tau = 1`` is full
normalisation, 0 the stage-1 classifier without bias; the paper picks tau
in [0, 1] on a validation split (``tools/analysis/choose_tau.py``).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TauNormalization(nn.Module):
    """Rescales the first ``num_classes`` rows of a classifier's weight by
    ``1 / ||W_j||^tau`` and drops their bias; trailing rows (mmdet's
    background) keep their weight and bias."""

    #: no parameters: evaluate with tools/test.py, nothing to train
    post_hoc = True

    def __init__(self, tau: float = 1.0, num_uncalibrated: int = 0) -> None:
        super().__init__()
        self.tau = tau
        self.num_uncalibrated = num_uncalibrated

    def extra_repr(self) -> str:
        return f'tau={self.tau}, num_uncalibrated={self.num_uncalibrated}'

    def forward(self, weight: Tensor, bias: Optional[Tensor]
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """The classifier's ``(weight, bias)`` as tau-norm uses them."""
        num = weight.size(0) - self.num_uncalibrated
        row_scale = weight[:num].flatten(1).norm(dim=1).clamp_min(
            1e-12).pow(-self.tau)
        kept = weight.new_ones(self.num_uncalibrated)
        row_scale = torch.cat([row_scale, kept])
        weight = weight * row_scale.view((-1, ) + (1, ) * (weight.dim() - 1))
        if bias is not None:
            bias = torch.cat([bias.new_zeros(num), bias[num:]])
        return weight, bias


class TauNormLinear(nn.Linear):
    """``nn.Linear`` with tau-normalised class rows (stock parameter names:
    a stage-1 checkpoint loads as it is)."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, tau: float = 1.0,
                 num_uncalibrated: int = 0) -> None:
        super().__init__(in_features, out_features, bias)
        self.calibration = TauNormalization(tau, num_uncalibrated)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, *self.calibration(self.weight, self.bias))
