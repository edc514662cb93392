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
from mmdet.registry import MODELS

from mmlt.core import calibration
from mmlt.core import classifier_retraining, logit_adjustment, tau_norm
from mmlt.core.frequency import ClassFrequency

# mmdet's fc_cls has num_classes + 1 outputs: the trailing one is background.
BACKGROUND_LOGITS = 1


class BackgroundPassesThrough:
    """Mixin: the core classifier with ``num_uncalibrated`` defaulting to
    mmdet's one background logit, which it leaves as the stock one."""

    def __init__(self,
                 *args,
                 num_uncalibrated: int = BACKGROUND_LOGITS,
                 **kwargs) -> None:
        super().__init__(*args, num_uncalibrated=num_uncalibrated, **kwargs)


class StartsFromPrior:
    """Mixin: ``start_tau`` starts the foreground margins at the logit
    adjustment with that tau (``mmlt.core.prior_margin``). mmdet builds the
    classifier without its loss, so the prior comes in one of two ways:
    ``DisAlignRunner`` takes it from the bbox head's G-RW loss when it
    builds the model (``start_from_loss_prior``: the config names the
    frequency file once, in the loss), or ``frequency_file`` (and
    ``count_kind``) / ``class_counts`` give it here."""

    def __init__(self, *args, start_tau=None, frequency_file=None,
                 class_counts=None, count_kind=None, **kwargs) -> None:
        margin = None
        if start_tau is not None and frequency_file is not None:
            class_counts = ClassFrequency.load(frequency_file).counts_array(
                count_kind)
        if start_tau is not None and class_counts is not None:
            margin = logit_adjustment.prior_margin(class_counts, start_tau)
        super().__init__(*args, initial_margin=margin, **kwargs)
        if start_tau is not None and margin is None:
            self.calibration.pending_start_tau = float(start_tau)


@MODELS.register_module()
class DisAlignLinear(StartsFromPrior, BackgroundPassesThrough,
                     calibration.DisAlignLinear):
    """``mmlt.core.DisAlignLinear`` whose background logit passes through;
    ``start_tau`` / ``frequency_file``: see ``StartsFromPrior``."""


@MODELS.register_module()
class DisAlignCosineLinear(StartsFromPrior, BackgroundPassesThrough,
                           calibration.DisAlignCosineLinear):
    """``mmlt.core.DisAlignCosineLinear`` (normalised feature and weights,
    learnable scale, init 20) whose background logit passes through."""


# The stage-1 cosine classifier: nothing detection-specific to add.
MODELS.register_module(module=calibration.CosineLinear)
CosineLinear = calibration.CosineLinear


@MODELS.register_module()
class LogitAdjustedLinear(BackgroundPassesThrough,
                          logit_adjustment.LogitAdjustedLinear):
    """Post-hoc logit adjustment of the foreground logits; the background
    logit passes through."""


@MODELS.register_module()
class LogitAdjustedCosineLinear(BackgroundPassesThrough,
                                logit_adjustment.LogitAdjustedCosineLinear):
    """``CosineLinear`` with post-hoc logit adjustment of the foreground
    logits."""


@MODELS.register_module()
class TauNormLinear(BackgroundPassesThrough, tau_norm.TauNormLinear):
    """tau-normalised foreground rows; the background row keeps its weight
    and bias."""


# cRT re-trains every row, the background's too
MODELS.register_module(module=classifier_retraining.RetrainedLinear)
RetrainedLinear = classifier_retraining.RetrainedLinear
