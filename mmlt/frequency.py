"""Class-frequency statistics read from real annotation files.

Long-tailed methods need the training frequency of every class (DisAlign's
generalized re-weighting, DeiT-LT's DRW weights) and a split of the classes
into groups (many / medium / few, head / body / tail, frequent / common /
rare) for reporting. This module computes both from the annotation files the
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
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

FORMAT = 'mmlt.class_frequency/v1'
KINDS = ('images', 'instances', 'pixels')
SPLIT_METHODS = ('count_thresholds', 'index_ranges', 'lvis_frequency', 'rank')
REQUIRED_KEYS = ('format', 'source', 'kind', 'classes', 'counts', 'split')
REGENERATE = ('regenerate it with tools/analysis/class_frequency.py '
              'for this dataset')

# ADE20K's head / body / tail split (DisAlign): classes 0-19, 20-74, 75-149
# of 150. Used as proportions when splitting pixel counts by rank.
ADE20K_FRACTIONS = (20 / 150, 55 / 150, 75 / 150)

# Show a progress bar only when reading this many items or more.
_MANY_FILES = 50
_MANY_ANNOTATIONS = 100_000

PathLike = Union[str, Path]


def _progress(iterable, total: int, desc: str, threshold: int):
    """Wrap ``iterable`` in a tqdm bar when tqdm exists and the job is big."""
    if total < threshold:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit='item')


def _generic_names(num_classes: int) -> Tuple[str, ...]:
    return tuple(f'class_{i}' for i in range(num_classes))


def _is_int(value) -> bool:
    # bool is an int subclass but a count of True is a bug, not a count.
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _as_int_counts(counts, where: str,
                   what: str = 'counts') -> Tuple[int, ...]:
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
        if not _is_int(value):
            raise ValueError(f'{where}: "{what}"[{i}] is {value!r}; counts '
                             'must be whole numbers (images, instances or '
                             'pixels per class).')
        if value < 0:
            raise ValueError(f'{where}: "{what}"[{i}] is {value}; counts '
                             'must be >= 0.')
        out.append(int(value))
    return tuple(out)


def _check_split(split, num_classes: int, where: str) -> dict:
    """Validate a split dict and return a normalised copy."""
    if not isinstance(split, Mapping):
        raise ValueError(f'{where}: "split" must be an object with keys '
                         '"method", "names", "thresholds", "groups", got '
                         f'{type(split).__name__}.')
    missing = [k for k in ('method', 'names', 'groups') if k not in split]
    if missing:
        raise ValueError(f'{where}: "split" is missing {missing}; it needs '
                         '"method", "names", "thresholds" and "groups".')
    method = split['method']
    if method not in SPLIT_METHODS:
        raise ValueError(f'{where}: split method {method!r} is unknown; use '
                         f'one of {list(SPLIT_METHODS)}.')
    names = split['names']
    if (isinstance(names, str) or not isinstance(names, Sequence)
            or not names or not all(isinstance(n, str) for n in names)):
        raise ValueError(f'{where}: split "names" must be a non-empty list '
                         f'of group names, got {names!r}.')
    if len(set(names)) != len(names):
        raise ValueError(f'{where}: split "names" has duplicates: '
                         f'{list(names)}.')
    groups = split['groups']
    if not isinstance(groups, Mapping) or set(groups) != set(names):
        got = list(groups) if isinstance(groups, Mapping) else groups
        raise ValueError(f'{where}: split "groups" must have exactly the '
                         f'keys {list(names)} (the split names), got {got!r}.')
    thresholds = split.get('thresholds', {})
    if not isinstance(thresholds, Mapping):
        raise ValueError(f'{where}: split "thresholds" must be an object, '
                         f'got {type(thresholds).__name__}.')
    owner = {}
    clean_groups = {}
    for name in names:
        members = groups[name]
        if isinstance(members, (str, bytes)) or not isinstance(
                members, Sequence):
            raise ValueError(f'{where}: split group {name!r} must be a list '
                             f'of class indices, got {members!r}.')
        clean = []
        for index in members:
            if not _is_int(index):
                raise ValueError(f'{where}: split group {name!r} holds '
                                 f'{index!r}, which is not a class index.')
            if not 0 <= index < num_classes:
                raise ValueError(f'{where}: split group {name!r} holds class '
                                 f'index {index}, out of range for '
                                 f'{num_classes} classes (0..'
                                 f'{num_classes - 1}); {REGENERATE}.')
            if index in owner:
                raise ValueError(f'{where}: class index {index} is in both '
                                 f'split groups {owner[index]!r} and '
                                 f'{name!r}; every class must be in exactly '
                                 'one group.')
            owner[int(index)] = name
            clean.append(int(index))
        clean_groups[name] = clean
    if len(owner) != num_classes:
        lost = [i for i in range(num_classes) if i not in owner]
        shown = ', '.join(map(str, lost[:10])) + (' ...' if len(lost) > 10
                                                  else '')
        raise ValueError(f'{where}: {len(lost)} class(es) are in no split '
                         f'group (indices {shown}); every class must be in '
                         'exactly one group.')
    return dict(method=method, names=list(names), thresholds=dict(thresholds),
                groups=clean_groups)


def _default_split(counts: Sequence[int], kind: str) -> dict:
    # Pixel counts are in the millions, so the image-count thresholds
    # (20 / 100) mean nothing for them; use ADE20K's proportions by rank.
    if kind == 'pixels':
        return split_by_rank(counts, ADE20K_FRACTIONS)
    return split_by_count(counts)


@dataclass
class ClassFrequency:
    """Per-class training frequency of one dataset and its group split.

    Attributes:
        classes: class names in the label order of the toolbox dataset.
        counts: the counts that losses use, one per class.
        kind: what ``counts`` counts: 'images', 'instances' or 'pixels'.
        split: ``{'method', 'names', 'thresholds', 'groups'}``; ``groups``
            maps each group name to its class indices, every class in
            exactly one group.
        extra_counts: other counts of the same classes by kind, e.g.
            ``{'images': ..., 'instances': ...}`` for LVIS. May be empty.
        source: what the counts were computed from.
        category_ids: the annotation file's category id of each class, in
            label order (LVIS / COCO jsons); None for other sources. The
            stage-2 check compares them with the built dataset's
            ``cat_ids``.
        path: the file this was loaded from (not saved); used in messages.
    """
    classes: Tuple[str, ...]
    counts: Tuple[int, ...]
    kind: str
    split: dict
    extra_counts: Dict[str, Tuple[int, ...]] = field(default_factory=dict)
    source: str = ''
    category_ids: Optional[Tuple[int, ...]] = None
    path: Optional[str] = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        where = self._where()
        if isinstance(self.classes, str) or not isinstance(
                self.classes, Sequence) or not all(
                    isinstance(c, str) for c in self.classes):
            raise ValueError(f'{where}: "classes" must be a list of class '
                             f'names (strings).')
        self.classes = tuple(self.classes)
        if not self.classes:
            raise ValueError(f'{where}: "classes" is empty.')
        self.counts = _as_int_counts(self.counts, where)
        if len(self.counts) != len(self.classes):
            raise ValueError(f'{where}: "counts" has {len(self.counts)} '
                             f'entries but "classes" has {len(self.classes)}'
                             f'; they must have one entry per class.')
        if self.kind not in KINDS:
            raise ValueError(f'{where}: "kind" is {self.kind!r}; use one of '
                             f'{list(KINDS)}.')
        if not isinstance(self.extra_counts, Mapping):
            raise ValueError(f'{where}: "extra_counts" must be an object '
                             'mapping a kind to a list of counts.')
        extra = {}
        for key, values in self.extra_counts.items():
            if key not in KINDS:
                raise ValueError(f'{where}: "extra_counts" has kind {key!r}; '
                                 f'use one of {list(KINDS)}.')
            values = _as_int_counts(values, where, f'extra_counts.{key}')
            if len(values) != len(self.classes):
                raise ValueError(f'{where}: "extra_counts.{key}" has '
                                 f'{len(values)} entries but "classes" has '
                                 f'{len(self.classes)}.')
            extra[key] = values
        self.extra_counts = extra
        self.split = _check_split(self.split, len(self.classes), where)
        self.source = str(self.source)
        if self.category_ids is not None:
            ids = self.category_ids
            if isinstance(ids, (str, bytes)) or not isinstance(
                    ids, Sequence) or not all(_is_int(i) for i in ids):
                raise ValueError(f'{where}: "category_ids" must be a list '
                                 'of integer category ids.')
            if len(ids) != len(self.classes) or len(set(ids)) != len(ids):
                raise ValueError(f'{where}: "category_ids" must hold one '
                                 'distinct id per class.')
            self.category_ids = tuple(int(i) for i in ids)

    def _where(self) -> str:
        if self.path:
            return f'frequency file {self.path}'
        return 'class frequency' + (f' from {self.source}'
                                    if self.source else '')

    # --------------------------------------------------------------- build
    @classmethod
    def from_counts(cls,
                    classes: Optional[Sequence[str]],
                    counts,
                    kind: str,
                    split: Optional[dict] = None,
                    source: str = '',
                    extra_counts: Optional[Mapping] = None
                    ) -> 'ClassFrequency':
        """Build from plain counts.

        ``classes=None`` names the classes 'class_0', 'class_1', ...
        ``split=None`` picks a default: count thresholds (> 100 many,
        < 20 few) for images / instances, ADE20K proportions by rank for
        pixels.
        """
        counts = _as_int_counts(counts, 'ClassFrequency.from_counts')
        if classes is None:
            classes = _generic_names(len(counts))
        if split is None:
            split = _default_split(counts, kind)
        return cls(classes=tuple(classes), counts=counts, kind=kind,
                   split=split, extra_counts=dict(extra_counts or {}),
                   source=source)

    # ------------------------------------------------------------- file io
    @classmethod
    def load(cls, path: PathLike) -> 'ClassFrequency':
        """Read and validate a frequency file written by :meth:`save`."""
        path = str(path)
        where = f'frequency file {path}'
        if not Path(path).is_file():
            raise FileNotFoundError(
                f'{where} does not exist; create it with '
                'tools/analysis/class_frequency.py (see its --help).')
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (ValueError, RecursionError) as e:
            # JSONDecodeError, UnicodeDecodeError, a number of > 4300 digits
            # (ValueError), arrays nested too deep (RecursionError)
            raise ValueError(f'{where} is not valid JSON ({e}); {REGENERATE}.'
                             ) from None
        if not isinstance(data, dict):
            raise ValueError(f'{where}: expected a JSON object at the top '
                             f'level, got {type(data).__name__}.')
        if data.get('format') != FORMAT:
            raise ValueError(f'{where}: "format" is {data.get("format")!r}, '
                             f'expected {FORMAT!r}; {REGENERATE}.')
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ValueError(f'{where}: missing key(s) {missing}; a '
                             f'frequency file needs {list(REQUIRED_KEYS)}; '
                             f'{REGENERATE}.')
        # json reads any whole number (10^400 too), which later overflows
        # float64 / int64 arrays with an error that names no file
        extra = data.get('extra_counts')
        lists = [('counts', data['counts'])] + (
            [(f'extra_counts.{k}', v) for k, v in extra.items()]
            if isinstance(extra, dict) else [])
        for what, values in lists:
            for i, value in enumerate(
                    values if isinstance(values, list) else ()):
                if _is_int(value) and abs(value) > 2**63 - 1:
                    raise OverflowError(
                        f'{where}: "{what}"[{i}] is a {len(str(abs(value)))}'
                        '-digit number; a count must fit in 64 bits (at '
                        f'most 2**63 - 1); {REGENERATE}.')
        return cls(classes=data['classes'], counts=data['counts'],
                   kind=data['kind'], split=data['split'],
                   extra_counts=data.get('extra_counts', {}),
                   source=data['source'],
                   category_ids=data.get('category_ids'), path=path)

    def to_dict(self) -> dict:
        data = {
            'format': FORMAT,
            'source': self.source,
            'kind': self.kind,
            'classes': list(self.classes),
            'counts': list(self.counts),
            'extra_counts': {k: list(v) for k, v in self.extra_counts.items()},
            'split': {
                'method': self.split['method'],
                'names': list(self.split['names']),
                'thresholds': self.split['thresholds'],
                'groups': {k: list(v)
                           for k, v in self.split['groups'].items()},
            },
        }
        if self.category_ids is not None:
            data['category_ids'] = list(self.category_ids)
        return data

    def save(self, path: PathLike) -> None:
        """Write the JSON file (one top-level key per line, for diffs)."""
        data = self.to_dict()

        def dump(value):
            return json.dumps(value, ensure_ascii=False)

        lines = []
        for key, value in data.items():
            if isinstance(value, dict) and value:
                inner = [f'    {dump(k)}: {dump(v)}' for k, v in value.items()]
                text = '{\n' + ',\n'.join(inner) + '\n  }'
            else:
                text = dump(value)
            lines.append(f'  {dump(key)}: {text}')
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{\n' + ',\n'.join(lines) + '\n}\n', encoding='utf-8')

    # ------------------------------------------------------------- queries
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def counts_array(self, kind: Optional[str] = None) -> np.ndarray:
        """Counts as float64; ``kind`` picks one of ``extra_counts``."""
        if kind is None or kind == self.kind:
            return np.asarray(self.counts, dtype=np.float64)
        if kind not in self.extra_counts:
            have = [self.kind] + [k for k in self.extra_counts
                                  if k != self.kind]
            raise ValueError(f'{self._where()} has no {kind!r} counts; it '
                             f'has {have}.')
        return np.asarray(self.extra_counts[kind], dtype=np.float64)

    @property
    def groups(self) -> Dict[str, List[int]]:
        """Group name -> class indices, in the split's group order."""
        return {name: list(self.split['groups'][name])
                for name in self.split['names']}

    def group_of(self, class_index: int) -> str:
        """Name of the group that holds class ``class_index``."""
        if not 0 <= class_index < self.num_classes:
            raise IndexError(f'class index {class_index} out of range for '
                             f'{self.num_classes} classes.')
        for name, members in self.split['groups'].items():
            if class_index in members:
                return name
        raise AssertionError('unreachable: the split covers every class')

    def check_classes(self, classes: Union[int, Sequence[str]],
                      what: str = 'the model') -> None:
        """Raise ValueError when ``classes`` does not match this file.

        ``classes`` is a class count or a sequence of class names. Names are
        compared only when this file has real names (not the generic
        'class_{i}' ones written when no names were given).
        """
        where = self._where()
        if _is_int(classes):
            other = int(classes)
            names = None
        else:
            names = list(classes)
            other = len(names)
        if other != self.num_classes:
            raise ValueError(f'{where} has {self.num_classes} classes but '
                             f'{what} has {other} classes; {REGENERATE}.')
        if names is None or self.classes == _generic_names(self.num_classes):
            return
        diff = [i for i, (a, b) in enumerate(zip(self.classes, names))
                if a != b]
        if diff:
            shown = '; '.join(f'[{i}] {self.classes[i]!r} (file) vs '
                              f'{names[i]!r} ({what})' for i in diff[:5])
            more = f'; ... {len(diff) - 5} more' if len(diff) > 5 else ''
            raise ValueError(f'{where}: class names differ from {what} at '
                             f'{len(diff)} of {other} positions: {shown}'
                             f'{more}; {REGENERATE} (or fix the class order).')

    def summary(self, max_rows: int = 30) -> str:
        """A text table (class, count, group) and per-group totals."""
        owner = {i: name for name, members in self.split['groups'].items()
                 for i in members}
        width = min(max(len(c) for c in self.classes), 40)
        lines = [f'{self.num_classes} classes, counts = {self.kind}, '
                 f'split = {self.split["method"]}',
                 f'{"idx":>5}  {"class":<{width}}  {"count":>14}  group']
        for i in range(min(max_rows, self.num_classes)):
            lines.append(f'{i:>5}  {self.classes[i][:width]:<{width}}  '
                         f'{self.counts[i]:>14}  {owner[i]}')
        if self.num_classes > max_rows:
            lines.append(f'  ... {self.num_classes - max_rows} more classes')
        total = sum(self.counts) or 1
        lines.append('')
        lines.append(f'{"group":<10}  {"classes":>7}  {"total":>14}  '
                     f'{"share":>7}  {"min":>12}  {"max":>12}')
        for name in self.split['names']:
            values = [self.counts[i] for i in self.split['groups'][name]]
            lo = min(values) if values else '-'
            hi = max(values) if values else '-'
            lines.append(f'{name:<10}  {len(values):>7}  {sum(values):>14}  '
                         f'{100 * sum(values) / total:>6.2f}%  {lo:>12}  '
                         f'{hi:>12}')
        zero = sum(1 for c in self.counts if c == 0)
        if zero:
            lines.append(f'{zero} class(es) have count 0.')
        return '\n'.join(lines)


