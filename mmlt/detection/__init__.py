"""mmlt's adapter for mmdet 3.x: registers into ``mmdet.registry.MODELS``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)``
and keep ``default_scope = 'mmdet'``.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmdet')

from mmlt.engine import apply_compat  # noqa: E402

apply_compat()

from .losses import GRWKLLoss  # noqa: E402

__all__ = ['GRWKLLoss']
