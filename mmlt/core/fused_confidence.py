"""DisAlign's confidence computed in the classifier's own product.

In inference (autograd not recording) on a GPU the calibrated classifiers
(``mmlt.core.calibration``) compute the confidence score in the same
product as their logits, as one extra output row (``fused_parameters``:
``[W; v; 0]``, ``[b; b_v; 0]``, zero rows up to a multiple of 8 for the
GEMM kernels), whenever copying that weight moves fewer bytes than reading
the feature a second time for a product of its own: the 1x1 convolutions
(rows << pixels; a second pass over a feature map is what a memory-bound
GPU pays for) and the cosine classifiers (whose normalised weight is a copy
anyway, now written into the fused one) always, a plain linear classifier
when it has fewer rows than the batch has samples (a ResNet-50's 1000 x
2048 classifier at batch 8 does not). On a CPU the confidence is a product
of its own: measured on this project's CPU it is as fast or faster (the
weight copy is a fresh allocation; oneDNN's speed depends erratically on
the GEMM's width), and the logits stay the stock classifier's bit for bit.
While autograd records (stage 2) the score is a product of its own too, so
that backward computes the gradient of ``v`` only, not that of the frozen
classifier's rows. ``fuse_confidence`` (a class attribute of the
classifiers) forces either way. Fused, the logits are the fused product's,
equal to the stock classifier's to rounding.
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def autograd_records(*tensors: Optional[Tensor]) -> bool:
    """Whether autograd records an op on ``tensors``."""
    return torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors)


#: The fused product's rows (classifier, confidence) are padded with zero
#: rows to a multiple of this: GEMM kernels are much faster on aligned
#: widths (oneDNN on this project's CPU: 16 outputs 0.5 ms, 13 outputs 1.1
#: ms, 12 outputs 0.8 ms; cuBLAS wants 16-byte aligned rows in bf16).
FUSED_ROWS_MULTIPLE = 8


def fused_parameters(weight: Tensor, bias: Optional[Tensor],
                     confidence: nn.Linear,
                     normalize: bool = False
                     ) -> Tuple[Tensor, Optional[Tensor]]:
    """The classifier's weight and bias with the confidence's appended as
    one more output row, then zero rows up to a multiple of
    ``FUSED_ROWS_MULTIPLE``. ``normalize``: the classifier's rows
    L2-normalised (``F.normalize``), as the cosine classifier uses them.
    A copy, differentiable while autograd records."""
    num = weight.size(0)
    rows = num + 1 + (-(num + 1)) % FUSED_ROWS_MULTIPLE
    tail = tuple(weight.shape[1:])
    conf_weight = confidence.weight.view((1, ) + tail).to(weight.dtype)
    if autograd_records(weight, confidence.weight):
        parts = [F.normalize(weight, dim=1) if normalize else weight,
                 conf_weight]
        if rows > num + 1:
            parts.append(weight.new_zeros((rows - num - 1, ) + tail))
        fused_weight = torch.cat(parts)
    else:  # written in place: F.normalize's one copy, not two
        fused_weight = weight.new_empty((rows, ) + tail)
        if normalize:
            torch.div(weight,
                      weight.norm(2, 1, keepdim=True).clamp_min(1e-12),
                      out=fused_weight[:num])
        else:
            fused_weight[:num] = weight
        fused_weight[num:num + 1] = conf_weight
        fused_weight[num + 1:] = 0
    if bias is None:
        return fused_weight, None
    return fused_weight, torch.cat(
        [bias, confidence.bias.to(bias.dtype),
         bias.new_zeros(rows - num - 1)])


def split_fused(out: Tensor, num_outputs: int, confidence: nn.Linear,
                with_bias: bool) -> Tuple[Tensor, Tensor]:
    """The logits and the confidence's pre-activation from the output of
    a product on ``fused_parameters`` (the confidence's bias added here when
    the classifier has none)."""
    logits = out[:, :num_outputs]
    score = out[:, num_outputs:num_outputs + 1]
    if not with_bias:
        shape = (1, -1) + (1, ) * (out.dim() - 2)
        score = score + confidence.bias.view(shape).to(score.dtype)
    return logits, score


def logits_and_score(
        weight: Tensor, bias: Optional[Tensor], confidence: nn.Linear,
        x: Tensor,
        product: Callable[[Tensor, Tensor, Optional[Tensor]], Tensor],
        fuse: bool) -> Tuple[Tensor, Tensor]:
    """The classifier's logits ``product(x, weight, bias)`` and the
    confidence's pre-activation ``product(x, v, b_v)``: with ``fuse`` one
    product on ``[weight; v; 0]``, else two."""
    if not fuse:
        conf_weight = confidence.weight.view((1, ) + tuple(weight.shape[1:]))
        return (product(x, weight, bias),
                product(x, conf_weight, confidence.bias))
    fused_weight, fused_bias = fused_parameters(weight, bias, confidence)
    return split_fused(product(x, fused_weight, fused_bias), weight.size(0),
                       confidence, bias is not None)


def fusion_pays(num_outputs: Optional[int], x: Tensor) -> bool:
    """Whether inference fuses the confidence into the classifier's product
    by default (module doc): not on a CPU; elsewhere when copying the fused
    weight (its rows x D) moves fewer bytes than reading ``x`` (positions x
    D) a second time, always for ``num_outputs=None`` (the cosine
    classifiers, whose normalised weight is a copy anyway)."""
    if x.device.type == 'cpu':
        return False
    if num_outputs is None:
        return True
    rows = num_outputs + 1 + (-(num_outputs + 1)) % FUSED_ROWS_MULTIPLE
    return rows <= x.numel() // max(x.size(1), 1)
