"""DisAlign's generalized re-weighting (G-RW) KL loss.

The reference distribution for sample ``i`` is ``p_r(c | x_i) = w_c t_ic``
(``t_i`` the one-hot label or a Mixup/CutMix soft target, ``w`` the G-RW
weights) and the loss is ``KL(p_r || p_m)`` with ``p_m = softmax(logits)``.
KL's other term, ``sum_c p_r log p_r``, does not depend on the model, so the
value computed is the class-weighted cross-entropy ``-sum_c w_c t_ic log
p_m(c)``: the same gradients, and ``rho = 0`` is exactly cross-entropy.

Normalisation: the weights average 1 over the classes (``grw_weights``
multiplies the paper's normalised weights by ``C``, as the public code does),
and ``reduction='mean'`` follows DisAlign's public code, whose learning
rates assume it (``normalization``):

* ``'weighted_mean'`` (classification, detection; the public code's
  ``F.cross_entropy(weight=C * w)``): the weighted sum divided by the sum of
  the weights that entered it, ``sum_i w_{y_i} l_i / sum_i w_{y_i}``. The loss
  stays on the scale of cross-entropy whatever ``rho`` and whatever the
  batch's tail content. Soft targets (Mixup / CutMix) generalise it as
  ``sum_i sum_c w_c t_ic l_ic / sum_i sum_c w_c t_ic`` (the hard case when
  ``t`` is one-hot). Sample weights (mmdet's label weights) multiply both
  sums. The toolbox's ``avg_factor`` is not used.
* ``'mean_all'`` (segmentation; mmseg's ``CrossEntropyLoss(class_weight=C *
  w)`` with its default ``avg_non_ignore=False``, as the public mmseg code
  trains): the weighted sum divided by the number of all pixels of the
  batch, ignored ones included.

With ``rho = 0`` both equal the toolbox's own cross-entropy.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .class_counts import UsesClassCounts
from .reweighting import grw_weights


NORMALIZATIONS = ('weighted_mean', 'mean_all')


def grw_kl_loss(logits: Tensor,
                target: Tensor,
                class_weights: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                reduction: str = 'mean',
                normalization: str = 'weighted_mean') -> Tensor:
    """Class-weighted KL / cross-entropy loss (see the module docstring).

    Args:
        logits: (N, K) or (N, K, *spatial).
        target: hard labels (N,) / (N, *spatial), or soft targets of the
            same shape as ``logits`` (probabilities over K classes).
        class_weights: (K,) weight of each class.
        weight: optional per-sample (per-pixel) weights, shape of the labels.
        ignore_index: hard labels equal to it contribute nothing.
        reduction: 'none', 'sum' or 'mean'.
        normalization: the divisor of 'mean': 'weighted_mean' (the sum of
            the weights that entered the loss) or 'mean_all' (the number of
            samples / pixels, ignored ones included).
    """
    if logits.size(1) != class_weights.numel():
        raise ValueError(
            f'the classifier outputs {logits.size(1)} logits per sample but '
            f'the class weights cover {class_weights.numel()} classes.')
    if normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, '
                         f'got {normalization!r}.')
    class_weights = class_weights.to(logits)
    log_prob = F.log_softmax(logits, dim=1)
    shape = (1, -1) + (1, ) * (logits.dim() - 2)
    if target.shape == logits.shape and target.is_floating_point():
        # Soft targets: p_r(c) = w_c t_c.
        weighted_target = class_weights.view(shape) * target
        loss = -(weighted_target * log_prob).sum(dim=1)
        reference_mass = weighted_target.sum(dim=1)
    else:
        target = target.long()
        valid = torch.ones_like(target, dtype=torch.bool)
        if ignore_index is not None:
            valid = target != ignore_index
        safe_target = torch.where(valid, target, torch.zeros_like(target))
        invalid = (safe_target < 0) | (safe_target >= logits.size(1))
        try:
            # No host read of the check (on a GPU it would wait for the
            # device every step): an asynchronous device-side assertion,
            # which on a CPU raises here.
            torch._assert_async(
                ~invalid.any(), f'a label is outside [0, {logits.size(1)}) '
                f'and is not the ignore index {ignore_index}.')
        except RuntimeError:
            raise ValueError(
                f'label {safe_target[invalid][0].item()} is outside '
                f'[0, {logits.size(1)}) and is not the ignore index '
                f'{ignore_index}.') from None
        nll = -log_prob.gather(1, safe_target.unsqueeze(1)).squeeze(1)
        reference_mass = class_weights[safe_target] * valid
        loss = reference_mass * nll
    if weight is not None:
        weight = weight.to(loss).reshape(loss.shape)
        loss = loss * weight
        reference_mass = reference_mass * weight
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction != 'mean':
        raise ValueError(f"reduction must be 'none', 'sum' or 'mean', "
                         f'got {reduction!r}.')
    if normalization == 'mean_all':
        return loss.sum() / max(loss.numel(), 1)
    # An all-ignored batch gives 0, not 0 / 0.
    return loss.sum() / reference_mass.sum().clamp(
        min=torch.finfo(loss.dtype).tiny)


class GRWKLLoss(UsesClassCounts):
    """G-RW KL loss as a module, in the calling convention of all three
    OpenMMLab toolboxes: ``(cls_score, label, weight=None, avg_factor=None,
    reduction_override=None, ignore_index=None)``.

    Args:
        class_counts: training frequency of each class, inline.
        frequency_file: an mmlt class-frequency JSON (written by
            ``tools/analysis/class_frequency.py``); exclusive with
            ``class_counts``.
        count_kind: which counts of the file to use ('images', 'instances',
            'pixels'); defaults to the file's primary counts.
        rho: G-RW exponent (>= 0).
        background: the classifier has one more, trailing logit for the
            background (mmdet). It is weighted ``background_weight`` and the
            G-RW weights cover the foreground classes only.
        background_weight: weight of the background logit. Defaults to 1.
        ignore_index: labels to ignore when the caller passes none.
        reduction: 'mean', 'sum' or 'none'.
        normalization: the divisor of 'mean' (module docstring):
            'weighted_mean' (the public classification / detection code) or
            'mean_all' (the public segmentation code). The toolbox adapters
            set their toolbox's; the ``avg_factor`` the heads pass is unused.
        loss_weight: multiplier of the loss.
        loss_name: the key in the loss dict (mmseg); must start with 'loss_'.
    """

    def __init__(self,
                 class_counts: Optional[Sequence[float]] = None,
                 frequency_file: Optional[str] = None,
                 count_kind: Optional[str] = None,
                 rho: float = 1.0,
                 background: bool = False,
                 background_weight: float = 1.0,
                 ignore_index: Optional[int] = None,
                 reduction: str = 'mean',
                 normalization: str = 'weighted_mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_grw_kl') -> None:
        super().__init__()
        if normalization not in NORMALIZATIONS:
            raise ValueError(f'GRWKLLoss: normalization must be one of '
                             f'{NORMALIZATIONS}, got {normalization!r}.')
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_' so the "
                             f'runner optimises it, got {loss_name!r}.')
        self.rho = rho
        self.background = background
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.normalization = normalization
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        counts = self.read_class_counts(class_counts, frequency_file,
                                        count_kind)
        weights = grw_weights(counts.tolist(), rho)
        if background:
            weights = torch.cat([weights, weights.new_tensor([background_weight])])
        # A buffer moves with the model and is the same on every rank, but
        # is not saved: the weights are a function of the config.
        self.register_buffer('class_weights', weights, persistent=False)

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, rho={self.rho}, '
                f'background={self.background}, '
                f'normalization={self.normalization!r}, '
                f'source={self.source!r}')

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        expected = self.num_classes + int(self.background)
        if cls_score.size(1) != expected:
            bg = ' + 1 background' if self.background else ''
            raise ValueError(
                f'GRWKLLoss has class frequencies for {self.num_classes} '
                f'classes{bg} (from {self.source}) but the classifier '
                f'outputs {cls_score.size(1)} logits. Use a frequency file '
                f'computed on this dataset, or fix the head\'s num_classes.')
        if ignore_index is None:
            ignore_index = self.ignore_index
        loss = grw_kl_loss(
            cls_score,
            label,
            self.class_weights,
            weight=weight,
            ignore_index=ignore_index,
            reduction=reduction_override or self.reduction,
            normalization=self.normalization)
        return self.loss_weight * loss
