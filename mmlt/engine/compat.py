"""Fixes for the OpenMMLab 2.x stack on today's torch and numpy.

Each fix is a no-op where the breakage does not exist, so users of older
versions see no change. ``apply_compat()`` is idempotent; ``tools/train.py``
and ``tools/test.py`` call it first, and importing an mmlt adapter calls it.
"""
import os.path as osp

import numpy as np
import torch

from ..utils import digit_version

_applied = False


def torch_defaults_to_weights_only() -> bool:
    """torch >= 2.6 unpickles only tensors and allow-listed types."""
    return digit_version(torch.__version__) >= (2, 6)


def load_trusted_checkpoint(filename, map_location=None):
    """``torch.load`` with the pre-2.6 full unpickling.

    mmengine checkpoints hold a ``message_hub`` with mmengine's
    ``HistoryBuffer`` and numpy objects, which torch >= 2.6 refuses by
    default. This restores what mmengine 0.10 was written for. Unpickling
    runs code from the file: load only checkpoints you trust.
    """
    if torch_defaults_to_weights_only():
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    return torch.load(filename, map_location=map_location)


def fix_mmengine_checkpoint_loading() -> bool:
    """Make mmengine's local-file loader (``load_from``, ``--resume``,
    ``tools/test.py CHECKPOINT``) work on torch >= 2.6."""
    if not torch_defaults_to_weights_only():
        return False
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename, map_location):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{filename} can not be found.')
        return load_trusted_checkpoint(filename, map_location)

    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    return True


def fix_numpy_aliases_for_lvis() -> bool:
    """lvis 0.5.3's evaluation uses ``np.float``, removed in numpy 1.24."""
    if 'float' in np.__dict__:
        return False
    np.float = float  # the alias numpy < 1.24 had
    return True


def apply_compat() -> None:
    """Apply every fix once."""
    global _applied
    if _applied:
        return
    fix_mmengine_checkpoint_loading()
    fix_numpy_aliases_for_lvis()
    _applied = True
