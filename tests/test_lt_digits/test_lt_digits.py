"""Tests for mmlt.lt_digits and tools/dataset_converters/make_lt_digits.py.

LT-Digits is generated once per module (a few seconds) with the defaults:
seed 0, imbalance 100, 30 val + 30 test per class, so the cls train pool
holds 500 - 60 = 440 digits per class and the profiles are
cls   [440, 263, 158, 94, 56, 34, 20, 12, 7, 4]  (floor(440 * 0.01**(i/9)))
det   [200, 119, 71, 43, 25, 15, 9, 5, 3, 2]     (floor(200 * 0.01**(i/9))).
The datasets are then loaded through the real mmpretrain / mmdet / mmseg
dataset classes, each inside its own default scope.
"""
import hashlib
import importlib.util
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmlt.core import exponential_profile
from mmlt.lt_digits import (FORMAT_VERSION, LT_DIGITS_CLASSES,
                            LT_DIGITS_SEG_CLASSES, LT_DIGITS_SEG_PALETTE,
                            load_mnist, lt_digits_outdated, lvis_frequency,
                            make_lt_digits)

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'dataset_converters' / 'make_lt_digits.py'

CLS_TRAIN = [440, 263, 158, 94, 56, 34, 20, 12, 7, 4]
DET_TRAIN = [200, 119, 71, 43, 25, 15, 9, 5, 3, 2]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def lt(tmp_path_factory):
    out = tmp_path_factory.mktemp('lt_digits')
    paths = make_lt_digits(out)
    return out, paths


@pytest.fixture(scope='module')
def lt_again(tmp_path_factory):
    """Same seed, another folder: must be byte-identical to ``lt``."""
    out = tmp_path_factory.mktemp('lt_digits_again')
    make_lt_digits(out)
    return out


@pytest.fixture(scope='module')
def mnist():
    return load_mnist()


def read_list(path):
    lines = Path(path).read_text().splitlines()
    return [(p, int(label)) for p, label in (x.rsplit(' ', 1) for x in lines)]


def mnist_index(rel_path):
    # 'train/digit_3/mnist_0123.png' -> 123
    return int(Path(rel_path).stem.split('_')[1])


