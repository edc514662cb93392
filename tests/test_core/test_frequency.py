"""Tests for mmlt.core.frequency and tools/analysis/class_frequency.py.

Every input is a small file built in tmp_path; expected counts and groups
are worked out by hand in the comments.
"""
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmlt.core.frequency import (FORMAT, ClassFrequency, from_image_list,
                            from_lvis_json, from_segmentation_maps,
                            split_by_count, split_by_index_ranges,
                            split_by_rank, split_lvis)

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis' / 'class_frequency.py'


# ---------------------------------------------------------------- helpers
def lvis_dict(with_frequency=True, with_counts=False):
    """Categories out of id order; 'unicorn' (id 5) has no annotation.

    By ascending id: 0 aardvark, 1 cat, 2 unicorn, 3 zebra.
    images:    aardvark {10, 12} = 2, cat {10, 11, 13} = 3, unicorn 0,
               zebra {12} = 1
    instances: aardvark 2 + 1 = 3, cat 1 + 3 + 1 = 5, unicorn 0, zebra 1
    """
    cats = [
        dict(id=3, name='cat', frequency='f', image_count=3,
             instance_count=5),
        dict(id=1, name='aardvark', frequency='r', image_count=2,
             instance_count=3),
        dict(id=7, name='zebra', frequency='c', image_count=1,
             instance_count=1),
        dict(id=5, name='unicorn', frequency='r', image_count=0,
             instance_count=0),
    ]
    for cat in cats:
        if not with_frequency:
            del cat['frequency']
        if not with_counts:
            del cat['image_count'], cat['instance_count']
    anns = []
    for image_id, cat_id, n in [(10, 1, 2), (10, 3, 1), (11, 3, 3),
                                (12, 7, 1), (12, 1, 1), (13, 3, 1)]:
        for _ in range(n):
            anns.append(dict(id=len(anns) + 1, image_id=image_id,
                             category_id=cat_id, bbox=[0, 0, 1, 1]))
    images = [dict(id=i) for i in (10, 11, 12, 13)]
    return dict(images=images, annotations=anns, categories=cats)


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def write_label_maps(root):
    """Three label maps, one in a subfolder and in palette mode.

    a.png: [[0, 1, 2], [2, 255, 3]]
    b.png: [[1, 1, 0], [4, 2, 2]]
    sub/c.png ('P' mode): [[3, 0]]
    value histogram (255 aside): 0: 3, 1: 3, 2: 4, 3: 2, 4: 1
    """
    root.mkdir()
    Image.fromarray(np.array([[0, 1, 2], [2, 255, 3]], np.uint8)).save(
        root / 'a.png')
    Image.fromarray(np.array([[1, 1, 0], [4, 2, 2]], np.uint8)).save(
        root / 'b.png')
    (root / 'sub').mkdir()
    img = Image.fromarray(np.array([[3, 0]], np.uint8), mode='L').convert('P')
    img.putpalette([v for i in range(256) for v in (i, 0, 0)])
    img.save(root / 'sub' / 'c.png')
    (root / 'notes.txt').write_text('not a label map')
    return root


def simple_freq():
    return ClassFrequency.from_counts(
        ['a', 'b', 'c', 'd'], [150, 50, 5, 0], 'images',
        extra_counts={'instances': [300, 60, 5, 0]}, source='unit test')


# ------------------------------------------------------------------ splits
def test_split_by_count():
    split = split_by_count([150, 100, 20, 19, 101, 0])
    assert split['method'] == 'count_thresholds'
    assert split['names'] == ['many', 'medium', 'few']
    assert split['groups'] == {'many': [0, 4], 'medium': [1, 2],
                               'few': [3, 5]}
    assert split['thresholds']['low'] == 20
    assert split['thresholds']['high'] == 100
    split = split_by_count([5, 6, 7], names=('h', 'm', 't'), low=6, high=6)
    assert split['groups'] == {'h': [2], 'm': [1], 't': [0]}
    with pytest.raises(ValueError, match='low'):
        split_by_count([1], low=10, high=5)


