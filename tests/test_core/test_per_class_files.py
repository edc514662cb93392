"""Tests for mmlt.core.per_class: the rows, and the CSV / JSON files that
hold them. Expected rows and file texts are written out by hand."""
import json
import math

import numpy as np
import pytest

from mmlt.core.per_class import (PER_CLASS_KEYS, per_class_rows,
                                 read_per_class, write_per_class)

NAMES = ['cat', 'dog, spotted', 'eel']
# class 1's top-1 is NaN (no test image), class 2's is None: both -> None
METRICS = {'top1': [90.0, math.nan, None], 'iou': np.array([0.5, 0.25, 1.0])}
COUNTS = [100, 10, 1]
GROUPS = {'many': [0], 'few': [1]}  # class 2 in no group -> None

EXPECTED_ROWS = [
    dict(id=0, name='cat', train_count=100, group='many', top1=90.0,
         iou=0.5),
    dict(id=1, name='dog, spotted', train_count=10, group='few', top1=None,
         iou=0.25),
    dict(id=2, name='eel', train_count=1, group=None, top1=None, iou=1.0),
]


def test_rows_by_hand():
    rows = per_class_rows(NAMES, METRICS, COUNTS, GROUPS)
    assert rows == EXPECTED_ROWS
    # the columns come in order: the fixed keys, then the metrics
    assert list(rows[0]) == list(PER_CLASS_KEYS) + ['top1', 'iou']
    assert all(type(r['train_count']) is int for r in rows)


def test_rows_without_counts_and_groups():
    rows = per_class_rows(['a', 'b'], {'ap': [0.1, 0.2]})
    assert rows == [
        dict(id=0, name='a', train_count=None, group=None, ap=0.1),
        dict(id=1, name='b', train_count=None, group=None, ap=0.2)]


@pytest.mark.parametrize('kwargs, message', [
    (dict(metrics={'top1': [1.0, 2.0]}), "metric 'top1' has 2 values but "
     'there are 3 class names'),
    (dict(train_counts=[1, 2]), 'train_counts has 2 values but there are 3'),
    (dict(groups={'few': [3]}), "group 'few' holds 3, not a class index"),
    (dict(groups={'a': [0], 'b': [0]}), "class 0 is in two groups, 'a' and "
     "'b'"),
    (dict(train_counts=[1, 2.5, 3]), r'train_counts\[1\] is 2.5'),
    (dict(metrics={'name': [1, 2, 3]}), "metric name 'name' is a column"),
    (dict(metrics={'top1': [1, math.inf, 2]}), "metric 'top1' of class 1 "
     'is inf'),
])
def test_rows_errors_name_what_is_wrong(kwargs, message):
    args = dict(names=NAMES, metrics={'top1': [1, 2, 3]})
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        per_class_rows(**args)


def test_csv_and_json_text(tmp_path):
    rows = per_class_rows(NAMES, METRICS, COUNTS, GROUPS)
    csv_path, json_path = write_per_class(
        tmp_path / 'sub' / 'run', rows, 'classification', ['top1', 'iou'],
        extra={'overall': {'top1': 45.0}})
    assert csv_path == tmp_path / 'sub' / 'run.csv'
    assert json_path == tmp_path / 'sub' / 'run.json'
    # None -> empty cell; a name with a comma is quoted
    assert csv_path.read_text() == (
        'id,name,train_count,group,top1,iou\n'
        '0,cat,100,many,90.0,0.5\n'
        '1,"dog, spotted",10,few,,0.25\n'
        '2,eel,1,,,1.0\n')
    data = json.loads(json_path.read_text())
    assert data == {'task': 'classification', 'metrics': ['top1', 'iou'],
                    'classes': EXPECTED_ROWS, 'overall': {'top1': 45.0}}
    # written through temporary files that are gone afterwards
    assert sorted(p.name for p in csv_path.parent.iterdir()) == [
        'run.csv', 'run.json']


def test_round_trip_with_none(tmp_path):
    rows = per_class_rows(NAMES, METRICS, COUNTS, GROUPS)
    csv_path, json_path = write_per_class(tmp_path / 'r', rows,
                                          'segmentation', ['top1', 'iou'])
    from_json = read_per_class(json_path)
    assert from_json == {'task': 'segmentation', 'metrics': ['top1', 'iou'],
                         'classes': EXPECTED_ROWS}
    from_csv = read_per_class(csv_path)
    assert from_csv == {'task': None, 'metrics': ['top1', 'iou'],
                        'classes': EXPECTED_ROWS}
    # floats survive exactly
    rows = per_class_rows(['x'], {'ap': [1 / 3]})
    csv_path, _ = write_per_class(tmp_path / 'third', rows, 'detection',
                                  ['ap'])
    assert read_per_class(csv_path)['classes'][0]['ap'] == 1 / 3


def test_failed_write_keeps_old_files(tmp_path):
    rows = per_class_rows(['a'], {'ap': [0.5]})
    write_per_class(tmp_path / 'r', rows, 'detection', ['ap'])
    before = (tmp_path / 'r.json').read_text()
    with pytest.raises(TypeError):  # a set is no JSON
        write_per_class(tmp_path / 'r', rows, 'detection', ['ap'],
                        extra={'bad': {1, 2}})
    assert (tmp_path / 'r.json').read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['r.csv', 'r.json']


def test_write_errors(tmp_path):
    rows = per_class_rows(['a'], {'ap': [0.5]})
    with pytest.raises(ValueError, match=r"row 0 has no column\(s\) \['iou'"):
        write_per_class(tmp_path / 'r', rows, 'detection', ['iou'])
    with pytest.raises(ValueError, match='without .csv / .json'):
        write_per_class(tmp_path / 'r.json', rows, 'detection', ['ap'])
    with pytest.raises(ValueError, match=r"extra has \['task'\]"):
        write_per_class(tmp_path / 'r', rows, 'detection', ['ap'],
                        extra={'task': 'x'})


def test_read_errors_name_file_and_column(tmp_path):
    bad_csv = tmp_path / 'bad.csv'
    bad_csv.write_text('id,name,train_count,top1\n0,a,3,0.5\n')
    with pytest.raises(ValueError, match=r"bad\.csv.*missing column\(s\) "
                       r"\['group'\]"):
        read_per_class(bad_csv)
    bad_cell = tmp_path / 'cell.csv'
    bad_cell.write_text('id,name,train_count,group,top1\n0,a,3,,high\n')
    with pytest.raises(ValueError, match=r'cell\.csv, line 2, column top1 '
                       "is 'high'"):
        read_per_class(bad_cell)
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text(json.dumps({'task': 't', 'metrics': ['ap'],
                                    'classes': [{'id': 0, 'name': 'a',
                                                 'train_count': 1,
                                                 'group': None}]}))
    with pytest.raises(ValueError, match=r"bad\.json: class entry 0 has no "
                       r"column\(s\) \['ap'\]"):
        read_per_class(bad_json)
    other = tmp_path / 'metrics.json'
    other.write_text(json.dumps({'accuracy/top1': 50.0}))
    with pytest.raises(ValueError, match=r'metrics\.json: not a per-class'):
        read_per_class(other)
    with pytest.raises(ValueError, match=r'x\.txt: expected a per-class'):
        read_per_class(tmp_path / 'x.txt')