def tree_digest(root):
    """sha1 of every file under root, keyed by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(Path(root).rglob('*')) if p.is_file()
    }


# ------------------------------------------------------------- the profile
def test_exponential_profile():
    assert exponential_profile(440, 10, 100) == CLS_TRAIN
    assert exponential_profile(200, 10, 100) == DET_TRAIN
    # floor(5000 * 0.1**(i/4)): 5000, 2811.7, 1581.1, 889.1, 500
    assert exponential_profile(5000, 5, 10) == [5000, 2811, 1581, 889, 500]
    # 64 * (1/64)**(5/6) is 2 but 1.9999999999999998 in floats, and LDAM's
    # int() truncates it to 1: kept, since LDAM's code defines the CIFAR-LT
    # subsets the published numbers are on.
    assert exponential_profile(64, 7, 64) == [64, 32, 16, 8, 4, 1, 1]
    assert exponential_profile(100, 10, 100)[-1] == 1
    assert exponential_profile(7, 3, 1) == [7, 7, 7]
    assert exponential_profile(7, 1, 50) == [7]
    with pytest.raises(ValueError, match='imbalance_ratio'):
        exponential_profile(100, 10, 0.5)
    with pytest.raises(ValueError, match='n_max'):
        exponential_profile(0, 10, 10)


def test_lvis_frequency_bins():
    assert [lvis_frequency(n) for n in (1, 10, 11, 100, 101)] == \
        ['r', 'r', 'c', 'c', 'f']


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='tasks'):
        make_lt_digits(tmp_path, tasks=('cls', 'depth'))
    with pytest.raises(ValueError, match='leave train digits'):
        make_lt_digits(tmp_path, val_per_class=250, test_per_class=250)
    # floor(440 / 1000) = 0: the tail class would vanish.
    with pytest.raises(ValueError, match='no train sample'):
        make_lt_digits(tmp_path, imbalance_ratio=1000, tasks=('cls', ))
    # A foreign non-empty folder is never deleted.
    (tmp_path / 'cls').mkdir()
    (tmp_path / 'cls' / 'mine.txt').write_text('keep')
    with pytest.raises(FileExistsError):
        make_lt_digits(tmp_path, tasks=('cls', ))
    assert (tmp_path / 'cls' / 'mine.txt').read_text() == 'keep'


# --------------------------------------------------------------------- cls
def test_cls_layout_and_counts(lt, mnist):
    out, paths = lt
    cls = out / 'cls'
    assert paths['cls']['train'] == str(cls / 'lt_digits_train.txt')
    assert (cls / 'classes.txt').read_text().splitlines() == \
        list(LT_DIGITS_CLASSES)
    train = read_list(cls / 'lt_digits_train.txt')
    counts = Counter(label for _, label in train)
    assert [counts[c] for c in range(10)] == CLS_TRAIN
    assert len(train) == 1088
    for split in ('val', 'test'):
        items = read_list(cls / f'lt_digits_{split}.txt')
        assert Counter(label for _, label in items) == {c: 30
                                                        for c in range(10)}
    # Paths are relative to cls/, in the class folder, real MNIST pixels.
    images, labels = mnist
    for rel, label in train[::97]:
        assert rel.startswith(f'train/{LT_DIGITS_CLASSES[label]}/')
        idx = mnist_index(rel)
        assert labels[idx] == label
        img = np.array(Image.open(cls / rel))
        assert img.shape == (28, 28, 3)
        assert np.array_equal(img[..., 0], images[idx])
        assert np.array_equal(img[..., 2], images[idx])


def test_splits_are_disjoint(lt):
    out, _ = lt
    ids = {
        split: [
            mnist_index(p)
            for p, _ in read_list(out / 'cls' / f'lt_digits_{split}.txt')
        ]
        for split in ('train', 'val', 'test')
    }
    for split, idx in ids.items():
        assert len(set(idx)) == len(idx), split
    assert not set(ids['train']) & set(ids['val'])
    assert not set(ids['train']) & set(ids['test'])
    assert not set(ids['val']) & set(ids['test'])
    assert len(set().union(*ids.values())) == 1088 + 300 + 300
    # Every image file on disk is listed (no stray files).
    on_disk = {
        str(p.relative_to(out / 'cls'))
        for p in (out / 'cls').rglob('*.png')
    }
    listed = {
        p
        for split in ('train', 'val', 'test')
        for p, _ in read_list(out / 'cls' / f'lt_digits_{split}.txt')
    }
    assert on_disk == listed


# ------------------------------------------------------------ determinism
def test_same_seed_is_byte_identical(lt, lt_again):
    out, _ = lt
    first, second = tree_digest(out), tree_digest(lt_again)
    # cls images, det jpgs, seg jpgs + pngs, 3 lists + classes.txt, meta,
    # 2 LVIS jsons, seg classes.txt.
    assert len(first) == 1088 + 600 + 395 + 2 * 395 + 4 + 1 + 2 + 1
    assert first == second


def test_other_seed_differs(lt, tmp_path):
    out, _ = lt
    make_lt_digits(tmp_path, seed=1)
    for rel in ('cls/lt_digits_train.txt', 'cls/lt_digits_val.txt',
                'det/annotations/lvis_v1_train.json',
                'det/annotations/lvis_v1_val.json'):
        assert (out / rel).read_bytes() != (tmp_path / rel).read_bytes(), rel
    # The profile does not depend on the seed.
    assert Counter(label for _, label in read_list(
        tmp_path / 'cls' / 'lt_digits_train.txt')) == dict(
            enumerate(CLS_TRAIN))


def test_tasks_do_not_change_each_other(lt, tmp_path):
    out, _ = lt
    make_lt_digits(tmp_path, tasks=('det', ))
    assert not (tmp_path / 'cls').exists()
    assert not (tmp_path / 'seg').exists()
    assert tree_digest(tmp_path / 'det') == tree_digest(out / 'det')


# --------------------------------------------------------------------- det
def check_lvis(lvis, expected_instances, counted=True):
    """counted: the category counts are this file's own (train); val
    carries train's category block, as LVIS v1 does."""
    anns, images = lvis['annotations'], lvis['images']
    cats = sorted(lvis['categories'], key=lambda c: c['id'])
    assert [c['id'] for c in cats] == list(range(1, 11))
    assert [c['name'] for c in cats] == list(LT_DIGITS_CLASSES)
    img_sets, inst = defaultdict(set), Counter()
    for a in anns:
        img_sets[a['category_id']].add(a['image_id'])
        inst[a['category_id']] += 1
    for c in cats:
        if counted:
            assert c['instance_count'] == inst[c['id']]
            assert c['image_count'] == len(img_sets[c['id']])
        assert c['frequency'] == lvis_frequency(c['image_count'])
        assert set(c) >= {'synset', 'synonyms', 'def'}
    assert [inst[c['id']] for c in cats] == expected_instances
    assert len({a['id'] for a in anns}) == len(anns)
    assert len({i['id'] for i in images}) == len(images)
    per_image = Counter(a['image_id'] for a in anns)
    assert set(per_image) == {i['id'] for i in images}
    assert set(per_image.values()) <= {1, 2, 3}
    for a in anns:
        x, y, w, h = a['bbox']
        assert a['iscrowd'] == 0 and 0 < a['area'] <= w * h
        assert len(a['segmentation']) >= 1
        for poly in a['segmentation']:
            assert len(poly) % 2 == 0 and len(poly) >= 6
            xs, ys = poly[0::2], poly[1::2]
            assert x <= min(xs) and max(xs) <= x + w - 1
            assert y <= min(ys) and max(ys) <= y + h - 1
    return cats