def test_split_by_index_ranges():
    split = split_by_index_ranges(
        6, {'head': (0, 2), 'body': (2, 3), 'tail': (3, 6)})
    assert split['method'] == 'index_ranges'
    assert split['names'] == ['head', 'body', 'tail']
    assert split['groups'] == {'head': [0, 1], 'body': [2],
                               'tail': [3, 4, 5]}
    assert split['thresholds']['ranges'] == {'head': [0, 2], 'body': [2, 3],
                                             'tail': [3, 6]}
    with pytest.raises(ValueError, match='gap at class index 2'):
        split_by_index_ranges(6, {'a': (0, 2), 'b': (3, 6)})
    with pytest.raises(ValueError, match='overlap'):
        split_by_index_ranges(6, {'a': (0, 3), 'b': (2, 6)})
    with pytest.raises(ValueError, match='end at 5 but there are 6'):
        split_by_index_ranges(6, {'a': (0, 2), 'b': (2, 5)})


def test_split_by_rank():
    # Order by count: 1 (5), 2 (5, tie after 1), 3 (3), 0 (1).
    split = split_by_rank([1, 5, 5, 3], [2, 1, 1])
    assert split['method'] == 'rank'
    assert split['groups'] == {'head': [1, 2], 'body': [3], 'tail': [0]}
    assert split['thresholds']['sizes'] == [2, 1, 1]
    # ADE20K proportions on 150 classes give exactly 20 / 55 / 75.
    counts = np.arange(150)[::-1]
    split = split_by_rank(counts)
    assert split['thresholds']['sizes'] == [20, 55, 75]
    assert split['groups']['head'] == list(range(20))
    assert split['groups']['tail'] == list(range(75, 150))
    # 10 classes: boundaries round(1.33) = 1, round(5.0) = 5.
    assert split_by_rank(np.ones(10))['thresholds']['sizes'] == [1, 4, 5]
    two = split_by_rank([1, 2, 3], (0.5, 0.5), names=('top', 'rest'))
    # boundary round(1.5) = 2: top = the two largest (2, 1).
    assert two['groups'] == {'top': [1, 2], 'rest': [0]}
    with pytest.raises(ValueError, match='sum to the number of classes'):
        split_by_rank([1, 2, 3], [1, 1, 2])


def test_split_lvis():
    counts = [0, 5, 10, 11, 100, 101]
    split = split_lvis(counts)
    assert split['names'] == ['frequent', 'common', 'rare']
    assert split['groups'] == {'frequent': [5], 'common': [3, 4],
                               'rare': [0, 1, 2]}
    split = split_lvis(counts, ['f', 'f', 'c', 'r', 'r', 'c'])
    assert split['method'] == 'lvis_frequency'
    assert split['groups'] == {'frequent': [0, 1], 'common': [2, 5],
                               'rare': [3, 4]}
    # A missing letter falls back to the image-count rule.
    split = split_lvis(counts, ['f', None, 'c', 'r', 'r', 'c'])
    assert split['method'] == 'count_thresholds'
    with pytest.raises(ValueError, match="'x'"):
        split_lvis([1, 2], ['f', 'x'])


# ----------------------------------------------------------------- readers
def test_lvis_with_frequency(tmp_path):
    path = write_json(tmp_path / 'lvis.json', lvis_dict(with_frequency=True))
    with pytest.warns(UserWarning, match=r"1 categories have no annotation "
                      r"\('unicorn'\)"):
        freq = from_lvis_json(path)
    # the json's category order is mmdet's label order
    assert freq.classes == ('cat', 'aardvark', 'zebra', 'unicorn')
    assert freq.category_ids == (3, 1, 7, 5)
    assert freq.kind == 'images'
    assert freq.counts == (3, 2, 1, 0)
    assert freq.extra_counts == {'images': (3, 2, 1, 0),
                                 'instances': (5, 3, 1, 0)}
    assert freq.split['method'] == 'lvis_frequency'
    assert freq.groups == {'frequent': [0], 'common': [2], 'rare': [1, 3]}
    with pytest.warns(UserWarning):
        inst = from_lvis_json(path, count='instances')
    assert inst.kind == 'instances'
    assert inst.counts == (5, 3, 1, 0)
    np.testing.assert_array_equal(inst.counts_array('images'), [3, 2, 1, 0])


