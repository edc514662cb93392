"""mmlt: long-tailed recognition for the OpenMMLab toolboxes.

``mmlt.core`` is the toolbox-free math (plain torch). ``mmlt.detection``,
``mmlt.segmentation`` and ``mmlt.classification`` are thin adapters that
register mmlt's components into mmdet, mmseg and mmpretrain; configs load
them through ``custom_imports``. Importing this package imports no toolbox;
it lets mmengine's ``Config`` read ``_base_ = 'mmlt::<config>'``
(``mmlt.mim``).
"""
import warnings

from .version import __version__

from .mim import register_mmlt_prefix_on_import

# mmlt's configs inherit toolbox bases (``mmpretrain::...``), which mmengine
# 0.10 resolves by importing, then reloading, pkg_resources; setuptools 81
# (setup pins < 82: mmengine needs pkg_resources) then warns that
# pkg_resources is deprecated. Nothing a user of mmlt can act on: silence
# exactly that warning, raised at mmengine's import or its reload.
warnings.filterwarnings(
    'ignore', message='pkg_resources is deprecated as an API',
    category=UserWarning,
    module=r'(mmengine\.utils\.package_utils|importlib)\Z')

register_mmlt_prefix_on_import()

__all__ = ['__version__']