def test_lvis_json(lt):
    out, paths = lt
    train = json.loads(Path(paths['det']['train']).read_text())
    val = json.loads(Path(paths['det']['val']).read_text())
    cats = check_lvis(train, DET_TRAIN)
    # Frequency groups with the defaults: 151 and 102 images are frequent,
    # 62..15 common, 9..2 rare.
    assert [c['image_count'] for c in cats] == \
        [151, 102, 62, 41, 23, 15, 9, 5, 3, 2]
    assert ''.join(c['frequency'] for c in cats) == 'ffccccrrrr'
    # val: its own annotations, train's categories (so LVISMetric's
    # APr / APc / APf are the train split's rare / common / frequent)
    assert check_lvis(val, [30] * 10, counted=False) == cats
    assert len(train['images']) == 240 and len(val['images']) == 155
    # Ids are unique across the two files, as in LVIS.
    assert not {i['id'] for i in train['images']} & \
        {i['id'] for i in val['images']}
    assert not {a['id'] for a in train['annotations']} & \
        {a['id'] for a in val['annotations']}
    for lvis, split in ((train, 'train2017'), (val, 'val2017')):
        for img in lvis['images']:
            rel = f"{split}/{img['id']:012d}.jpg"
            assert img['file_name'] == Path(rel).name
            assert img['coco_url'] == 'http://images.cocodataset.org/' + rel
            assert img['neg_category_ids'] == []
            assert img['not_exhaustive_category_ids'] == []
            assert (img['width'], img['height']) == (96, 96)
        for img in lvis['images'][:5]:
            assert Image.open(out / 'det' / split /
                              img['file_name']).size == (96, 96)


