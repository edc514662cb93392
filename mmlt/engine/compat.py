"""Fixes for the OpenMMLab 2.x stack on today's torch and numpy.

Nothing here runs on import: ``tools/train.py`` and ``tools/test.py`` call
``apply_compat()`` explicitly (``DisAlignRunner`` and the DeiT-LT teacher
read checkpoints safely by themselves). Each fix is a no-op where the
breakage does not exist, so users of older versions see no change.
"""
import numpy as np
import torch

from ..utils import digit_version
from .checkpoint_io import use_safe_checkpoint_loader


def torch_defaults_to_weights_only() -> bool:
    """torch >= 2.6 unpickles only tensors and allow-listed types."""
    return digit_version(torch.__version__) >= (2, 6)


def fix_numpy_aliases_for_lvis() -> bool:
    """lvis 0.5.3's evaluation uses ``np.float``, removed in numpy 1.24.

    Adds back the alias numpy < 1.24 had (only where it is missing; nothing
    else changes). ``apply_compat`` applies it; importing ``mmlt.detection``
    does not, so a script that builds its own Runner for an LVIS config
    calls ``apply_compat()`` first."""
    if 'float' in np.__dict__:
        return False
    np.float = float  # the alias numpy < 1.24 had
    return True


def apply_compat(allow_unsafe_checkpoints: bool = False) -> None:
    """What the tools apply before they build a runner: mmengine's loader
    of local checkpoints reads them safely (``weights_only`` with mmlt's
    allow-list; full unpickling only with ``allow_unsafe_checkpoints``,
    the tools' ``--unsafe-load``, or ``MMLT_UNSAFE_LOAD=1``), and the
    ``np.float`` alias for lvis. See ``mmlt.engine.checkpoint_io``."""
    use_safe_checkpoint_loader(allow_unsafe=allow_unsafe_checkpoints)
    fix_numpy_aliases_for_lvis()
