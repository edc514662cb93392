"""Class frequencies of an ImageNet-LT style ``path label`` list (images
per class)."""
import re
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .class_frequency import ClassFrequency
from .counts import PathLike, generic_class_names, quoted, read_text
from .splits import split_by_count


_LIST_LINE = re.compile(r'^(?P<path>.+?)\s+(?P<label>\S+)\s*$')


def read_image_list(list_file: PathLike,
                    num_classes: Optional[int] = None):
    """The entries (lines without their newline) of an ImageNet-LT style
    ``path label`` list and their integer labels; blank lines skipped."""
    where = f'image list {list_file}'
    lines = read_text(list_file, where).splitlines()
    entries, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _LIST_LINE.match(line.strip())
        label = None
        if match and re.fullmatch(r'\d+', match['label']):
            label = int(match['label'])
        if label is None:
            raise ValueError(f'{where}, line {number}: expected '
                             f'"path label" with an integer label >= 0, '
                             f'got {quoted(line.strip())}.')
        if num_classes is not None and label >= num_classes:
            raise ValueError(f'{where}, line {number}: label {label} is '
                             f'out of range for {num_classes} classes.')
        entries.append(line)
        labels.append(label)
    if not labels:
        raise ValueError(f'{where} has no entries.')
    return entries, labels


def from_image_list(list_file: PathLike,
                    classes: Optional[Sequence[str]] = None,
                    num_classes: Optional[int] = None) -> ClassFrequency:
    """Images per class of an ImageNet-LT style ``path label`` list.

    One image per line, the label (an int) last; blank lines are skipped.
    The number of classes is ``num_classes``, else ``len(classes)``, else
    the largest label + 1. Default split: > 100 many, 20-100 medium, < 20
    few.
    """
    list_file = Path(list_file)
    if classes is not None:
        classes = list(classes)
        if num_classes is not None and num_classes != len(classes):
            raise ValueError(f'from_image_list: {len(classes)} class names '
                             f'for num_classes={num_classes}.')
        num_classes = len(classes)
    _, labels = read_image_list(list_file, num_classes)
    if num_classes is None:
        num_classes = max(labels) + 1
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    names = tuple(classes) if classes is not None else generic_class_names(
        num_classes)
    return ClassFrequency(classes=names, counts=counts, kind='images',
                          split=split_by_count(counts),
                          source=f'from_image_list({str(list_file)!r})')
