"""Class weights computed from training frequencies.

* ``grw_weights``: DisAlign's generalized re-weighting (G-RW).
* ``effective_number_weights``: the "effective number of samples" weights of
  Cui et al. that DeiT-LT's DRW stage applies to the distillation loss.
"""
import math
from typing import List, Sequence, Union

import torch

Counts = Union[Sequence[float], torch.Tensor]


def _as_counts(counts: Counts, name: str) -> torch.Tensor:
    counts = torch.as_tensor(counts, dtype=torch.float64).flatten()
    if counts.numel() == 0:
        raise ValueError(f'{name}: got an empty list of class counts.')
    if not torch.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(f'{name}: class counts must be finite and >= 0, '
                         f'got {counts.tolist()}.')
    if (counts == 0).all():
        raise ValueError(f'{name}: every class count is 0; the frequency '
                         'statistics are empty.')
    return counts


def grw_weights(counts: Counts, rho: float) -> torch.Tensor:
    """G-RW weights ``w_c = (1 / r_c)^rho / sum_k (1 / r_k)^rho``, times ``C``.

    The paper's weights sum to 1; mmlt scales them by the number of classes
    ``C`` so they average 1 (as the public code does). ``rho = 0`` then gives
    all ones, i.e. plain cross-entropy, and the loss keeps the scale of the
    unweighted loss whatever the reduction.

    A class with count 0 never occurs as a training target, so its weight
    only matters for soft targets; it gets the weight of the rarest observed
    class instead of an infinite one.

    Args:
        counts: training frequency of each class (images, instances or
            pixels); any positive scale, only ratios matter.
        rho: the re-weighting exponent, ``rho >= 0``. 0 is instance-balanced,
            1 class-balanced; the paper uses 0.2-1.5.

    Returns:
        float32 tensor of shape (C,).
    """
    rho = float(rho)
    if not rho >= 0 or rho == float('inf'):
        raise ValueError(f'G-RW rho must be a finite number >= 0 (0 = no '
                         f're-weighting, 1 = class-balanced), got {rho}.')
    counts = _as_counts(counts, 'grw_weights')
    counts = torch.where(counts > 0, counts, counts[counts > 0].min())
    # In log space: w_c = C exp(rho log(r_max / r_c)) / sum_k (...), finite
    # for pixel counts in the billions and for any rho.
    log_w = rho * torch.log(counts.max() / counts)
    log_w = log_w - torch.logsumexp(log_w, 0) + math.log(counts.numel())
    # The loss computes in float32: a rho large enough gives the head
    # classes weight 0 (rho 50 zeroed 6 of 10 LT-Digits classes, rho 200
    # gave NaN), and the loss would then quietly ignore them.
    f32 = torch.finfo(torch.float32)
    smallest, largest = log_w.min().item(), log_w.max().item()
    if smallest < math.log(f32.tiny) or largest > math.log(f32.max):
        raise ValueError(
            f'G-RW rho={rho} is too large for these counts (largest / '
            f'smallest = {(counts.max() / counts.min()).item():.4g}): the '
            f'class weights would range from {_exp10(smallest)} to '
            f'{_exp10(largest)}, outside float32 (the smallest normal '
            f'number is {f32.tiny:.3g}), so some classes would get weight 0 '
            'or inf. The paper uses rho 0.2-1.5.')
    return torch.exp(log_w).float()


def _exp10(log_value: float) -> str:
    """``exp(log_value)`` written as ``a.bce±n``, whatever its size."""
    exponent = log_value / math.log(10)
    whole = math.floor(exponent)
    mantissa = float(f'{10**(exponent - whole):.3g}')
    if mantissa >= 10:  # 9.9996 rounds to 10
        mantissa, whole = mantissa / 10, whole + 1
    return f'{mantissa:.3g}e{whole:+d}'


def effective_number_weights(counts: Counts, beta: float) -> torch.Tensor:
    """Class-balanced weights ``w_c = (1 - beta) / (1 - beta^{n_c})``.

    Normalised to average 1 over the classes, as in the DeiT-LT and LDAM-DRW
    code. A class with count 0 gets the weight of a class seen once.

    Args:
        counts: training images per class.
        beta: in [0, 1); DeiT-LT uses 0.9999. ``beta = 0`` gives all ones.
    """
    beta = float(beta)
    if not 0 <= beta < 1:
        raise ValueError(
            f'effective-number beta must be in [0, 1), got {beta}.')
    counts = _as_counts(counts, 'effective_number_weights').clamp(min=1)
    beta_t = torch.tensor(beta, dtype=torch.float64)
    weights = (1 - beta) / (1 - torch.pow(beta_t, counts))
    weights = weights / weights.sum() * counts.numel()
    return weights.float()


def exponential_profile(n_max: int, num_classes: int,
                        imbalance_ratio: float) -> List[int]:
    """Samples per class of the exponential long-tailed profile (CIFAR-LT of
    LDAM-DRW / DeiT-LT, and LT-Digits): class 0 keeps ``n_max``, the last
    ``n_max / imbalance_ratio``, truncated as LDAM's
    ``int(img_max * imb_factor ** (i / (C - 1)))``."""
    if imbalance_ratio < 1:
        raise ValueError(f'imbalance_ratio must be >= 1 (n_max / n_min), '
                         f'got {imbalance_ratio}.')
    if n_max < 1:
        raise ValueError(f'n_max must be >= 1, got {n_max}.')
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}.')
    if num_classes == 1:
        return [int(n_max)]
    factor = 1 / imbalance_ratio
    return [int(n_max * factor**(i / (num_classes - 1)))
            for i in range(num_classes)]
