"""Per-class result files: one format for classification, segmentation and
detection, so that one tool plots any of them against the training count.

A result is one row per class: ``id`` (label index), ``name``,
``train_count``, ``group`` (many / medium / few, head / body / tail, ...)
and one column per metric (top-1, IoU, AP, ...). ``write_per_class`` stores
the rows twice: a CSV for spreadsheets and a JSON that also names the task
and may carry extra entries (the run, the overall metrics).
"""
import csv
import io
import json
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mmlt.utils.atomic_write import write_atomically

PER_CLASS_KEYS = ('id', 'name', 'train_count', 'group')
# entries of the JSON next to the rows; ``extra`` may not replace them
RESERVED = ('task', 'metrics', 'classes')

PathLike = Union[str, Path]


def _tolist(values) -> list:
    """A list from a list, tuple, numpy array or torch tensor."""
    if hasattr(values, 'tolist'):  # numpy / torch, without importing torch
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f'expected a sequence, got {type(values).__name__}')
    return list(values)


def _metric_value(value, where: str) -> Optional[float]:
    """float, or None for a missing value (None or NaN: JSON has no NaN)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f'{where} is {value!r}; a metric value must be a '
                         'number or None.')
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError(f'{where} is {value}; a metric value must be '
                         'finite (None for a class without a value).')
    return value


def _class_groups(groups: Mapping[str, Sequence[int]],
                  num_classes: int) -> List[Optional[str]]:
    """The group of each class; None for a class in no group."""
    of_class: List[Optional[str]] = [None] * num_classes
    for group, members in groups.items():
        for index in _tolist(members):
            if isinstance(index, bool) or not isinstance(index, Integral) \
                    or not 0 <= index < num_classes:
                raise ValueError(
                    f'group {group!r} holds {index!r}, not a class index '
                    f'in [0, {num_classes}).')
            if of_class[index] is not None:
                raise ValueError(
                    f'class {index} is in two groups, {of_class[index]!r} '
                    f'and {group!r}; each class may be in one group only.')
            of_class[index] = str(group)
    return of_class


def per_class_rows(names: Sequence[str],
                   metrics: Mapping[str, Sequence[Optional[float]]],
                   train_counts: Optional[Sequence[int]] = None,
                   groups: Optional[Mapping[str, Sequence[int]]] = None
                   ) -> List[dict]:
    """One dict per class: ``id``, ``name``, ``train_count`` (int or None),
    ``group`` (the group whose index list holds the class, or None), then
    each metric of ``metrics`` in its order (float, or None where the value
    is None or NaN).

    Raises ValueError when a metric or ``train_counts`` has not one value
    per name, or a group holds an index that is not a class.
    """
    names = _tolist(names)
    if not all(isinstance(n, str) for n in names):
        raise ValueError('names must be strings, one per class.')
    num = len(names)
    columns = {}
    for metric, values in metrics.items():
        if metric in PER_CLASS_KEYS:
            raise ValueError(f'metric name {metric!r} is a column of its '
                             f'own ({PER_CLASS_KEYS}); rename the metric.')
        values = _tolist(values)
        if len(values) != num:
            raise ValueError(f'metric {metric!r} has {len(values)} values '
                             f'but there are {num} class names.')
        columns[str(metric)] = [
            _metric_value(v, f'metric {metric!r} of class {i}')
            for i, v in enumerate(values)]
    counts: List[Optional[int]] = [None] * num
    if train_counts is not None:
        counts = _tolist(train_counts)
        if len(counts) != num:
            raise ValueError(f'train_counts has {len(counts)} values but '
                             f'there are {num} class names.')
        for i, count in enumerate(counts):
            # 3.0 from a float array is a count, 2.5 is not
            if isinstance(count, bool) or not isinstance(count, Real) \
                    or count != int(count) or count < 0:
                raise ValueError(f'train_counts[{i}] is {count!r}; a '
                                 'count must be a whole number >= 0.')
        counts = [int(c) for c in counts]
    of_class = _class_groups(groups or {}, num)
    return [
        dict(id=i, name=name, train_count=counts[i], group=of_class[i],
             **{metric: column[i] for metric, column in columns.items()})
        for i, name in enumerate(names)
    ]


def _check_rows(rows: Sequence[Mapping], metric_names: Sequence[str]):
    columns = PER_CLASS_KEYS + tuple(metric_names)
    for i, row in enumerate(rows):
        missing = [c for c in columns if c not in row]
        if missing:
            raise ValueError(f'row {i} has no column(s) {missing}; build '
                             'the rows with per_class_rows and pass its '
                             'metric names.')


def write_per_class(out_stem: PathLike, rows: Sequence[Mapping], task: str,
                    metric_names: Sequence[str],
                    extra: Optional[Mapping] = None) -> Tuple[Path, Path]:
    """Write ``out_stem.csv`` and ``out_stem.json``; returns their paths.

    The CSV has the columns ``id,name,train_count,group`` and
    ``metric_names``, an empty cell for None. The JSON is ``{"task",
    "metrics", "classes": rows}`` plus ``extra``. Each file is written
    atomically; the directory is created.
    """
    stem = str(out_stem)
    if stem.endswith(('.csv', '.json')):
        raise ValueError(f'{stem}: pass the path without .csv / .json; '
                         'both files are written.')
    metric_names = [str(m) for m in metric_names]
    rows = [dict(row) for row in rows]
    _check_rows(rows, metric_names)
    extra = dict(extra or {})
    clash = [k for k in RESERVED if k in extra]
    if clash:
        raise ValueError(f'extra has {clash}, which the file sets itself; '
                         'rename those entries.')
    columns = list(PER_CLASS_KEYS) + metric_names
    # serialise both first: a value JSON cannot hold then fails before
    # either file is written, not between the two
    text_json = json.dumps(
        dict(task=task, metrics=metric_names, classes=rows, **extra),
        indent=1, allow_nan=False) + '\n'
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(columns)
    for row in rows:
        writer.writerow(['' if row[c] is None else row[c] for c in columns])
    csv_path = write_atomically(buffer.getvalue(), stem + '.csv')
    json_path = write_atomically(text_json, stem + '.json')
    return csv_path, json_path


def _parse_cell(text: str, kind, where: str):
    if text == '':
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f'{where} is {text!r}, not a {kind.__name__}.'
                         ) from None


def _read_csv(path: Path) -> dict:
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f'{path}: empty file; expected a per-class CSV '
                             f'with the columns {list(PER_CLASS_KEYS)}.')
        missing = [c for c in PER_CLASS_KEYS if c not in header]
        if missing or tuple(header[:4]) != PER_CLASS_KEYS:
            raise ValueError(
                f'{path}: not a per-class CSV: missing column(s) {missing} '
                f'(header {header}); it must start with '
                f'{",".join(PER_CLASS_KEYS)} (write it with '
                'mmlt.core.per_class.write_per_class).')
        metrics = header[4:]
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not cells:
                continue
            if len(cells) != len(header):
                raise ValueError(f'{path}, line {line}: {len(cells)} cells '
                                 f'for {len(header)} columns.')
            cell = dict(zip(header, cells))
            where = f'{path}, line {line}, column'
            row = dict(id=_parse_cell(cell['id'], int, f'{where} id'),
                       name=cell['name'],
                       train_count=_parse_cell(cell['train_count'], int,
                                               f'{where} train_count'),
                       group=cell['group'] or None)
            if row['id'] is None:
                raise ValueError(f'{where} id is empty.')
            for metric in metrics:
                row[metric] = _parse_cell(cell[metric], float,
                                          f'{where} {metric}')
            rows.append(row)
    return dict(task=None, metrics=metrics, classes=rows)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e}).') from None
    if not isinstance(data, dict) or 'classes' not in data \
            or 'metrics' not in data:
        raise ValueError(f'{path}: not a per-class JSON: it needs "task", '
                         '"metrics" and "classes" (write it with '
                         'mmlt.core.per_class.write_per_class).')
    if not isinstance(data['classes'], list) or not isinstance(
            data['metrics'], list):
        raise ValueError(f'{path}: "classes" and "metrics" must be lists.')
    columns = PER_CLASS_KEYS + tuple(data['metrics'])
    for i, row in enumerate(data['classes']):
        missing = [c for c in columns if not isinstance(row, dict)
                   or c not in row]
        if missing:
            raise ValueError(f'{path}: class entry {i} has no column(s) '
                             f'{missing}.')
    data.setdefault('task', None)
    return data


def read_per_class(path: PathLike) -> Dict:
    """Read a file of ``write_per_class`` back: ``{"task", "metrics",
    "classes": rows}`` (the JSON's extra entries too; a CSV gives task
    None). Raises ValueError, naming the file and what is missing, on a
    file in another format."""
    path = Path(path)
    if path.suffix == '.json':
        return _read_json(path)
    if path.suffix == '.csv':
        return _read_csv(path)
    raise ValueError(f'{path}: expected a per-class .json or .csv file.')
