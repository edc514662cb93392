"""mmlt: long-tailed recognition for the OpenMMLab toolboxes.

``mmlt.core`` is the toolbox-free math (plain torch). ``mmlt.detection``,
``mmlt.segmentation`` and ``mmlt.classification`` are thin adapters that
register mmlt's components into mmdet, mmseg and mmpretrain; configs load
them through ``custom_imports``. Importing this package, or any of them,
changes nothing outside mmlt: what a run needs process-wide (safe checkpoint
reading, ``_base_ = 'mmlt::<config>'``, ...) is ``mmlt.engine.setup_runtime``,
which the tools call.
"""
from .version import __version__

__all__ = ['__version__']
