"""Class-frequency statistics read from real annotation files.

Long-tailed methods need the training frequency of every class (DisAlign's
generalized re-weighting, DeiT-LT's DRW weights) and a split of the classes
into groups (many / medium / few, head / body / tail, frequent / common /
rare) for reporting. This package computes both from the annotation files the
toolboxes train on and stores them in one JSON format, so that configs point
at a file instead of pasting thousands of numbers:

- ``from_lvis_json``: LVIS v1 / COCO json (images or instances per category);
- ``from_segmentation_maps``: a folder of label PNGs (pixels per class);
- ``from_image_list``: an ImageNet-LT style ``path label`` list (images per
  class).

Toolbox-free on purpose: it imports only the standard library, numpy, PIL
and (when installed) tqdm, so it runs before any toolbox is installed and
the adapters can load a frequency file without importing another toolbox.
"""
from .class_frequency import FORMAT, KINDS, REQUIRED_KEYS, ClassFrequency
from .counts import REGENERATE
from .image_list import from_image_list
from .lvis import from_lvis_json
from .segmentation_maps import from_segmentation_maps
from .splits import (ADE20K_FRACTIONS, ADE20K_GROUPS, NAMED_GROUPS,
                     SPLIT_METHODS, groups_from_ranges, split_by_count,
                     split_by_index_ranges, split_by_rank, split_lvis)

__all__ = [
    'FORMAT', 'KINDS', 'REQUIRED_KEYS', 'REGENERATE', 'SPLIT_METHODS',
    'ADE20K_FRACTIONS', 'ADE20K_GROUPS', 'NAMED_GROUPS', 'groups_from_ranges',
    'ClassFrequency', 'from_image_list',
    'from_lvis_json', 'from_segmentation_maps', 'split_by_count',
    'split_by_index_ranges', 'split_by_rank', 'split_lvis'
]
