"""DeiT-LT's distillation loss in plain torch.

``hard_distillation_loss``: cross-entropy of the DIST head against the
teacher's argmax, optionally weighted per class (DRW) as a weighted mean
``sum_i w[t_i] * CE_i / sum_i w[t_i]`` with ``t_i`` the teacher's class.

The losses that train DeiT-LT's CNN teachers are ``mmlt.core.ldam`` (LDAM)
and ``mmlt.core.sam`` (sharpness-aware minimisation). Nothing here imports
mmengine or a toolbox. The DRW class weights are
``mmlt.core.reweighting.effective_number_weights``.
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor


def hard_distillation_loss(logits: Tensor,
                           teacher_logits: Tensor,
                           class_weights: Optional[Tensor] = None) -> Tensor:
    """Cross-entropy of ``logits`` against ``teacher_logits.argmax(1)``.

    Args:
        logits: (N, C) scores of the student's DIST head.
        teacher_logits: (N, C) teacher scores, or (N,) teacher classes.
        class_weights: (C,) weights indexed by the teacher's class; the
            result is then the weighted mean ``sum w[t_i] l_i / sum w[t_i]``
            (PyTorch's ``cross_entropy(weight=...)``). None: plain mean.
    """
    targets = (teacher_logits.argmax(dim=1)
               if teacher_logits.dim() == 2 else teacher_logits.long())
    if class_weights is not None:
        class_weights = class_weights.to(logits)
        if class_weights.numel() != logits.size(1):
            raise ValueError(f'{class_weights.numel()} class weights for '
                             f'{logits.size(1)} classes.')
    return F.cross_entropy(logits, targets, weight=class_weights)
