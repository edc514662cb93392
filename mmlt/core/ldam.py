"""The LDAM loss of Cao et al. (NeurIPS 2019) in plain torch: the loss that
trains DeiT-LT's CNN teachers.

``ldam_margins`` / ``ldam_loss``: the true-class logit minus a margin
``m_c ∝ n_c^{-1/4}`` (largest ``max_margin``), times ``scale``.

Nothing here imports mmengine or a toolbox; the mmpretrain loss module is
``mmlt.classification.ldam.LDAMLoss``. The DRW class weights are
``mmlt.core.reweighting.effective_number_weights``.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

Counts = Union[Sequence[float], Tensor]


def ldam_margins(counts: Counts, max_margin: float = 0.5) -> Tensor:
    """LDAM margins ``m_c = K / n_c^{1/4}``, ``K`` such that the rarest class
    gets ``max_margin``. A class with count 0 is treated as seen once."""
    counts = torch.as_tensor(counts, dtype=torch.float64).flatten()
    if counts.numel() == 0 or (counts < 0).any():
        raise ValueError(f'LDAM needs class counts >= 0, got {counts.tolist()}.')
    if not max_margin > 0:
        raise ValueError(f'LDAM max_margin must be > 0, got {max_margin}.')
    margins = counts.clamp(min=1).pow(-0.25)
    return (margins * (max_margin / margins.max())).float()


def ldam_loss(logits: Tensor,
              labels: Tensor,
              margins: Tensor,
              scale: float = 30.0,
              class_weights: Optional[Tensor] = None) -> Tensor:
    """LDAM: ``CE(scale * (z - m_y * onehot(y)), y)``, weighted mean with
    ``class_weights`` (DRW) when given.

    ``logits`` are the cosine scores of a normalised classifier in the
    original recipe (hence ``scale``).
    """
    margins = margins.to(logits)
    if margins.numel() != logits.size(1):
        raise ValueError(f'{margins.numel()} LDAM margins for '
                         f'{logits.size(1)} classes.')
    labels = labels.long()
    shifted = logits - F.one_hot(labels, logits.size(1)).to(logits) * \
        margins[labels].unsqueeze(1)
    if class_weights is not None:
        class_weights = class_weights.to(logits)
    return F.cross_entropy(scale * shifted, labels, weight=class_weights)