# --------------------------------------------------------------------- seg
def test_seg_labels(lt):
    out, paths = lt
    seg = out / 'seg'
    train_imgs = sorted((seg / 'images' / 'training').glob('*.jpg'))
    train_anns = sorted((seg / 'annotations' / 'training').glob('*.png'))
    assert len(train_imgs) == len(train_anns) == 240
    assert [p.stem for p in train_imgs] == [p.stem for p in train_anns]
    assert train_imgs[0].name == 'ADE_train_00000001.jpg'
    assert len(list((seg / 'images' / 'validation').glob('*.jpg'))) == 155
    pixels = np.zeros(256, np.int64)
    for p in train_anns:
        label = Image.open(p)
        assert label.mode == 'L' and label.size == (96, 96)
        pixels += np.bincount(np.asarray(label).ravel(), minlength=256)
    assert pixels[12:].sum() == 0
    assert (pixels[:12] > 0).all()
    # Background (1) is the head; digit_0 (2) has the most digit pixels.
    assert pixels[1] == pixels.max()
    assert pixels[2] == pixels[2:12].max()
    meta = json.loads((out / 'lt_digits.json').read_text())
    assert meta['counts']['seg_train_pixels'] == pixels[:12].tolist()
    # Canvas k is the same picture in det and seg: the digit labels of
    # seg image k are the det categories of image id k, shifted by one.
    train = json.loads(Path(paths['det']['train']).read_text())
    cats_of = defaultdict(set)
    for a in train['annotations']:
        cats_of[a['image_id']].add(a['category_id'])
    for k in (1, 2, 3, 50, 240):
        label = np.asarray(Image.open(train_anns[k - 1]))
        assert set(np.unique(label)) - {0, 1} == \
            {c + 1 for c in cats_of[k]}


# ---------------------------------------------- loading with the toolboxes
def test_outdated_folders_are_named(lt, tmp_path):
    """The demo rewrites a folder that lt_digits_outdated names: missing
    parts, or an older format_version (before it was recorded: 1)."""
    out, _ = lt
    assert lt_digits_outdated(out) is None
    assert 'incomplete' in lt_digits_outdated(tmp_path)
    copy = tmp_path / 'copy'
    copy.mkdir()
    meta = json.loads((out / 'lt_digits.json').read_text())
    assert meta['format_version'] == FORMAT_VERSION
    for task in ('cls', 'det', 'seg'):
        (copy / task).mkdir()
    (copy / 'lt_digits.json').write_text(json.dumps(meta))
    assert lt_digits_outdated(copy) is None
    del meta['format_version']
    (copy / 'lt_digits.json').write_text(json.dumps(meta))
    assert 'older mmlt (format 1' in lt_digits_outdated(copy)
    (copy / 'lt_digits.json').write_text(
        json.dumps(dict(meta, format_version=FORMAT_VERSION - 1)))
    assert 'older' in lt_digits_outdated(copy)
    (copy / 'seg').rmdir()
    (copy / 'lt_digits.json').write_text(
        json.dumps(dict(meta, format_version=FORMAT_VERSION)))
    assert "missing ['seg']" in lt_digits_outdated(copy)


def test_seg_label_is_the_digit_region():
    """A seg label marks the foreground grown by SEG_REGION px; the ring
    one pixel further out and pixels two regions claim are unlabeled."""
    from mmlt.lt_digits.canvases import (FOREGROUND, SEG_BACKGROUND,
                                         SEG_FIRST_DIGIT, SEG_REGION,
                                         SEG_UNLABELED, render_canvas)
    r = SEG_REGION
    assert r >= 2
    size = 60
    alpha = np.zeros((10, 10), np.uint8)
    alpha[4:6, 4:6] = 255  # a 2x2 foreground at (x + 4, y + 4)
    color = np.array([200, 200, 200])
    # Digit 3 alone; digits 7 and 8 side by side, placed so that their
    # regions share exactly one column.
    placed = [
        dict(cls=3, x=0, y=0, alpha=alpha, color=color),
        dict(cls=7, x=0, y=30, alpha=alpha, color=color),
        dict(cls=8, x=2 * r + 1, y=30, alpha=alpha, color=color),
    ]
    _, label, masks = render_canvas(np.zeros((size, size, 3)), placed)
    assert [int(m.sum()) for m in masks] == [4, 4, 4]
    assert (masks[0][4:6, 4:6] == 1).all() and alpha.max() >= FOREGROUND
    # Digit 3: foreground rows / columns 4..5, region 4 - r .. 5 + r.
    lo, hi = max(4 - r, 0), 5 + r
    assert (label[lo:hi + 1, lo:hi + 1] == SEG_FIRST_DIGIT + 3).all()
    assert (label[hi + 1, lo:hi + 2] == SEG_UNLABELED).all()  # the ring
    assert (label[lo:hi + 2, hi + 1] == SEG_UNLABELED).all()
    assert (label[hi + 2, lo:hi + 3] == SEG_BACKGROUND).all()
    # Digits 7 and 8: one shared column, unlabeled; the rest is theirs.
    row = label[34]
    shared = 5 + r
    assert row[shared] == SEG_UNLABELED
    assert (row[lo:shared] == SEG_FIRST_DIGIT + 7).all()
    assert (row[shared + 1:shared + 1 + 2 * r - 1] ==
            SEG_FIRST_DIGIT + 8).all()