# ------------------------------------------------------------------ splits
def split_by_count(counts: Sequence[int],
                   names: Sequence[str] = ('many', 'medium', 'few'),
                   low: int = 20,
                   high: int = 100) -> dict:
    """Three groups by count: > ``high``, ``low``..``high``, < ``low``.

    The ImageNet-LT convention: many-shot > 100 images, medium 20-100,
    few < 20.
    """
    if len(names) != 3:
        raise ValueError(f'split_by_count needs 3 group names, got {names!r}.')
    if low > high:
        raise ValueError(f'split_by_count: low ({low}) must be <= high '
                         f'({high}).')
    counts = np.asarray(counts)
    many, medium, few = names
    groups = {
        many: np.flatnonzero(counts > high).tolist(),
        medium: np.flatnonzero((counts >= low) & (counts <= high)).tolist(),
        few: np.flatnonzero(counts < low).tolist(),
    }
    thresholds = {
        'low': low, 'high': high,
        'rule': f'{many}: count > {high}; {medium}: {low} <= count <= '
                f'{high}; {few}: count < {low}'
    }
    return dict(method='count_thresholds', names=list(names),
                thresholds=thresholds, groups=groups)


def split_by_index_ranges(num_classes: int,
                          ranges: Mapping[str, Tuple[int, int]]) -> dict:
    """Groups by half-open class-index ranges that tile 0..num_classes.

    Example (ADE20K, DisAlign): ``{'head': (0, 20), 'body': (20, 75),
    'tail': (75, 150)}``.
    """
    if not ranges:
        raise ValueError('split_by_index_ranges: no ranges given.')
    spans = sorted((int(start), int(end), name)
                   for name, (start, end) in ranges.items())
    expected = 0
    for start, end, name in spans:
        if start >= end:
            raise ValueError(f'split_by_index_ranges: range {name!r} '
                             f'[{start}, {end}) is empty.')
        if start != expected:
            problem = 'gap' if start > expected else 'overlap'
            raise ValueError(f'split_by_index_ranges: {problem} at class '
                             f'index {min(start, expected)} (range {name!r} '
                             f'starts at {start}); the ranges must tile '
                             f'0..{num_classes} without gaps or overlaps.')
        expected = end
    if expected != num_classes:
        raise ValueError(f'split_by_index_ranges: the ranges end at '
                         f'{expected} but there are {num_classes} classes.')
    groups = {name: list(range(int(s), int(e)))
              for name, (s, e) in ranges.items()}
    thresholds = {'ranges': {name: [int(s), int(e)]
                             for name, (s, e) in ranges.items()},
                  'rule': 'half-open class-index ranges [start, end)'}
    return dict(method='index_ranges', names=list(ranges),
                thresholds=thresholds, groups=groups)


