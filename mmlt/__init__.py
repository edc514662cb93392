"""mmlt: long-tailed recognition for the OpenMMLab toolboxes.

``mmlt.core`` is the toolbox-free math (plain torch). ``mmlt.detection``,
``mmlt.segmentation`` and ``mmlt.classification`` are thin adapters that
register mmlt's components into mmdet, mmseg and mmpretrain; configs load
them through ``custom_imports``. Importing this package imports no toolbox.
"""
from .version import __version__

__all__ = ['__version__']
