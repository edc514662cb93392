"""Helpers shared by the class-frequency data model and its readers:
counts as whole numbers, generic class names, the readers' progress bar."""
import math
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, Path]

REGENERATE = ('regenerate it with tools/analysis/class_frequency.py '
              'for this dataset')

# Show a progress bar only when reading this many items or more.
MANY_FILES = 50
MANY_ANNOTATIONS = 100_000


def progress_bar(iterable, total: int, desc: str, threshold: int):
    """Wrap ``iterable`` in a tqdm bar when tqdm exists and the job is big."""
    if total < threshold:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit='item')


def differing_class_names(file_classes: Optional[Sequence[str]],
                          classes: Sequence[str]) -> List[tuple]:
    """``(index, file's name, other name)`` wherever the names of a
    frequency file and of a dataset / model differ; none when the file has
    no real names (None, or the generic 'class_{i}' ones written when no
    names were given)."""
    if file_classes is None or tuple(file_classes) == generic_class_names(
            len(file_classes)):
        return []
    return [(i, a, b) for i, (a, b) in enumerate(zip(file_classes, classes))
            if a != b]


def generic_class_names(num_classes: int) -> Tuple[str, ...]:
    return tuple(f'class_{i}' for i in range(num_classes))


def is_whole_number(value) -> bool:
    # bool is an int subclass but a count of True is a bug, not a count.
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def as_counts(counts, where: str, what: str = 'counts') -> Tuple[int, ...]:
    """Turn a sequence / array of whole numbers into a tuple of Python ints."""
    if isinstance(counts, np.ndarray):
        counts = counts.ravel().tolist()
    if isinstance(counts, (str, bytes)) or not isinstance(counts, Sequence):
        raise ValueError(f'{where}: "{what}" must be a list of integers, got '
                         f'{type(counts).__name__}.')
    out = []
    for i, value in enumerate(counts):
        if isinstance(value, (float, np.floating)) and math.isfinite(
                value) and float(value).is_integer():
            value = int(value)
        if not is_whole_number(value):
            raise ValueError(f'{where}: "{what}"[{i}] is {value!r}; counts '
                             'must be whole numbers (images, instances or '
                             'pixels per class).')
        if value < 0:
            raise ValueError(f'{where}: "{what}"[{i}] is {value}; counts '
                             'must be >= 0.')
        out.append(int(value))
    return tuple(out)
