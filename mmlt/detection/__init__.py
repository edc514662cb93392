"""mmlt's adapter for mmdet 3.x: registers into ``mmdet.registry.MODELS``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)``
and keep ``default_scope = 'mmdet'``.

Registered: the RoI classifiers ``DisAlignLinear``, ``DisAlignCosineLinear``
(stage 2, via a bbox head's ``cls_predictor_cfg``) and ``CosineLinear``
(a cosine stage 1), the decoupled baselines ``LogitAdjustedLinear``,
``LogitAdjustedCosineLinear``, ``TauNormLinear`` (post hoc) and
``RetrainedLinear`` (cRT), the loss ``GRWKLLoss`` (``loss_cls``, background
weight 1) and the metric ``LongTailLVISMetric`` (``LVISMetric`` with a
per-category file). Importing it patches nothing: mmdet's ``LVISMetric`` (lvis
0.5.3) needs numpy's ``np.float`` alias, removed in numpy 1.24, and the
tools add it back (``mmlt.engine.setup_runtime``, with the safe checkpoint
loader); a script that builds its own Runner calls ``setup_runtime()``.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmdet')

# registers mmlt's runners, hooks and sampler, for configs that name them
import mmlt.engine  # noqa: E402,F401
import mmlt.stage2  # noqa: E402,F401

from .classifiers import (CosineLinear, DisAlignCosineLinear,  # noqa: E402
                          DisAlignLinear, LogitAdjustedCosineLinear,
                          LogitAdjustedLinear, RetrainedLinear, TauNormLinear)
from .losses import GRWKLLoss  # noqa: E402
from .metrics import LongTailLVISMetric  # noqa: E402

__all__ = [
    'CosineLinear', 'DisAlignCosineLinear', 'DisAlignLinear', 'GRWKLLoss',
    'LogitAdjustedLinear', 'LogitAdjustedCosineLinear', 'TauNormLinear',
    'RetrainedLinear', 'LongTailLVISMetric'
]