def _rank_sizes(num_classes: int, sizes: Sequence) -> Tuple[List[int], bool]:
    """Group sizes from ints (used as is) or fractions (rounded)."""
    if all(_is_int(s) for s in sizes):
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != num_classes:
            raise ValueError(f'split_by_rank: sizes {sizes} must be >= 0 and '
                             f'sum to the number of classes ({num_classes}).')
        return sizes, False
    fractions = [float(s) for s in sizes]
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f'split_by_rank: fractions {fractions} must be >= 0 '
                         'and sum to 1.')
    # Round the cumulative boundaries, so the sizes always sum to n.
    bounds, total = [0], 0.0
    for f in fractions:
        total += f
        # round(..., 6) first: 0.49999999 * n must round like 0.5 * n.
        bounds.append(int(math.floor(round(total * num_classes, 6) + 0.5)))
    bounds[-1] = num_classes
    return [b - a for a, b in zip(bounds, bounds[1:])], True


def split_by_rank(counts: Sequence[int],
                  sizes: Sequence = ADE20K_FRACTIONS,
                  names: Optional[Sequence[str]] = None) -> dict:
    """Sort classes by count (descending) and cut the ranking into groups.

    ``sizes`` holds either class counts per group (ints summing to the
    number of classes) or fractions (floats summing to 1, rounded to whole
    classes). Ties keep the lower class index first. ``names`` defaults to
    ('head', 'body', 'tail') for three groups.
    """
    counts = np.asarray(counts)
    if names is None:
        if len(sizes) != 3:
            raise ValueError('split_by_rank: give names for a split into '
                             f'{len(sizes)} groups.')
        names = ('head', 'body', 'tail')
    if len(names) != len(sizes):
        raise ValueError(f'split_by_rank: {len(names)} names for '
                         f'{len(sizes)} sizes.')
    group_sizes, from_fractions = _rank_sizes(len(counts), sizes)
    # Stable sort on -count: ties stay in class-index order.
    order = np.argsort(-counts.astype(np.float64), kind='stable')
    groups, start = {}, 0
    for name, size in zip(names, group_sizes):
        groups[name] = sorted(order[start:start + size].tolist())
        start += size
    thresholds = {'sizes': group_sizes,
                  'rule': 'classes sorted by count, descending (ties by '
                          'class index); consecutive groups of these sizes'}
    if from_fractions:
        thresholds['fractions'] = [float(s) for s in sizes]
    return dict(method='rank', names=list(names), thresholds=thresholds,
                groups=groups)


