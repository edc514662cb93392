from mmseg.registry import MODELS

from mmlt.core import GRWKLLoss

# mmseg passes (seg_logits, seg_label, weight=, ignore_index=) and reads
# ``loss_name``: the core loss already follows that convention.
MODELS.register_module(module=GRWKLLoss)
