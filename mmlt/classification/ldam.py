"""LDAM loss with deferred re-weighting (LDAM-DRW) for mmpretrain heads: the
loss of DeiT-LT's CNN teachers (with SAM, ``mmlt.classification.sam``).

Use it in a head whose scores are cosines, as in the original recipe::

    head=dict(type='CosineLinearClsHead', num_classes=10, in_channels=64,
              scale=1.0, learnable_scale=False,
              loss=dict(type='LDAMLoss', max_margin=0.5, scale=30,
                        drw_beta=0.9999))
    custom_hooks = [dict(type='DRWHook', start_epoch=160)]

``DRWHook`` gives the loss the training set's class counts (unless
``class_counts`` is set) and switches the effective-number class weights
on from ``start_epoch`` (0-based, LDAM-DRW: 160 of 200).
"""
from typing import Optional, Sequence

import torch
from torch import nn

from mmpretrain.registry import MODELS

from mmlt.core.ldam import ldam_loss, ldam_margins
from mmlt.core.reweighting import effective_number_weights


@MODELS.register_module()
class LDAMLoss(nn.Module):
    """Label-distribution-aware margin loss, DRW weights from epoch K.

    Args:
        class_counts: training images per class; None: set by ``DRWHook``
            from the training set.
        max_margin: the rarest class's margin (LDAM: 0.5; 0.3 on ImageNet-LT
            / iNaturalist in the SAM paper's code).
        scale: logit scale ``s`` (30 on cosine scores).
        drw_beta: beta of the effective-number weights used once DRW is on.
        loss_weight: multiplies the loss.
    """

    def __init__(self,
                 class_counts: Optional[Sequence[int]] = None,
                 max_margin: float = 0.5,
                 scale: float = 30.0,
                 drw_beta: float = 0.9999,
                 loss_weight: float = 1.0):
        super().__init__()
        self.max_margin = max_margin
        self.scale = scale
        self.drw_beta = drw_beta
        self.loss_weight = loss_weight
        self.drw = False
        self.class_counts = None
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        self.class_counts = [int(c) for c in counts]
        self.margins = ldam_margins(self.class_counts, self.max_margin)
        self.drw_weights = effective_number_weights(self.class_counts,
                                                    self.drw_beta)

    def set_drw(self, active: bool) -> None:
        self.drw = bool(active)

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None,
                **kwargs) -> torch.Tensor:
        if self.class_counts is None:
            raise RuntimeError(
                'LDAMLoss has no class counts: set `class_counts` or add '
                "dict(type='DRWHook', start_epoch=...) to custom_hooks, which "
                'reads them from the training set.')
        if len(self.class_counts) != cls_score.size(1):
            raise ValueError(f'LDAMLoss: {len(self.class_counts)} class '
                             f'counts for {cls_score.size(1)} classes.')
        if weight is not None or reduction_override not in (None, 'mean'):
            raise ValueError('LDAMLoss supports neither sample weights nor '
                             'another reduction than the (weighted) mean.')
        if label.dim() == 2:
            # one-hot gt_score (to_onehot without mixing): LDAM needs hard
            # labels; mixed (soft) targets are refused.
            if not torch.all((label == 0) | (label == 1)):
                raise ValueError('LDAMLoss needs hard labels; switch '
                                 'Mixup / CutMix off for the teacher.')
            label = label.argmax(dim=1)
        class_weights = self.drw_weights if self.drw else None
        return self.loss_weight * ldam_loss(cls_score, label.flatten(),
                                            self.margins, self.scale,
                                            class_weights)