def test_mmpretrain_custom_dataset(lt):
    from mmengine.registry import DefaultScope
    from mmpretrain.datasets import CustomDataset
    out, paths = lt
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ds = CustomDataset(
            data_root=str(out / 'cls'),
            ann_file='lt_digits_train.txt',
            data_prefix='',
            with_label=True,
            classes=paths['cls']['classes'],
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='PackInputs')
            ])
        assert len(ds) == 1088
        assert ds.metainfo['classes'] == LT_DIGITS_CLASSES
        assert [int(ds.get_cat_ids(i)[0]) for i in (0, 439, 440, 1087)] == \
            [0, 0, 1, 9]
        sample = ds[1087]
    assert tuple(sample['inputs'].shape) == (3, 28, 28)
    assert sample['data_samples'].gt_label.tolist() == [9]


def test_mmdet_lvis_dataset(lt):
    import pycocotools.mask as mask_utils
    from mmengine.registry import DefaultScope
    from mmdet.datasets import LVISV1Dataset
    out, paths = lt
    with DefaultScope.overwrite_default_scope('mmdet'):
        ds = LVISV1Dataset(
            data_root=str(out / 'det') + '/',
            ann_file='annotations/lvis_v1_train.json',
            data_prefix=dict(img=''),
            metainfo=dict(classes=LT_DIGITS_CLASSES),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                dict(type='PackDetInputs')
            ])
        assert len(ds) == 240
        assert ds.metainfo['classes'] == LT_DIGITS_CLASSES
        sample = ds[0]
    lvis = json.loads(Path(paths['det']['train']).read_text())
    anns = [a for a in lvis['annotations'] if a['image_id'] == 1]
    meta = sample['data_samples'].metainfo
    assert meta['img_path'] == str(out / 'det' / 'train2017' /
                                   '000000000001.jpg')
    assert tuple(sample['inputs'].shape) == (3, 96, 96)
    gt = sample['data_samples'].gt_instances
    assert gt.labels.tolist() == [a['category_id'] - 1 for a in anns]
    expected_boxes = [[x, y, x + w, y + h] for x, y, w, h in
                      (a['bbox'] for a in anns)]
    assert gt.bboxes.tensor.tolist() == expected_boxes
    # LoadAnnotations rasterises the polygons (poly2mask): same as
    # pycocotools on the json's polygons.
    masks = gt.masks.to_ndarray()
    assert masks.shape == (len(anns), 96, 96)
    for mask, a in zip(masks, anns):
        rles = mask_utils.frPyObjects(a['segmentation'], 96, 96)
        expected = mask_utils.decode(mask_utils.merge(rles))
        assert np.array_equal(mask, expected)
        assert mask.sum() > 0


def seg_dataset(cls, out, **kwargs):
    return cls(
        data_root=str(out / 'seg'),
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'),
        metainfo=dict(
            classes=LT_DIGITS_SEG_CLASSES, palette=LT_DIGITS_SEG_PALETTE),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ],
        **kwargs)


