"""The toolbox-free core of mmlt: the math of DisAlign and DeiT-LT in plain torch.

Nothing here imports mmengine or an OpenMMLab toolbox; the adapter packages
(``mmlt.detection``, ``mmlt.segmentation``, ``mmlt.classification``) register
these modules into the toolboxes' registries.
"""
from .calibration import (AdaptiveCalibration, CosineLinear, DisAlignConv2d,
                          DisAlignCosineLinear, DisAlignLinear,
                          calibration_modules)
from .losses import GRWKLLoss, grw_kl_loss
from .reweighting import (effective_number_weights, exponential_profile,
                          grw_weights)

__all__ = [
    'AdaptiveCalibration', 'CosineLinear', 'DisAlignConv2d',
    'DisAlignCosineLinear', 'DisAlignLinear',
    'calibration_modules', 'GRWKLLoss', 'grw_kl_loss',
    'effective_number_weights', 'exponential_profile', 'grw_weights'
]
