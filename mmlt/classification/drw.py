"""``DRWHook``: deferred re-weighting switched on at epoch K by the runner.

Every submodule of the model with a ``set_drw(active)`` method (``LDAMLoss``,
the DeiT-LT classifier and its head) is told before each training epoch
whether DRW is on: ``active = runner.epoch >= start_epoch``, with
``runner.epoch`` the 0-based index of the epoch about to run. Nothing is
stored, so a run resumed from any checkpoint comes back in the right state
(after ``--resume`` from ``epoch_{K+1}.pth`` DRW is on at once).

``start_epoch`` is the DeiT-LT / LDAM-DRW code's ``--drw K`` (``epoch >=
K``): the last ``max_epochs - K`` epochs are re-weighted, e.g. epochs
1101-1200 of 1200 in mmengine's 1-based log for K = 1100.

Before training it also hands the training set's images per class to every
submodule with ``set_class_counts`` whose ``class_counts`` is None, and
checks the length of those that were set in the config.
"""
from typing import Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS


def dataset_class_counts(dataset) -> np.ndarray:
    """Images per class of an mmpretrain dataset (unwrapping wrappers)."""
    while not hasattr(dataset, 'get_gt_labels') and hasattr(
            dataset, 'dataset'):
        dataset = dataset.dataset
    if hasattr(dataset, 'get_class_counts'):
        return np.asarray(dataset.get_class_counts())
    if not hasattr(dataset, 'get_gt_labels'):
        raise TypeError(f'DRWHook cannot read the labels of '
                        f'{type(dataset).__name__}; set class_counts in the '
                        'config.')
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes') or ()
    return np.bincount(dataset.get_gt_labels(), minlength=len(classes))


@HOOKS.register_module()
class DRWHook(Hook):
    """Switch deferred re-weighting on from epoch ``start_epoch`` (0-based).

    Args:
        start_epoch: K; DRW is on in the epochs with 0-based index >= K.
    """
    priority = 'NORMAL'

    def __init__(self, start_epoch: int):
        if int(start_epoch) != start_epoch or start_epoch < 0:
            raise ValueError(f'DRWHook: start_epoch must be an int >= 0, '
                             f'got {start_epoch}.')
        self.start_epoch = int(start_epoch)

    @staticmethod
    def _modules(runner, method: str):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        return [(name, m) for name, m in model.named_modules()
                if callable(getattr(m, method, None))]

    def before_train(self, runner) -> None:
        counts: Optional[np.ndarray] = None
        for name, module in self._modules(runner, 'set_class_counts'):
            if counts is None:
                counts = dataset_class_counts(runner.train_dataloader.dataset)
            own = getattr(module, 'class_counts', None)
            if own is None:
                module.set_class_counts([int(c) for c in counts])
            elif len(own) != len(counts):
                raise ValueError(
                    f'{name or "model"}: class_counts covers {len(own)} '
                    f'classes, the training set has {len(counts)}.')
        if counts is not None:
            runner.logger.info(
                f'DRW from epoch {self.start_epoch + 1} (1-based); training '
                f'images per class: {counts.tolist()}')
        max_epochs = getattr(runner, 'max_epochs', None)
        if max_epochs is not None and self.start_epoch >= max_epochs:
            runner.logger.warning(
                f'DRWHook: start_epoch {self.start_epoch} >= max_epochs '
                f'{max_epochs}: DRW never switches on.')

    def before_train_epoch(self, runner) -> None:
        active = runner.epoch >= self.start_epoch
        modules = self._modules(runner, 'set_drw')
        if active and modules and not getattr(modules[0][1], 'drw', False):
            runner.logger.info(f'DRW on from epoch {runner.epoch + 1} '
                               f'(1-based; start_epoch={self.start_epoch}).')
        for _, module in modules:
            module.set_drw(active)
