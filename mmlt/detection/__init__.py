"""mmlt's adapter for mmdet 3.x: registers into ``mmdet.registry.MODELS``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)``
and keep ``default_scope = 'mmdet'``.

Registered: the RoI classifiers ``DisAlignLinear``, ``DisAlignCosineLinear``
(stage 2, via a bbox head's ``cls_predictor_cfg``) and ``CosineLinear``
(a cosine stage 1), and the loss ``GRWKLLoss`` (``loss_cls``, background
weight 1). Importing it also applies mmlt's compatibility fixes, among them
the ``np.float`` alias that mmdet's ``LVISMetric`` (lvis 0.5.3) needs on
numpy >= 1.24.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmdet')

from mmlt.engine import apply_compat  # noqa: E402

apply_compat()

from .classifiers import (CosineLinear, DisAlignCosineLinear,  # noqa: E402
                          DisAlignLinear)
from .losses import GRWKLLoss  # noqa: E402

__all__ = [
    'CosineLinear', 'DisAlignCosineLinear', 'DisAlignLinear', 'GRWKLLoss'
]