def split_lvis(image_counts: Sequence[int],
               frequency_letters: Optional[Sequence[Optional[str]]] = None
               ) -> dict:
    """LVIS's frequent / common / rare split.

    Uses LVIS's own 'f' / 'c' / 'r' letters when every category has one;
    otherwise the image-count rule LVIS defines them by: rare 1-10 images,
    common 11-100, frequent > 100. Categories with 0 images count as rare.
    """
    names = ('frequent', 'common', 'rare')
    if frequency_letters is not None and len(frequency_letters) == len(
            image_counts) and all(f is not None for f in frequency_letters):
        letter_to_name = {'f': 'frequent', 'c': 'common', 'r': 'rare'}
        groups = {name: [] for name in names}
        for i, letter in enumerate(frequency_letters):
            if letter not in letter_to_name:
                raise ValueError(f'split_lvis: category {i} has frequency '
                                 f'{letter!r}; LVIS uses "f", "c" or "r".')
            groups[letter_to_name[letter]].append(i)
        thresholds = {'field': 'frequency',
                      'rule': "the categories' own LVIS frequency letters "
                              "(r: 1-10 images, c: 11-100, f: > 100 in the "
                              "LVIS train set)"}
        return dict(method='lvis_frequency', names=list(names),
                    thresholds=thresholds, groups=groups)
    split = split_by_count(image_counts, names, low=11, high=100)
    split['thresholds']['count'] = 'images'
    return split