def test_lvis_without_frequency_and_count_fields(tmp_path):
    data = lvis_dict(with_frequency=False, with_counts=True)
    path = write_json(tmp_path / 'lvis.json', data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        freq = from_lvis_json(path)
    messages = [str(w.message) for w in caught]
    # Stored counts agree: only the zero-image warning.
    assert len(messages) == 1 and 'unicorn' in messages[0]
    assert freq.split['method'] == 'count_thresholds'
    # All image counts <= 10: every category is rare.
    assert freq.groups == {'frequent': [], 'common': [], 'rare': [0, 1, 2, 3]}

    data['categories'][0]['image_count'] = 7  # 'cat' really has 3 images
    write_json(path, data)
    with pytest.warns(UserWarning, match=r'"image_count" disagrees .* 1 '
                      r"categories .*'cat': 7 vs 3"):
        freq = from_lvis_json(path)
    assert freq.counts == (3, 2, 1, 0)  # computed counts win


def test_coco_json(tmp_path):
    data = dict(
        images=[dict(id=1), dict(id=2)],
        categories=[dict(id=2, name='bicycle'), dict(id=1, name='person')],
        annotations=[dict(id=1, image_id=1, category_id=1),
                     dict(id=2, image_id=1, category_id=1),
                     dict(id=3, image_id=2, category_id=1),
                     dict(id=4, image_id=2, category_id=2)])
    path = write_json(tmp_path / 'coco.json', data)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # nothing to warn about
        freq = from_lvis_json(path, count='instances')
    assert freq.classes == ('bicycle', 'person')  # the json's order
    assert freq.category_ids == (2, 1)
    assert freq.counts == (1, 3)
    assert freq.extra_counts['images'] == (1, 2)
    assert freq.split['method'] == 'count_thresholds'


def test_lvis_malformed(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"categories": [')
    with pytest.raises(ValueError, match='bad.json is not valid JSON'):
        from_lvis_json(bad)
    write_json(bad, {'categories': [{'id': 1, 'name': 'a'}]})
    with pytest.raises(ValueError, match=r"bad.json: missing key\(s\) "
                       r"\['annotations'\]"):
        from_lvis_json(bad)
    data = lvis_dict()
    data['annotations'][2]['category_id'] = 99
    write_json(bad, data)
    with pytest.raises(ValueError, match=r'bad.json: annotations\[2\] has '
                       r'category_id 99'):
        from_lvis_json(bad)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        from_lvis_json(tmp_path / 'nope.json')


def test_segmentation_maps(tmp_path):
    root = write_label_maps(tmp_path / 'ann')
    freq = from_segmentation_maps(root, 5)
    assert freq.kind == 'pixels'
    assert freq.counts == (3, 3, 4, 2, 1)
    assert freq.classes == ('class_0', 'class_1', 'class_2', 'class_3',
                            'class_4')
    # Rank with ADE20K proportions on 5 classes: sizes 1 / 2 / 2;
    # order by count: 2 (4), 0 (3), 1 (3), 3 (2), 4 (1).
    assert freq.split['method'] == 'rank'
    assert freq.split['thresholds']['sizes'] == [1, 2, 2]
    assert freq.groups == {'head': [2], 'body': [0, 1], 'tail': [3, 4]}

    # reduce_zero_label: 0 and 255 ignored, 1..4 -> 0..3.
    freq = from_segmentation_maps(root, 4, classes=['w', 'x', 'y', 'z'],
                                  reduce_zero_label=True)
    assert freq.counts == (3, 4, 2, 1)
    assert freq.classes == ('w', 'x', 'y', 'z')
    # ignore_index applies after the reduction (as in mmseg): label 1 is
    # the original value 2.
    freq = from_segmentation_maps(root, 4, reduce_zero_label=True,
                                  ignore_index=1)
    assert freq.counts == (3, 0, 2, 1)


def test_segmentation_maps_errors(tmp_path):
    root = write_label_maps(tmp_path / 'ann')
    with pytest.raises(ValueError, match=r'b.png holds label 4 .* '
                       r'num_classes is 4'):
        from_segmentation_maps(root, 4)
    # Without the reduction, 255 is a label when it is not ignored.
    with pytest.raises(ValueError, match='a.png holds label 255'):
        from_segmentation_maps(root, 5, ignore_index=0)
    with pytest.raises(FileNotFoundError, match=r'no \*.jpg files'):
        from_segmentation_maps(root, 5, suffix='.jpg')
    with pytest.raises(FileNotFoundError, match='missing'):
        from_segmentation_maps(tmp_path / 'missing', 5)
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(root / 'rgb.png')
    with pytest.raises(ValueError, match=r'rgb.png has shape \(2, 2, 3\)'):
        from_segmentation_maps(root, 5)


def test_image_list(tmp_path):
    path = tmp_path / 'train.txt'
    path.write_text('a/1.jpg 0\na/2.jpg 0\n\nb/x y.jpg 2\n  \nc.jpg 0\n')
    freq = from_image_list(path)
    assert freq.classes == ('class_0', 'class_1', 'class_2')
    assert freq.counts == (3, 0, 1)
    assert freq.kind == 'images'
    assert freq.split['method'] == 'count_thresholds'
    assert freq.groups == {'many': [], 'medium': [], 'few': [0, 1, 2]}
    freq = from_image_list(path, classes=['p', 'q', 'r', 's'])
    assert freq.counts == (3, 0, 1, 0)
    assert freq.classes == ('p', 'q', 'r', 's')
    with pytest.raises(ValueError, match='label 2 is out of range for 2'):
        from_image_list(path, num_classes=2)

    path.write_text('a/1.jpg 0\na/2.jpg zero\n')
    with pytest.raises(ValueError, match="train.txt, line 2: expected "
                       "\"path label\""):
        from_image_list(path)
    path.write_text('\n\nonly_a_path.jpg\n')
    with pytest.raises(ValueError, match='line 3'):
        from_image_list(path)


# --------------------------------------------------------- ClassFrequency
def test_queries():
    freq = simple_freq()
    assert freq.num_classes == 4
    # Default split for images: count thresholds.
    assert freq.groups == {'many': [0], 'medium': [1], 'few': [2, 3]}
    assert freq.group_of(1) == 'medium'
    assert freq.group_of(3) == 'few'
    with pytest.raises(IndexError):
        freq.group_of(4)
    arr = freq.counts_array()
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [150, 50, 5, 0])
    np.testing.assert_array_equal(freq.counts_array('instances'),
                                  [300, 60, 5, 0])
    with pytest.raises(ValueError, match="no 'pixels' counts"):
        freq.counts_array('pixels')
    with pytest.raises(ValueError, match="'counts' has 2 entries|"
                       '"counts" has 2 entries'):
        ClassFrequency.from_counts(['a', 'b', 'c'], [1, 2], 'images')
    with pytest.raises(ValueError, match=r'"counts"\[1\] is 2.5'):
        ClassFrequency.from_counts(None, [1, 2.5], 'images')


def test_save_load_round_trip(tmp_path):
    freq = simple_freq()
    path = tmp_path / 'out' / 'freq.json'
    freq.save(path)
    data = json.loads(path.read_text())
    assert data['format'] == FORMAT == 'mmlt.class_frequency/v1'
    assert list(data) == ['format', 'source', 'kind', 'classes', 'counts',
                          'extra_counts', 'split']
    assert data['counts'] == [150, 50, 5, 0]
    assert data['split']['groups'] == {'many': [0], 'medium': [1],
                                       'few': [2, 3]}
    loaded = ClassFrequency.load(path)
    assert loaded == freq
    assert loaded.path == str(path)
    assert loaded.extra_counts == {'instances': (300, 60, 5, 0)}


def _broken(tmp_path, change):
    data = simple_freq().to_dict()
    change(data)
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize('change, message', [
    (lambda d: d.pop('counts'), r"missing key\(s\) \['counts'\]"),
    (lambda d: d.update(format='other/v2'),
     r"\"format\" is 'other/v2', expected 'mmlt.class_frequency/v1'"),
    (lambda d: d.update(counts=[1, 2, 3]),
     '"counts" has 3 entries but "classes" has 4'),
    (lambda d: d['counts'].__setitem__(2, -1), r'"counts"\[2\] is -1'),
    (lambda d: d.update(kind='boxes'), "\"kind\" is 'boxes'"),
    (lambda d: d['extra_counts'].update(instances=[1]),
     '"extra_counts.instances" has 1 entries'),
    (lambda d: d['split']['groups']['few'].append(7),
     'class index 7, out of range for 4 classes'),
    (lambda d: d['split']['groups']['few'].append(0),
     "class index 0 is in both split groups 'many' and 'few'"),
    (lambda d: d['split']['groups']['few'].remove(3),
     r'1 class\(es\) are in no split group \(indices 3\)'),
    (lambda d: d['split'].update(method='magic'),
     "split method 'magic' is unknown"),
    (lambda d: d['split']['groups'].pop('few'),
     'split "groups" must have exactly the keys'),
])
def test_load_errors(tmp_path, change, message):
    path = _broken(tmp_path, change)
    with pytest.raises(ValueError, match=message) as info:
        ClassFrequency.load(path)
    assert f'frequency file {path}' in str(info.value)


def test_load_missing_or_not_json(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.json does not exist'
                       '; create it with tools/analysis/class_frequency.py'):
        ClassFrequency.load(tmp_path / 'nothing.json')
    path = tmp_path / 'text.json'
    path.write_text('not json')
    with pytest.raises(ValueError, match='text.json is not valid JSON'):
        ClassFrequency.load(path)
    path.write_text('[1, 2]')
    with pytest.raises(ValueError, match='expected a JSON object'):
        ClassFrequency.load(path)


def test_check_classes(tmp_path):
    path = tmp_path / 'freq.json'
    simple_freq().save(path)
    freq = ClassFrequency.load(path)
    freq.check_classes(4)
    freq.check_classes(['a', 'b', 'c', 'd'])
    with pytest.raises(ValueError) as info:
        freq.check_classes(10)
    assert str(info.value) == (
        f'frequency file {path} has 4 classes but the model has 10 classes; '
        'regenerate it with tools/analysis/class_frequency.py for this '
        'dataset.')
    with pytest.raises(ValueError, match='but the dataset has 3 classes'):
        freq.check_classes(['a', 'b', 'c'], 'the dataset')
    with pytest.raises(ValueError) as info:
        freq.check_classes(['a', 'x', 'c', 'y'])
    assert ("class names differ from the model at 2 of 4 positions: "
            "[1] 'b' (file) vs 'x' (the model); [3] 'd' (file) vs 'y' "
            "(the model)") in str(info.value)
    # Generic names (no names were known) only check the count.
    generic = ClassFrequency.from_counts(None, [1, 2], 'images')
    generic.check_classes(['cat', 'dog'])
    with pytest.raises(ValueError, match='has 2 classes but the model has 3'):
        generic.check_classes(['cat', 'dog', 'cow'])


# --------------------------------------------------------------------- CLI
def run_tool(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_cli_list_and_error(tmp_path):
    lst = tmp_path / 'train.txt'
    lst.write_text('a.jpg 0\nb.jpg 0\nc.jpg 1\nd.jpg 3\n')
    names = tmp_path / 'names.txt'
    names.write_text('w\nx\n\ny\nz\n')
    out = tmp_path / 'freq.json'
    result = run_tool('list', lst, '-o', out, '--classes', names,
                      '--split-ranges', 'head:0:1,tail:1:4')
    assert result.returncode == 0, result.stderr
    freq = ClassFrequency.load(out)
    assert freq.classes == ('w', 'x', 'y', 'z')
    assert freq.counts == (2, 1, 0, 1)
    assert freq.groups == {'head': [0], 'tail': [1, 2, 3]}
    assert 'wrote' in result.stdout
    assert 'tail' in result.stdout and '1 class(es) have count 0' in \
        result.stdout

    lst.write_text('a.jpg 0\nbroken\n')
    result = run_tool('list', lst, '-o', out)
    assert result.returncode == 1
    assert 'line 2' in result.stderr
    assert 'Traceback' not in result.stderr


def test_cli_lvis_low_high(tmp_path):
    path = write_json(tmp_path / 'lvis.json', lvis_dict())
    out = tmp_path / 'freq.json'
    result = run_tool('lvis', path, '-o', out, '--count', 'instances',
                      '--low', '2', '--high', '2')
    assert result.returncode == 0, result.stderr
    freq = ClassFrequency.load(out)
    assert freq.kind == 'instances'
    assert freq.counts == (5, 3, 1, 0)
    assert freq.category_ids == (3, 1, 7, 5)  # saved and read back
    # Split on image counts (3, 2, 1, 0): > 2 frequent, 2 common, < 2 rare.
    assert freq.groups == {'frequent': [0], 'common': [1], 'rare': [2, 3]}
