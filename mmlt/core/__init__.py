"""The toolbox-free core of mmlt: the math of DisAlign, DeiT-LT (with its
teachers' LDAM and SAM) and the decoupled baselines (logit adjustment,
tau-norm, cRT, LWS) in plain torch, one module per idea.

Nothing here imports mmengine or an OpenMMLab toolbox; the adapter packages
(``mmlt.detection``, ``mmlt.segmentation``, ``mmlt.classification``) register
these modules into the toolboxes' registries.
"""
from .calibration import (AdaptiveCalibration, DisAlignConv2d,
                          DisAlignCosineLinear, DisAlignLinear,
                          calibration_modules)
from .class_counts import UsesClassCounts
from .classifier_retraining import LogitScaling, LWSLinear, RetrainedLinear
from .cosine_linear import CosineLinear
from .distillation import hard_distillation_loss
from .ldam import ldam_loss, ldam_margins
from .logit_adjustment import (LogitAdjustedConv2d, LogitAdjustedCosineLinear,
                               LogitAdjustedLinear, LogitAdjustment,
                               prior_margin)
from .losses import GRWKLLoss, grw_kl_loss
from .sam import frozen_bn_statistics, grad_norm, sam_perturb, sam_restore
from .tau_norm import TauNormalization, TauNormLinear
from .reweighting import (effective_number_weights, exponential_profile,
                          grw_weights)

__all__ = [
    'AdaptiveCalibration', 'CosineLinear', 'DisAlignConv2d',
    'DisAlignCosineLinear', 'DisAlignLinear',
    'calibration_modules', 'GRWKLLoss', 'grw_kl_loss',
    'effective_number_weights', 'exponential_profile', 'grw_weights',
    'UsesClassCounts', 'LogitAdjustment', 'LogitAdjustedLinear',
    'LogitAdjustedCosineLinear', 'LogitAdjustedConv2d', 'prior_margin',
    'TauNormalization',
    'TauNormLinear', 'LogitScaling', 'LWSLinear', 'RetrainedLinear',
    'hard_distillation_loss', 'ldam_margins', 'ldam_loss', 'grad_norm',
    'sam_perturb', 'sam_restore', 'frozen_bn_statistics'
]
