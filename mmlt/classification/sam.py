"""Sharpness-aware minimisation (SAM, Foret et al., ICLR 2021) as an mmengine
optimizer wrapper: the optimizer of DeiT-LT's teachers (LDAM + DRW + SAM).

    optim_wrapper = dict(
        type='SAMOptimWrapper', rho=0.8,
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))

Each ``update_params(loss)``:

1. ``loss.backward()``: the gradient ``g`` at the weights ``w``;
2. ascent: ``w <- w + e_w``, ``e_w = rho * g / ||g||`` (``||g||`` over all
   parameters; ``rho`` per parameter group);
3. the loss of the same batch again at ``w + e_w``, and its gradient;
4. ``w <- w - e_w``, then the wrapped optimizer's step (after gradient
   clipping if configured) with that second gradient.

Step 3 needs the forward of the same batch again. ``update_params`` takes a
``closure`` returning the loss; when none is given (the case with mmengine's
standard ``BaseModel.train_step``), the wrapper re-runs the model forward it
saw inside ``optim_context`` (recorded by a forward pre-hook on the model)
and sums the losses with the model's ``parse_losses``. Models need no
change; BatchNorm running statistics are not updated by the second forward
(as in the reference SAM code). The batch augments already happened in the
data preprocessor, so both forwards see the same (mixed) batch; dropout and
drop-path draw new masks.

``rho`` lives in every parameter group (``param_groups[i]['rho']``), so
mmengine's parameter schedulers can change it, e.g.
``dict(type='MultiStepParamScheduler', param_name='rho', milestones=[160],
gamma=2.0, by_epoch=True)``.

Not supported: gradient accumulation (``accumulative_counts > 1``) and mixed
precision (``AmpOptimWrapper``).
"""
from contextlib import contextmanager
from typing import Callable, Dict, Optional

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

from mmlt.core.sam import (frozen_bn_statistics, grad_norm, sam_perturb,
                           sam_restore)


@OPTIM_WRAPPERS.register_module()
class SAMOptimWrapper(OptimWrapper):
    """``OptimWrapper`` doing SAM's two-step update (see the module doc).

    Args:
        optimizer: the base optimizer (SGD in the DeiT-LT teacher recipe).
        rho: neighbourhood radius (CIFAR-LT teachers: 0.8); the default of
            parameter groups without their own ``rho``.
        **kwargs: ``OptimWrapper`` arguments (``clip_grad``).
    """

    def __init__(self, optimizer, rho: float = 0.05, **kwargs):
        super().__init__(optimizer, **kwargs)
        if self._accumulative_counts != 1:
            raise ValueError('SAMOptimWrapper does not support gradient '
                             'accumulation (accumulative_counts must be 1).')
        if not rho >= 0:
            raise ValueError(f'SAM rho must be >= 0, got {rho}.')
        for group in self.optimizer.param_groups:
            group.setdefault('rho', float(rho))
        self._model: Optional[nn.Module] = None
        self._forward = None

    @contextmanager
    def optim_context(self, model: nn.Module):
        """mmengine's context, plus recording the forward of ``model``."""

        def record(module, args, kwargs):
            self._forward = (args, kwargs)

        self._model, self._forward = model, None
        handle = model.register_forward_pre_hook(record, with_kwargs=True)
        try:
            with super().optim_context(model):
                yield
        finally:
            handle.remove()

    def _recorded_closure(self) -> torch.Tensor:
        if self._forward is None or self._model is None:
            raise RuntimeError(
                'SAMOptimWrapper needs the loss at the perturbed weights: '
                'call update_params(loss, closure=...) or run the forward '
                'inside `with optim_wrapper.optim_context(model):` (as '
                "mmengine's train_step does).")
        args, kwargs = self._forward
        losses = self._model(*args, **kwargs)
        if isinstance(losses, torch.Tensor):
            return losses
        model = getattr(self._model, 'module', self._model)
        loss, _ = model.parse_losses(losses)
        return loss

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None,
                      closure: Optional[Callable[[], torch.Tensor]] = None
                      ) -> None:
        """SAM step on ``loss``; ``closure()`` recomputes the loss of the
        same batch (default: the recorded forward)."""
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        self.backward(self.scale_loss(loss))
        groups = self.optimizer.param_groups
        params = [p for g in groups for p in g['params']]
        norm = grad_norm(params)
        moved = []
        for group in groups:
            moved += sam_perturb(group['params'], group['rho'], norm)
        self.zero_grad()
        try:
            if closure is None:
                with frozen_bn_statistics(self._model or nn.Module()):
                    perturbed_loss = self._recorded_closure()
            else:
                perturbed_loss = closure()
            perturbed_loss.backward()
        finally:
            sam_restore(moved)
        self.step(**step_kwargs)
        self.zero_grad(**zero_kwargs)
