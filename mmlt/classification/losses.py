from mmpretrain.registry import MODELS

from mmlt.core import GRWKLLoss

# mmpretrain passes (cls_score, target, avg_factor=batch size), with target
# the labels or, under Mixup/CutMix, the soft ``gt_score``: the core loss
# handles both, with its default 'weighted_mean' normalisation (the public
# classification code's ``F.cross_entropy(weight=C * w)``).
MODELS.register_module(module=GRWKLLoss)
