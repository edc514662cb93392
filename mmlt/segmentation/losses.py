from mmseg.registry import MODELS

from mmlt.core import losses


@MODELS.register_module()
class GRWKLLoss(losses.GRWKLLoss):
    """``mmlt.core.GRWKLLoss`` in mmseg's convention: mmseg passes
    ``(seg_logits, seg_label, weight=, ignore_index=)`` and reads
    ``loss_name``. 'mean' divides by all pixels of the batch, ignored ones
    included, as DisAlign's public mmseg code trains (mmseg's
    ``CrossEntropyLoss(avg_non_ignore=False)``, its default)."""

    def __init__(self, normalization: str = 'mean_all', **kwargs) -> None:
        super().__init__(normalization=normalization, **kwargs)
