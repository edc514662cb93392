"""Helpers shared by the class-frequency data model and its readers:
counts as whole numbers, generic class names, the readers' progress bar,
reading input files with errors that name them, and quoting names from
them in messages."""
import json
import math
import warnings
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


def reordered_or_respelled(diff: Sequence[tuple], file_classes: Sequence[str],
                           classes: Sequence[str]) -> Tuple[list, list]:
    """Split the differences of ``differing_class_names`` into those where
    a name of one list stands at another position in the other (the labels
    are in another order: the names do not name them) and those where a
    name is spelled otherwise (the real LVIS v1 json's
    'speaker_(stero_equipment)' against mmdet's 'speaker_(stereo_equipment)':
    the same class)."""
    file_set, other_set = set(file_classes), set(classes)
    reordered = [d for d in diff if d[2] in file_set or d[1] in other_set]
    respelled = [d for d in diff if d not in reordered]
    return reordered, respelled


def quoted(text, limit: int = 80) -> str:
    """``repr(text)``, cut to about ``limit`` characters: an error message
    quotes a name from a file, and a name can be megabytes long."""
    text = repr(text)
    return text if len(text) <= limit else text[:limit - 5] + '...' + text[-2:]


def check_input_file(path: PathLike, where: str,
                     missing_hint: str = '') -> Path:
    """``path`` as a Path; FileNotFoundError / IsADirectoryError that say
    which, where ``where`` names the file for the user."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f'{where} is a directory; give the file '
                                'itself.')
    if not path.is_file():
        raise FileNotFoundError(f'{where} does not exist{missing_hint}.')
    return path


def read_text(path: PathLike, where: str) -> str:
    """The UTF-8 text of ``path``; errors name ``where`` (missing, a
    directory, not UTF-8)."""
    path = check_input_file(path, where)
    try:
        return path.read_text(encoding='utf-8')
    except UnicodeDecodeError as e:
        raise ValueError(f'{where} is not UTF-8 text ({e.reason} at byte '
                         f'{e.start}).') from None


def read_class_names(path: PathLike, where: str) -> List[str]:
    """The class names of a text file, one per line (blank lines and the
    lines' surrounding spaces dropped); a name given twice is an error: a
    list someone wrote."""
    names = [line.strip() for line in read_text(path, where).splitlines()]
    names = [n for n in names if n]
    check_unique_names(names, where)
    return names


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f'the key(s) {", ".join(quoted(k) for k in dup[:5])}'
                         ' appear twice in one object, so one value would be '
                         'silently dropped')
    return dict(pairs)


def read_json(path: PathLike, where: str, hint: str = '',
              missing_hint: str = ''):
    """The JSON in ``path``, as data (never run); ValueError naming
    ``where`` for text that is not UTF-8 JSON, a key given twice in one
    object, or nesting too deep to read (``hint`` follows the reason)."""
    path = check_input_file(path, where, missing_hint)
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as e:
        # JSONDecodeError, UnicodeDecodeError, a number of > 4300 digits,
        # a duplicate key (ValueError); arrays nested too deep
        reason = ('nested too deeply to read' if isinstance(
            e, RecursionError) else str(e)[:300])
        raise ValueError(f'{where} is not valid JSON ({reason}){hint}.'
                         ) from None


def check_unique_names(names: Sequence[str], where: str,
                       strict: bool = True) -> None:
    """A class name given twice makes the name checks between files and
    datasets, and any report by name, ambiguous: ``strict`` (a list a user
    wrote) fails, else (a published list: ImageNet's names 'crane' and
    'maillot' twice each) warns."""
    first, repeated = {}, []
    for index, name in enumerate(names):
        if name in first:
            repeated.append(f'{quoted(name)} (classes {first[name]} and '
                            f'{index})')
        first.setdefault(name, index)
    if not repeated:
        return
    message = (f'{where}: {len(repeated)} class names are given twice: '
               f'{"; ".join(repeated[:5])}')
    if strict:
        raise ValueError(message + '; each class needs a name of its own.')
    warnings.warn(message + '; checks and reports by name cannot tell '
                  'those classes apart.')


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
