from mmdet.registry import MODELS

from mmlt.core import losses


@MODELS.register_module()
class GRWKLLoss(losses.GRWKLLoss):
    """``mmlt.core.GRWKLLoss`` in mmdet's convention: the RoI classifier has
    C foreground logits then the background one, so ``background`` defaults
    to True (background weight 1, G-RW over the foreground classes). 'mean'
    is the weighted mean over the sampled RoIs, as in the public code's
    ``F.cross_entropy(weight=[C * w, 1])``."""

    def __init__(self, background: bool = True, **kwargs) -> None:
        super().__init__(background=background, **kwargs)
