"""Fixes for the OpenMMLab 2.x stack on today's torch and numpy.

Nothing here runs on import: ``setup_runtime`` (``mmlt.engine.runtime``)
applies them, and the tools and ``DisAlignRunner`` call it. Each fix is a
no-op where the breakage does not exist, so users of older versions see no
change.
"""
import numpy as np
import torch

from ..utils import digit_version


def torch_defaults_to_weights_only() -> bool:
    """torch >= 2.6 unpickles only tensors and allow-listed types."""
    return digit_version(torch.__version__) >= (2, 6)


def fix_numpy_aliases_for_lvis() -> bool:
    """lvis 0.5.3's evaluation uses ``np.float``, removed in numpy 1.24.

    Adds back the alias numpy < 1.24 had (only where it is missing; nothing
    else changes). ``setup_runtime`` applies it; importing
    ``mmlt.detection`` does not, so a script that builds its own Runner for
    an LVIS config calls ``setup_runtime()`` first."""
    if 'float' in np.__dict__:
        return False
    np.float = float  # the alias numpy < 1.24 had
    return True