def test_mmseg_dataset(lt):
    from mmengine.registry import DefaultScope
    from mmseg.datasets import ADE20KDataset, BaseSegDataset
    out, _ = lt
    with DefaultScope.overwrite_default_scope('mmseg'):
        # ADE20KDataset only accepts subsets of its 150 class names, so
        # LT-Digits goes through BaseSegDataset with ADE20K's settings.
        with pytest.raises(ValueError, match='not a subset'):
            seg_dataset(ADE20KDataset, out)
        ds = seg_dataset(
            BaseSegDataset,
            out,
            img_suffix='.jpg',
            seg_map_suffix='.png',
            reduce_zero_label=True)
        assert len(ds) == 240
        assert ds.metainfo['classes'] == LT_DIGITS_SEG_CLASSES
        assert ds.metainfo['palette'] == LT_DIGITS_SEG_PALETTE
        sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 96, 96)
    got = sample['data_samples'].gt_sem_seg.data.numpy()[0]
    raw = np.asarray(
        Image.open(out / 'seg' / 'annotations' / 'training' /
                   'ADE_train_00000001.png')).astype(np.int64)
    # reduce_zero_label: 0 -> 255 (ignored), v -> v - 1.
    assert np.array_equal(got, np.where(raw == 0, 255, raw - 1))
    assert set(np.unique(got)) <= set(range(11)) | {255}
    assert {0, 255} <= set(np.unique(got))


# --------------------------------------------------------------------- CLI
def test_cli(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('make_lt_digits_cli', TOOL)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)  # main guard: importing writes nothing
    assert not (tmp_path / 'lt').exists()
    cli.main(['--out', str(tmp_path / 'lt'), '--tasks', 'cls',
              '--imbalance-ratio', '10', '--seed', '3'])
    printed = capsys.readouterr().out
    rows = {
        line.split()[0]: line.split()[1:]
        for line in printed.splitlines()
        if line.startswith(('digit_', 'total'))
    }
    # floor(440 * 0.1**(i/9)): 440, 340.0, 263.8, 204.2, 158.1, 122.4, ...
    assert [rows[name] for name in LT_DIGITS_CLASSES] == [
        [str(n)] for n in (440, 340, 263, 204, 158, 122, 94, 73, 56, 44)
    ]
    assert rows['total'] == ['1794']
    labels = [label for _, label in read_list(
        tmp_path / 'lt' / 'cls' / 'lt_digits_train.txt')]
    assert Counter(labels) == dict(enumerate(exponential_profile(440, 10,
                                                                 10)))


def test_sklearn_digits_second_source(tmp_path):
    """The protocol's second source: scikit-learn's scans in LT-Digits'
    classification layout, on the same profile, val / test balanced and
    disjoint from train."""
    from PIL import Image

    from mmlt.core.reweighting import exponential_profile
    from mmlt.lt_digits.sklearn_digits import make_lt_sklearn_digits
    paths = make_lt_sklearn_digits(tmp_path, imbalance_ratio=20)
    splits = {}
    for split in ('train', 'val', 'test'):
        lines = Path(paths[split]).read_text().splitlines()
        splits[split] = {line.split()[0] for line in lines}
        labels = [int(line.split()[1]) for line in lines]
        counts = np.bincount(labels, minlength=10).tolist()
        expected = dict(train=exponential_profile(104, 10, 20),
                        val=[25] * 10, test=[45] * 10)[split]
        assert counts == expected, split
    names = [{p.rsplit('/', 1)[1] for p in s} for s in splits.values()]
    assert not (names[0] & names[1] or names[0] & names[2]
                or names[1] & names[2])
    first = sorted(splits['train'])[0]
    image = Image.open(Path(paths['root']) / first)
    assert image.size == (28, 28) and image.mode == 'RGB'
    assert first.split('/')[-1].startswith('sklearn_')
