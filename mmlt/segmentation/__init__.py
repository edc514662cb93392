"""mmlt's adapter for mmsegmentation 1.x: registers into ``mmseg.registry``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)``
and keep ``default_scope = 'mmseg'``.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmseg')

# registers mmlt's runners, hooks and sampler, for configs that name them
import mmlt.engine  # noqa: E402,F401
import mmlt.stage2  # noqa: E402,F401

from .heads import (STOCK_HEADS, disalign_head,  # noqa: E402
                    logit_adjusted_head)
from .losses import GRWKLLoss  # noqa: E402
from .metrics import ADE20K_GROUPS, LongTailIoUMetric  # noqa: E402

__all__ = [
    'ADE20K_GROUPS', 'GRWKLLoss', 'LongTailIoUMetric', 'STOCK_HEADS',
    'disalign_head', 'logit_adjusted_head'
]
