"""Post-hoc logit adjustment (Menon et al., ICLR 2021, "Long-tail learning
via logit adjustment"): predict ``argmax_y z_y - tau * log(pi_y)``, ``pi``
the training class prior; for a test set whose label prior ``t`` is known
and not uniform (the test-agnostic protocol), ``argmax_y z_y - tau *
log(pi_y) + tau * log(t_y)``. No training: a stage-1 checkpoint loads as it is
(the offsets are a function of the config, not saved).

The classifiers keep their stock parameter names and pass their logits
through ``calibration`` (a ``LogitAdjustment``); trailing logits that are
not classes of the prior (mmdet's background) pass through unchanged.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .calibration import CosineLinear
from .class_counts import UsesClassCounts


def log_prior(counts: Tensor) -> Tensor:
    """``log(n_c / sum n)``; a class never seen in training gets the prior
    of the rarest seen one (an infinite offset would always predict it)."""
    counts = counts.double()
    if not (counts > 0).any():
        raise ValueError('the class counts are all 0: no prior to adjust by.')
    counts = torch.where(counts > 0, counts, counts[counts > 0].min())
    return (counts / counts.sum()).log()


def prior_margin(counts, tau: float, confidence: float = 0.5) -> Tensor:
    """DisAlign margins ``beta`` at which the calibration starts as post-hoc
    logit adjustment: ``-tau * log(prior) / confidence``, centred (softmax
    ignores a shift). The calibration adds ``sigma(x) * beta`` to the logits
    and ``sigma`` starts at ``confidence`` (0.5: the confidence layer's
    bias starts at 0), so the calibrated logits start at ``z - tau *
    log(prior)`` (to the spread of ``sigma`` around 0.5). With ``tau = 1``
    this is the minimiser of the class-balanced loss (G-RW with ``rho =
    1``) for a stage 1 whose probabilities are calibrated (Menon et al.):
    stage 2 then learns only what that assumption misses."""
    if not 0 < confidence <= 1:
        raise ValueError(f'confidence must be in (0, 1], got {confidence}.')
    offset = -float(tau) * log_prior(torch.as_tensor(counts)) / confidence
    return (offset - offset.mean()).float()


def loss_prior_margin(head, loss, start_tau: Optional[float]):
    """``prior_margin`` of the class counts of ``loss`` (the G-RW loss of a
    DisAlign head), for ``start_tau``; None for ``start_tau=None`` (the
    identity start)."""
    if start_tau is None:
        return None
    if not isinstance(loss, UsesClassCounts):
        raise ValueError(
            f'{type(head).__name__}: start_tau needs the training class '
            f'counts, which it takes from the loss; {type(loss).__name__} '
            "has none. Use dict(type='GRWKLLoss', frequency_file=...).")
    return prior_margin(loss.class_counts, start_tau)


class LogitAdjustment(UsesClassCounts):
    """``z_c - tau * log(pi_c)`` for the first ``C`` logits.

    Args:
        tau: the adjustment's strength; 1 is Menon et al.'s default,
            ``tools/analysis/choose_tau.py`` picks it on the val split.
        class_counts / frequency_file / count_kind: the training counts
            (``UsesClassCounts``).
        num_uncalibrated: trailing logits left as they are (mmdet's
            background). Defaults to 0.
        target_prior: the test set's label prior (any positive numbers
            per class, normalised here); None: uniform.
    """

    #: no parameters: evaluate with tools/test.py, nothing to train
    post_hoc = True

    def __init__(self,
                 tau: float = 1.0,
                 class_counts: Optional[Sequence[float]] = None,
                 frequency_file: Optional[str] = None,
                 count_kind: Optional[str] = None,
                 num_uncalibrated: int = 0,
                 target_prior: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        counts = self.read_class_counts(class_counts, frequency_file,
                                        count_kind)
        self.num_uncalibrated = num_uncalibrated
        prior = log_prior(counts)
        if target_prior is not None:
            target = torch.as_tensor(target_prior, dtype=torch.float64)
            if target.shape != counts.shape or (target < 0).any():
                raise ValueError(
                    f'LogitAdjustment: target_prior needs one value >= 0 '
                    f'per class ({len(counts)}), got {list(target_prior)}.')
            # the offset is -tau * (log pi - log t)
            prior = prior - log_prior(target)
        self.register_buffer('log_prior', prior.float(), persistent=False)
        self.target_prior = target_prior
        self.tau = tau

    def extra_repr(self) -> str:
        target = '' if self.target_prior is None else ', target prior given'
        return (f'tau={self.tau}, num_classes={self.num_classes}, '
                f'source={self.source!r}{target}')

    def forward(self, logits: Tensor) -> Tensor:
        expected = self.num_classes + self.num_uncalibrated
        if logits.size(1) != expected:
            raise ValueError(
                f'LogitAdjustment has class counts for {self.num_classes} '
                f'classes (from {self.source}) + {self.num_uncalibrated} '
                f'uncalibrated logits, but the classifier outputs '
                f'{logits.size(1)}. Use a frequency file computed on this '
                'dataset.')
        shape = (1, -1) + (1, ) * (logits.dim() - 2)
        # 0 for the uncalibrated logits: one addition over every logit
        offset = F.pad(-self.tau * self.log_prior, (0, self.num_uncalibrated))
        return logits + offset.to(logits.dtype).view(shape)


class AdjustsLogits:
    """Mixin for a classifier whose logits pass through
    ``self.calibration``."""

    def forward(self, x: Tensor) -> Tensor:
        return self.calibration(super().forward(x))


class LogitAdjustedLinear(AdjustsLogits, nn.Linear):
    """``nn.Linear`` with logit adjustment; ``**adjustment`` are
    ``LogitAdjustment``'s arguments (``tau``, ``frequency_file``, ...)."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, **adjustment) -> None:
        super().__init__(in_features, out_features, bias)
        self.calibration = LogitAdjustment(**adjustment)


class LogitAdjustedCosineLinear(AdjustsLogits, CosineLinear):
    """``CosineLinear`` with logit adjustment."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = False, scale: float = 20.0,
                 learnable_scale: bool = True, **adjustment) -> None:
        super().__init__(in_features, out_features, bias, scale,
                         learnable_scale)
        self.calibration = LogitAdjustment(**adjustment)


class LogitAdjustedConv2d(AdjustsLogits, nn.Conv2d):
    """A 1x1 convolution classifier (mmseg's ``conv_seg``) with per-pixel
    logit adjustment."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=1,
                 bias: bool = True, tau: float = 1.0, class_counts=None,
                 frequency_file: Optional[str] = None,
                 count_kind: Optional[str] = None,
                 num_uncalibrated: int = 0, **kwargs) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias=bias,
                         **kwargs)
        self.calibration = LogitAdjustment(tau, class_counts, frequency_file,
                                           count_kind, num_uncalibrated)
