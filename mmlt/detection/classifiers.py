"""DisAlign's calibrated RoI classifiers, registered in mmdet's MODELS.

mmdet's bbox heads (``BBoxHead`` and every ``ConvFCBBoxHead``: Faster /
Mask R-CNN, each stage of Cascade (Mask) R-CNN) build their classifier with
``MODELS.build(cls_predictor_cfg)`` and the arguments ``in_features`` (the
RoI feature that feeds it) and ``out_features = num_classes + 1`` (the
foreground classes, then the background). A stage-2 config therefore only
sets, in each bbox head::

    cls_predictor_cfg=dict(type='DisAlignLinear'),   # or 'DisAlignCosineLinear'
    loss_cls=dict(type='GRWKLLoss', frequency_file=..., rho=0.8),

The classifiers keep ``nn.Linear``'s parameter names (``fc_cls.weight`` /
``fc_cls.bias``; the cosine ones ``fc_cls.weight`` / ``fc_cls.scale``), so a
stage-1 checkpoint loads with only ``fc_cls.calibration.*`` new. The last
logit, mmdet's background, is not calibrated (``num_uncalibrated=1``).

``CosineLinear`` is the stage-1 cosine classifier the cosine stage 2
("DisAlign*") loads: ``cls_predictor_cfg=dict(type='CosineLinear')``.
"""
from mmdet.registry import MODELS

from mmlt.core import calibration

# mmdet's fc_cls has num_classes + 1 outputs: the trailing one is background.
BACKGROUND_LOGITS = 1


@MODELS.register_module()
class DisAlignLinear(calibration.DisAlignLinear):
    """``mmlt.core.DisAlignLinear`` whose background logit passes through."""

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = True,
                 num_uncalibrated: int = BACKGROUND_LOGITS,
                 confidence_std: float = 0.01) -> None:
        super().__init__(in_features, out_features, bias, num_uncalibrated,
                         confidence_std)


@MODELS.register_module()
class DisAlignCosineLinear(calibration.DisAlignCosineLinear):
    """``mmlt.core.DisAlignCosineLinear`` (normalised feature and weights,
    learnable scale, init 20) whose background logit passes through."""

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = False,
                 scale: float = 20.0,
                 learnable_scale: bool = True,
                 num_uncalibrated: int = BACKGROUND_LOGITS,
                 confidence_std: float = 0.01) -> None:
        super().__init__(in_features, out_features, bias, scale,
                         learnable_scale, num_uncalibrated, confidence_std)


# The stage-1 cosine classifier: nothing detection-specific to add.
MODELS.register_module(module=calibration.CosineLinear)
CosineLinear = calibration.CosineLinear
