from mmpretrain.registry import MODELS

from mmlt.core import GRWKLLoss

# mmpretrain passes (cls_score, target, avg_factor=batch size), with target
# the labels or, under Mixup/CutMix, the soft ``gt_score``: the core loss
# handles both.
MODELS.register_module(module=GRWKLLoss)