# ----------------------------------------------------------------- readers
def from_lvis_json(path: PathLike, count: str = 'images') -> ClassFrequency:
    """Images or instances per category of an LVIS v1 / COCO json.

    Counts are computed from the annotations: the number of distinct images
    with at least one annotation of the category, and the number of
    annotations. When the categories carry LVIS's own ``image_count`` /
    ``instance_count`` and these disagree with the annotations, a warning
    says so (the computed numbers are used). Classes are the category names
    in the order the json lists them, which is mmdet's label order
    (``LVISV1Dataset`` / ``CocoDataset`` label ``lvis.get_cat_ids()``, the
    json's order, not the ids sorted); their ids are kept in
    ``category_ids``. Categories with no
    annotation are kept with count 0 (with a warning): dropping them would
    shift every later label. Split: LVIS's ``frequency`` letters when every
    category has one, else the LVIS image-count rule.
    """
    if count not in ('images', 'instances'):
        raise ValueError(f"from_lvis_json: count must be 'images' or "
                         f"'instances', got {count!r}.")
    path = str(path)
    where = f'annotation file {path}'
    if not Path(path).is_file():
        raise FileNotFoundError(f'{where} does not exist.')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'{where} is not valid JSON ({e}).') from None
    if not isinstance(data, dict):
        raise ValueError(f'{where}: expected a JSON object with "categories" '
                         f'and "annotations", got {type(data).__name__}.')
    missing = [k for k in ('categories', 'annotations') if k not in data]
    if missing:
        raise ValueError(f'{where}: missing key(s) {missing}; expected an '
                         'LVIS / COCO instance annotation file.')
    categories = data['categories']
    if not isinstance(categories, list) or not categories:
        raise ValueError(f'{where}: "categories" must be a non-empty list.')
    for i, cat in enumerate(categories):
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            raise ValueError(f'{where}: categories[{i}] has no "id" / "name".')
    ids = [c['id'] for c in categories]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f'{where}: duplicate category id(s) {dup[:10]}.')
    label_of = {cat_id: label for label, cat_id in enumerate(ids)}
    num_classes = len(ids)

    annotations = data['annotations']
    if not isinstance(annotations, list):
        raise ValueError(f'{where}: "annotations" must be a list.')
    labels = np.empty(len(annotations), dtype=np.int64)
    images_index = np.empty(len(annotations), dtype=np.int64)
    image_number = {}  # image id -> 0, 1, 2, ... in order of appearance
    for i, ann in enumerate(_progress(annotations, len(annotations),
                                      'annotations', _MANY_ANNOTATIONS)):
        try:
            cat_id, image_id = ann['category_id'], ann['image_id']
        except (KeyError, TypeError):
            raise ValueError(f'{where}: annotations[{i}] has no '
                             '"category_id" / "image_id".') from None
        if cat_id not in label_of:
            raise ValueError(f'{where}: annotations[{i}] has category_id '
                             f'{cat_id!r}, which is not in "categories".')
        labels[i] = label_of[cat_id]
        images_index[i] = image_number.setdefault(image_id, len(image_number))
    instances = np.bincount(labels, minlength=num_classes)
    # Each distinct (label, image) pair is one image of that class.
    stride = max(len(image_number), 1)
    pairs = np.unique(labels * stride + images_index)
    images = np.bincount(pairs // stride, minlength=num_classes)

    names = [str(c['name']) for c in categories]
    for key, computed in (('image_count', images),
                          ('instance_count', instances)):
        if not all(key in c for c in categories):
            continue
        stored = np.asarray([c[key] for c in categories])
        bad = np.flatnonzero(stored != computed)
        if len(bad):
            shown = ', '.join(f'{names[i]!r}: {int(stored[i])} vs '
                              f'{int(computed[i])}' for i in bad[:5])
            warnings.warn(f'{where}: the categories\' own "{key}" disagrees '
                          f'with the annotations for {len(bad)} '
                          f'categories (json vs computed: {shown}); using the '
                          'counts computed from the annotations.')
    zero = np.flatnonzero(images == 0)
    if len(zero):
        shown = ', '.join(repr(names[i]) for i in zero[:10])
        more = ' ...' if len(zero) > 10 else ''
        warnings.warn(f'{where}: {len(zero)} categories have no annotation '
                      f'({shown}{more}); they are kept with count 0.')

    letters = [c.get('frequency') for c in categories]
    split = split_lvis(images, letters)
    extra = {'images': images, 'instances': instances}
    return ClassFrequency(
        classes=tuple(names),
        counts=_as_int_counts(extra[count], where),
        kind=count,
        split=split,
        extra_counts={k: _as_int_counts(v, where) for k, v in extra.items()},
        source=f'from_lvis_json({path!r}, count={count!r})',
        category_ids=tuple(ids))


def _read_label_map(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as img:
        # 'P' (palette) and 'L' give the stored indices, as mmcv's pillow
        # backend with flag='unchanged' does.
        arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ValueError(f'label map {path} has shape {arr.shape}; expected '
                         'a single-channel image of class indices (a colour '
                         'rendering is not a label map).')
    return arr


def from_segmentation_maps(ann_dir: PathLike,
                           num_classes: int,
                           classes: Optional[Sequence[str]] = None,
                           reduce_zero_label: bool = False,
                           ignore_index: int = 255,
                           suffix: str = '.png') -> ClassFrequency:
    """Pixels per class over a folder (searched recursively) of label maps.

    ``reduce_zero_label`` works as in mmseg's LoadAnnotations: label 0
    becomes 255 (ignored), every other label is decreased by 1, and 255
    stays 255. Pixels equal to ``ignore_index`` are skipped. Any other
    value >= ``num_classes`` raises ValueError naming the file. Values above
    255 are refused as well: mmseg casts label maps to uint8 and would wrap
    them. Default split: by pixel-count rank, with ADE20K's head / body /
    tail proportions (20, 55, 75 of 150 classes).
    """
    ann_dir = Path(ann_dir)
    if not ann_dir.is_dir():
        raise FileNotFoundError(f'label-map folder {ann_dir} does not exist.')
    if classes is not None and len(classes) != num_classes:
        raise ValueError(f'from_segmentation_maps: {len(classes)} class '
                         f'names for num_classes={num_classes}.')
    files = sorted(p for p in ann_dir.rglob(f'*{suffix}') if p.is_file())
    if not files:
        raise FileNotFoundError(f'no *{suffix} files under {ann_dir}; check '
                                'the folder and --suffix.')
    counts = np.zeros(num_classes, dtype=np.int64)
    for path in _progress(files, len(files), 'label maps', _MANY_FILES):
        raw = _read_label_map(path)
        if raw.dtype.kind not in 'ui':
            raise ValueError(f'label map {path} has pixel type {raw.dtype}; '
                             'expected integer class indices.')
        labels = raw.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            value = int(labels.min() if labels.min() < 0 else labels.max())
            raise ValueError(f'label map {path} holds value {value}; mmseg '
                             'reads label maps as uint8 (0..255).')
        if reduce_zero_label:
            reduced = labels - 1
            reduced[(labels == 0) | (labels == 255)] = 255
            labels = reduced
        valid = labels != ignore_index
        if reduce_zero_label:
            valid &= labels != 255
        values = labels[valid]
        bad = values[values >= num_classes]
        if bad.size:
            raise ValueError(f'label map {path} holds label {int(bad[0])} '
                             f'(after reduce_zero_label={reduce_zero_label})'
                             f', but num_classes is {num_classes} and '
                             f'ignore_index is {ignore_index}; check '
                             '--num-classes and --reduce-zero-label.')
        counts += np.bincount(values, minlength=num_classes)
    names = tuple(classes) if classes is not None else _generic_names(
        num_classes)
    source = (f'from_segmentation_maps({str(ann_dir)!r}, num_classes='
              f'{num_classes}, reduce_zero_label={reduce_zero_label}, '
              f'ignore_index={ignore_index}, suffix={suffix!r}): '
              f'{len(files)} files')
    return ClassFrequency(classes=names, counts=counts, kind='pixels',
                          split=split_by_rank(counts, ADE20K_FRACTIONS),
                          source=source)


_LIST_LINE = re.compile(r'^(?P<path>.+?)\s+(?P<label>\S+)\s*$')


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
    where = f'image list {list_file}'
    if not list_file.is_file():
        raise FileNotFoundError(f'{where} does not exist.')
    if classes is not None:
        classes = list(classes)
        if num_classes is not None and num_classes != len(classes):
            raise ValueError(f'from_image_list: {len(classes)} class names '
                             f'for num_classes={num_classes}.')
        num_classes = len(classes)
    labels = []
    with open(list_file, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            match = _LIST_LINE.match(line.strip())
            label = None
            if match and re.fullmatch(r'\d+', match['label']):
                label = int(match['label'])
            if label is None:
                raise ValueError(f'{where}, line {number}: expected '
                                 f'"path label" with an integer label >= 0, '
                                 f'got {line.strip()!r}.')
            if num_classes is not None and label >= num_classes:
                raise ValueError(f'{where}, line {number}: label {label} is '
                                 f'out of range for {num_classes} classes.')
            labels.append(label)
    if not labels:
        raise ValueError(f'{where} has no entries.')
    if num_classes is None:
        num_classes = max(labels) + 1
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    names = tuple(classes) if classes is not None else _generic_names(
        num_classes)
    return ClassFrequency(classes=names, counts=counts, kind='images',
                          split=split_by_count(counts),
                          source=f'from_image_list({str(list_file)!r})')
