"""The class-frequency data model: per-class training counts of one dataset
with their group split, stored as one JSON file (``FORMAT``) that configs
point at."""
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .counts import (REGENERATE, PathLike, as_counts, check_unique_names,
                     differing_class_names, generic_class_names,
                     is_whole_number, quoted, read_json,
                     reordered_or_respelled)
from .splits import check_split, default_split

FORMAT = 'mmlt.class_frequency/v1'
KINDS = ('images', 'instances', 'pixels')
REQUIRED_KEYS = ('format', 'source', 'kind', 'classes', 'counts', 'split')


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
        check_unique_names(self.classes, where, strict=False)
        self.counts = as_counts(self.counts, where)
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
            values = as_counts(values, where, f'extra_counts.{key}')
            if len(values) != len(self.classes):
                raise ValueError(f'{where}: "extra_counts.{key}" has '
                                 f'{len(values)} entries but "classes" has '
                                 f'{len(self.classes)}.')
            extra[key] = values
        self.extra_counts = extra
        self.split = check_split(self.split, len(self.classes), where)
        self.source = str(self.source)
        if self.category_ids is not None:
            ids = self.category_ids
            if isinstance(ids, (str, bytes)) or not isinstance(
                    ids, Sequence) or not all(is_whole_number(i) for i in ids):
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
        counts = as_counts(counts, 'ClassFrequency.from_counts')
        if classes is None:
            classes = generic_class_names(len(counts))
        if split is None:
            split = default_split(counts, kind)
        return cls(classes=tuple(classes), counts=counts, kind=kind,
                   split=split, extra_counts=dict(extra_counts or {}),
                   source=source)

    # ------------------------------------------------------------- file io
    @classmethod
    def load(cls, path: PathLike) -> 'ClassFrequency':
        """Read and validate a frequency file written by :meth:`save`."""
        path = str(path)
        where = f'frequency file {path}'
        data = read_json(
            path, where, hint=f'; {REGENERATE}',
            missing_hint='; create it with tools/analysis/class_frequency.py'
            ' (see its --help)')
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
                if is_whole_number(value) and abs(value) > 2**63 - 1:
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
                      what: str = 'the model',
                      allow_respelled: bool = False) -> None:
        """Raise ValueError when ``classes`` does not match this file.

        ``classes`` is a class count or a sequence of class names. Names are
        compared only when this file has real names (not the generic
        'class_{i}' ones written when no names were given).
        ``allow_respelled``: a name spelled otherwise at its position (and
        found nowhere else) is the same class, and only warned about; a name
        at another position is still an error (``reordered_or_respelled``).
        """
        where = self._where()
        if is_whole_number(classes):
            other = int(classes)
            names = None
        else:
            names = list(classes)
            other = len(names)
        if other != self.num_classes:
            raise ValueError(f'{where} has {self.num_classes} classes but '
                             f'{what} has {other} classes; {REGENERATE}.')
        if names is None:
            return
        diff = differing_class_names(self.classes, names)
        if allow_respelled:
            diff, respelled = reordered_or_respelled(diff, self.classes, names)
            if respelled:
                warnings.warn(
                    f'{where}: {len(respelled)} class names are spelled '
                    f'otherwise in {what}, taken as the same classes: ' +
                    '; '.join(f'[{i}] {quoted(a)} (file) vs {quoted(b)}'
                              for i, a, b in respelled[:5]))
        if diff:
            shown = '; '.join(f'[{i}] {quoted(a)} (file) vs {quoted(b)} '
                              f'({what})' for i, a, b in diff[:5])
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
