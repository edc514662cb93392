"""DeiT-LT's losses and its teacher's recipe in plain torch.

* ``hard_distillation_loss``: cross-entropy of the DIST head against the
  teacher's argmax, optionally weighted per class (DRW) as a weighted mean
  ``sum_i w[t_i] * CE_i / sum_i w[t_i]`` with ``t_i`` the teacher's class.
* ``ldam_margins`` / ``ldam_loss``: the LDAM loss of Cao et al. (NeurIPS
  2019) that trains DeiT-LT's CNN teachers: the true-class logit minus a
  margin ``m_c ∝ n_c^{-1/4}`` (largest ``max_margin``), times ``scale``.
* ``sam_perturb`` / ``sam_restore``: the ascent step of sharpness-aware
  minimisation (Foret et al., ICLR 2021): ``w <- w + rho * g / ||g||``.

Nothing here imports mmengine or a toolbox. The DRW class weights are
``mmlt.core.reweighting.effective_number_weights``.
"""
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

Counts = Union[Sequence[float], Tensor]


def hard_distillation_loss(logits: Tensor,
                           teacher_logits: Tensor,
                           class_weights: Optional[Tensor] = None) -> Tensor:
    """Cross-entropy of ``logits`` against ``teacher_logits.argmax(1)``.

    Args:
        logits: (N, C) scores of the student's DIST head.
        teacher_logits: (N, C) teacher scores, or (N,) teacher classes.
        class_weights: (C,) weights indexed by the teacher's class; the
            result is then the weighted mean ``sum w[t_i] l_i / sum w[t_i]``
            (PyTorch's ``cross_entropy(weight=...)``). None: plain mean.
    """
    targets = (teacher_logits.argmax(dim=1)
               if teacher_logits.dim() == 2 else teacher_logits.long())
    if class_weights is not None:
        class_weights = class_weights.to(logits)
        if class_weights.numel() != logits.size(1):
            raise ValueError(f'{class_weights.numel()} class weights for '
                             f'{logits.size(1)} classes.')
    return F.cross_entropy(logits, targets, weight=class_weights)


def ldam_margins(counts: Counts, max_margin: float = 0.5) -> Tensor:
    """LDAM margins ``m_c = K / n_c^{1/4}``, ``K`` such that the rarest class
    gets ``max_margin``. A class with count 0 is treated as seen once."""
    counts = torch.as_tensor(counts, dtype=torch.float64).flatten()
    if counts.numel() == 0 or (counts < 0).any():
        raise ValueError(f'LDAM needs class counts >= 0, got {counts.tolist()}.')
    if not max_margin > 0:
        raise ValueError(f'LDAM max_margin must be > 0, got {max_margin}.')
    margins = counts.clamp(min=1).pow(-0.25)
    return (margins * (max_margin / margins.max())).float()


def ldam_loss(logits: Tensor,
              labels: Tensor,
              margins: Tensor,
              scale: float = 30.0,
              class_weights: Optional[Tensor] = None) -> Tensor:
    """LDAM: ``CE(scale * (z - m_y * onehot(y)), y)``, weighted mean with
    ``class_weights`` (DRW) when given.

    ``logits`` are the cosine scores of a normalised classifier in the
    original recipe (hence ``scale``).
    """
    margins = margins.to(logits)
    if margins.numel() != logits.size(1):
        raise ValueError(f'{margins.numel()} LDAM margins for '
                         f'{logits.size(1)} classes.')
    labels = labels.long()
    shifted = logits - F.one_hot(labels, logits.size(1)).to(logits) * \
        margins[labels].unsqueeze(1)
    if class_weights is not None:
        class_weights = class_weights.to(logits)
    return F.cross_entropy(scale * shifted, labels, weight=class_weights)


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
