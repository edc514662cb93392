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

The decoupled baselines, as ``cls_predictor_cfg`` of the same heads:
``LogitAdjustedLinear`` / ``LogitAdjustedCosineLinear`` (post hoc,
``frequency_file=`` and ``tau=``) and ``TauNormLinear`` (post hoc, ``tau=``)
change the foreground logits only; ``RetrainedLinear`` (cRT) re-trains the
whole classifier, background row included, with mmdet's
``ClassAwareSampler``.
"""
from typing import Optional

from mmdet.registry import MODELS

from mmlt.core import calibration
from mmlt.core import classifier_retraining, logit_adjustment, tau_norm

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


@MODELS.register_module()
class LogitAdjustedLinear(logit_adjustment.LogitAdjustedLinear):
    """Post-hoc logit adjustment of the foreground logits; the background
    logit passes through."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, tau: float = 1.0,
                 frequency_file: Optional[str] = None, class_counts=None,
                 count_kind: Optional[str] = None,
                 num_uncalibrated: int = BACKGROUND_LOGITS) -> None:
        super().__init__(in_features, out_features, bias, tau=tau,
                         frequency_file=frequency_file,
                         class_counts=class_counts, count_kind=count_kind,
                         num_uncalibrated=num_uncalibrated)


@MODELS.register_module()
class LogitAdjustedCosineLinear(logit_adjustment.LogitAdjustedCosineLinear):
    """``CosineLinear`` with post-hoc logit adjustment of the foreground
    logits."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = False, scale: float = 20.0,
                 learnable_scale: bool = True, tau: float = 1.0,
                 frequency_file: Optional[str] = None, class_counts=None,
                 count_kind: Optional[str] = None,
                 num_uncalibrated: int = BACKGROUND_LOGITS) -> None:
        super().__init__(in_features, out_features, bias, scale,
                         learnable_scale, tau=tau,
                         frequency_file=frequency_file,
                         class_counts=class_counts, count_kind=count_kind,
                         num_uncalibrated=num_uncalibrated)


@MODELS.register_module()
class TauNormLinear(tau_norm.TauNormLinear):
    """tau-normalised foreground rows; the background row keeps its weight
    and bias."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, tau: float = 1.0,
                 num_uncalibrated: int = BACKGROUND_LOGITS) -> None:
        super().__init__(in_features, out_features, bias, tau,
                         num_uncalibrated)


# cRT re-trains every row, the background's too
MODELS.register_module(module=classifier_retraining.RetrainedLinear)
RetrainedLinear = classifier_retraining.RetrainedLinear
