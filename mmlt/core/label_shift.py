"""Test-agnostic evaluation under label shift (Zhang et al., NeurIPS 2022,
"Self-Supervised Aggregation of Diverse Experts for Test-Agnostic
Long-Tailed Recognition", SADE; github.com/Vanint/SADE-AgnosticLT): the
balanced test set re-sampled to a long-tailed label prior with imbalance
ratio ``r`` (1, 2, 5, 10, 25, 50 in the paper), either *forward* (the
training order: frequent classes keep the most test samples) or *backward*
(reversed: the rarest training classes keep the most).

The counts follow SADE's ``data_loader/imbalance_cifar.py``
(``IMBALANCECIFAR10.get_img_num_per_cls``, called with
``imb_factor = 1 / r`` by ``test_all_cifar.py``): the class of training
rank ``i`` of ``C`` keeps ``int(n_max * (1 / r) ** (i / (C - 1)))`` samples
(truncated, not rounded), rank ``C - 1 - i`` for backward, ``n_max`` the
per-class count of the balanced test set; ``gen_imbalanced_data`` keeps
the first samples of each class after ``np.random.shuffle`` under
``np.random.seed(0)``, which ``resample_to_prior`` reproduces.

The rank is the class index on CIFAR-LT (its classes are in descending
training count). SADE's ImageNet-LT / Places-LT lists (``data_txt/``) hold
the same counts given out by descending training count, which is not the
index order there: pass ``train_counts`` to ``resample_to_prior``.
"""
import math
from numbers import Integral, Real
from typing import List, Optional, Sequence

import numpy as np

DIRECTIONS = ('forward', 'backward')


def shifted_counts(per_class: int, num_classes: int, imbalance: float,
                   direction: str = 'forward') -> List[int]:
    """Test samples kept per class, entry ``i`` for the class of training
    rank ``i`` (0 = most frequent): ``int(per_class * (1 / imbalance) **
    (i / (C - 1)))`` forward, the same reversed backward (module doc).
    ``imbalance=1`` keeps ``per_class`` of every class; a small
    ``per_class`` with a large ratio can keep 0 of the rarest."""
    for name, value in (('per_class', per_class),
                        ('num_classes', num_classes)):
        if isinstance(value, bool) or not isinstance(value, Integral) \
                or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got '
                             f'{value!r}.')
    if isinstance(imbalance, bool) or not isinstance(imbalance, Real) \
            or not math.isfinite(imbalance) or imbalance < 1:
        raise ValueError(f'imbalance is the ratio of the largest to the '
                         f'smallest class count, a number >= 1 (1: '
                         f'balanced); got {imbalance!r}.')
    if direction not in DIRECTIONS:
        raise ValueError(f'direction must be one of {list(DIRECTIONS)}, '
                         f'got {direction!r}.')
    if num_classes == 1:
        return [int(per_class)]
    # SADE's expression, float for float: 1 / r is its imb_factor (0.02,
    # 0.1, ... are the same doubles), and the truncation of int() decides
    # counts that land on a whole number
    factor = 1.0 / imbalance
    top = float(per_class)
    last = num_classes - 1.0
    ranks = range(num_classes)
    if direction == 'backward':
        ranks = reversed(ranks)
    return [int(top * factor**(i / last)) for i in ranks]


def resample_to_prior(labels, imbalance: float, direction: str = 'forward',
                      seed: int = 0,
                      train_counts: Optional[Sequence[int]] = None,
                      num_classes: Optional[int] = None) -> np.ndarray:
    """Indices (ascending) into ``labels`` of a subset whose label prior is
    the shifted one: the per-class count of the balanced set is the
    smallest class count, each class keeps a random subset of
    ``shifted_counts`` size. The same seed gives the same indices (for
    SADE's CIFAR test set and seed 0, SADE's own).

    Args:
        labels: (N,) the test labels, integers in [0, C).
        imbalance / direction: as ``shifted_counts``.
        seed: the seed of the draw.
        train_counts: training count of each class; the shifted counts go
            out by descending training count (ties: lower index first).
            None: by index (class 0 the most frequent, as CIFAR-LT).
        num_classes: C; defaults to ``len(train_counts)``, else the largest
            label + 1.
    """
    if hasattr(labels, 'detach'):  # a torch tensor
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f'labels must be a non-empty 1-D array, got shape '
                         f'{labels.shape}.')
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError('labels must be integers >= 0.')
    if train_counts is not None:
        train_counts = np.asarray(train_counts, dtype=np.float64)
        if num_classes is not None and num_classes != len(train_counts):
            raise ValueError(f'num_classes is {num_classes} but '
                             f'train_counts has {len(train_counts)} values.')
        num_classes = len(train_counts)
    elif num_classes is None:
        num_classes = int(labels.max()) + 1
    if labels.max() >= num_classes:
        raise ValueError(f'label {int(labels.max())} is not a class of '
                         f'{num_classes}.')
    have = np.bincount(labels, minlength=num_classes)
    if (have == 0).any():
        raise ValueError(
            f'class(es) {np.flatnonzero(have == 0).tolist()[:10]} have no '
            'test sample; the balanced set needs every class.')
    by_rank = shifted_counts(int(have.min()), num_classes, imbalance,
                             direction)
    order = (np.arange(num_classes) if train_counts is None else
             np.argsort(-train_counts, kind='stable'))
    keep = np.empty(num_classes, dtype=np.int64)
    keep[order] = by_rank
    # one generator, classes in index order, shuffle then take the first:
    # SADE's gen_imbalanced_data, so that seed 0 draws its subset
    rng = np.random.RandomState(seed)
    chosen = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        chosen.append(idx[:keep[c]])
    return np.sort(np.concatenate(chosen))


def shifted_prior(counts) -> np.ndarray:
    """The label prior ``n_c / sum n`` of the kept counts, e.g. of
    ``shifted_counts`` or ``np.bincount(labels[kept])``: the target prior
    for post-hoc logit adjustment to the shifted test set."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f'counts must be a non-empty 1-D array, got shape '
                         f'{counts.shape}.')
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError('counts must be finite and >= 0.')
    total = counts.sum()
    if total <= 0:
        raise ValueError('the counts are all 0: no prior.')
    return counts / total
