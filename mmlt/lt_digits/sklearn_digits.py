"""LT-Digits classification from a second source: scikit-learn's 1,797
bundled 8x8 digit scans (UCI optical digits; another set of writers and
scanner than MNIST), made long-tailed with the same profile and written in
the same layout, so that every LT-Digits classification config runs on it
by changing its data root.

The 8x8 scans (values 0-16) are scaled to 0-255 and resized (bicubic) to
MNIST's 28x28, so the shipped configs (input size, shifts) apply as they
are. Nothing is downloaded: the scans ship inside scikit-learn.
"""
from pathlib import Path
from typing import Dict, Tuple, Union

import numpy as np
from PIL import Image

from mmlt.core.reweighting import exponential_profile
from .common import LT_DIGITS_CLASSES, write_json
from .maker import _split_classes
from .writers import write_cls

PathLike = Union[str, Path]
SIZE = 28


def load_sklearn_digits() -> Tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (N, 28, 28) uint8 and (N,) int64 labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError('the second digit source needs scikit-learn: run '
                          '`pip install scikit-learn`') from e
    digits = load_digits()
    scans = np.clip(digits.images * (255 / 16), 0, 255).astype(np.uint8)
    images = np.stack([
        np.asarray(Image.fromarray(s, mode='L').resize((SIZE, SIZE),
                                                       Image.BICUBIC))
        for s in scans
    ])
    return images, digits.target.astype(np.int64)


def make_lt_sklearn_digits(out_dir: PathLike,
                           imbalance_ratio: float = 100,
                           seed: int = 0,
                           val_per_class: int = 25,
                           test_per_class: int = 45) -> Dict[str, str]:
    """Write the long-tailed scikit-learn digits under ``out_dir/cls`` in
    LT-Digits' classification layout; return the paths written.

    Each class's scans are split into balanced val / test and a train pool
    (the rarest class has 174 scans: with the defaults the pool keeps 104
    per class, so class 0 is many-shot, > 100); the train profile is
    ``exponential_profile(104, 10, imbalance_ratio)``.
    """
    images, labels = load_sklearn_digits()
    per_class = int(np.bincount(labels, minlength=10).min())
    n_max = per_class - val_per_class - test_per_class
    if n_max < 1:
        raise ValueError(f'val_per_class + test_per_class must leave train '
                         f'scans (each class has {per_class})')
    counts = exponential_profile(n_max, len(LT_DIGITS_CLASSES),
                                 imbalance_ratio)
    if min(counts) < 1:
        raise ValueError(f'imbalance_ratio {imbalance_ratio} leaves a class '
                         f'with no train scan ({counts})')
    rng = np.random.default_rng(seed)
    val, test, pool = _split_classes(labels, rng, val_per_class,
                                     test_per_class)
    train = {c: sorted(pool[c][:counts[c]]) for c in pool}
    out = Path(out_dir)
    paths = write_cls(out / 'cls', images,
                      dict(train=train, val=val, test=test),
                      source='sklearn')
    write_json(out / 'sklearn_digits.json',
               dict(source='sklearn.datasets.load_digits',
                    imbalance_ratio=imbalance_ratio, seed=seed,
                    val_per_class=val_per_class,
                    test_per_class=test_per_class, cls_train=counts))
    return paths
