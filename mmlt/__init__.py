"""mmlt: long-tailed recognition for the OpenMMLab toolboxes.

``mmlt.core`` is the toolbox-free math (plain torch). ``mmlt.detection``,
``mmlt.segmentation`` and ``mmlt.classification`` are thin adapters that
register mmlt's components into mmdet, mmseg and mmpretrain; configs load
them through ``custom_imports``. Importing this package imports no toolbox;
it lets mmengine's ``Config`` read ``_base_ = 'mmlt::<config>'``
(``mmlt.mim``).
"""
from .version import __version__

from .mim import register_mmlt_prefix_on_import

register_mmlt_prefix_on_import()

__all__ = ['__version__']
