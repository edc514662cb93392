"""mmlt's adapter for mmpretrain 1.x: registers into ``mmpretrain.registry``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)``
and keep ``default_scope = 'mmpretrain'``.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmpretrain')

from mmlt.engine import apply_compat  # noqa: E402

apply_compat()

from .losses import GRWKLLoss  # noqa: E402

__all__ = ['GRWKLLoss']
