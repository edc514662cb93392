"""The ascent step of sharpness-aware minimisation (SAM, Foret et al., ICLR
2021) in plain torch: the optimizer of DeiT-LT's CNN teachers.

``sam_perturb`` / ``sam_restore``: ``w <- w + rho * g / ||g||`` and back;
``grad_norm``: ``||g||`` over parameters taken together;
``frozen_bn_statistics``: the second forward (at ``w + e_w``) leaves the
BatchNorm running statistics as they were (as the reference SAM code).

Nothing here imports mmengine or a toolbox; the two-step update inside
mmengine's training step is ``mmlt.classification.sam.SAMOptimWrapper``.
"""
from contextlib import contextmanager
from typing import Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


def grad_norm(params: Iterable[Tensor]) -> Tensor:
    """L2 norm of the gradients of ``params`` taken together."""
    norms = [p.grad.detach().norm(2) for p in params if p.grad is not None]
    if not norms:
        return torch.zeros(())
    return torch.stack([n.to(norms[0].device) for n in norms]).norm(2)


def sam_perturb(params: Iterable[Tensor],
                rho: float,
                norm: Optional[Tensor] = None,
                eps: float = 1e-12) -> List[Tuple[Tensor, Tensor]]:
    """SAM's ascent: move every parameter with a gradient by
    ``e_w = rho * g / ||g||`` and return the ``(param, e_w)`` pairs for
    ``sam_restore``.

    ``norm`` is ``||g||``; by default that of ``params`` (pass the norm over
    all parameters when perturbing parameter groups with different rho).
    """
    params = [p for p in params if p.grad is not None]
    if not params:
        return []
    if norm is None:
        norm = grad_norm(params)
    moved = []
    with torch.no_grad():
        for p in params:
            e_w = p.grad * (rho / (norm.to(p.grad) + eps))
            p.add_(e_w)
            moved.append((p, e_w))
    return moved


def sam_restore(moved: Sequence[Tuple[Tensor, Tensor]]) -> None:
    """Undo ``sam_perturb``: ``w <- w - e_w``."""
    with torch.no_grad():
        for p, e_w in moved:
            p.sub_(e_w)


@contextmanager
def frozen_bn_statistics(model: nn.Module):
    """BatchNorm layers normalise with the batch but keep their running
    statistics (and ``num_batches_tracked``) unchanged."""
    saved = []
    for m in model.modules():
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            saved.append((m, m.momentum, m.num_batches_tracked.clone()))
            m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum, tracked in saved:
            m.momentum = momentum
            m.num_batches_tracked.copy_(tracked)
