"""Long-tailed classification datasets: CIFAR-LT subsets of small CIFAR
files written in the real pickle format, ImageNet-LT and generic lists."""
import pickle

import numpy as np
import pytest

import mmlt.classification  # noqa: F401
from mmlt.classification import (CIFAR10LT, CIFAR100LT, ImageNetLT,
                                 LongTailListDataset, cifar_lt_counts,
                                 exponential_profile)

PER_CLASS = 60  # train images per class in the fake files (CIFAR: 5000)


def fake_images(labels, offset):
    """(N, 3072) uint8 rows; pixel 0 is the label and pixels 1-2 the
    image's index in the split, so a row can be traced back."""
    data = np.zeros((len(labels), 3072), np.uint8)
    index = np.arange(len(labels)) + offset
    data[:, 0] = labels
    data[:, 1], data[:, 2] = index // 256, index % 256
    return data


def write_batch(path, labels, offset, label_key):
    entry = {'batch_label': path.name, label_key: list(labels),
             'data': fake_images(labels, offset),
             'filenames': [f'{i}.png' for i in range(len(labels))]}
    path.write_bytes(pickle.dumps(entry, protocol=2))


@pytest.fixture
def cifar10_root(tmp_path, monkeypatch):
    """CIFAR-10's files (5 train batches, a test batch), each class
    shuffled through the batches as in the real ones."""
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat(np.arange(10), PER_CLASS))
    for b, part in enumerate(np.array_split(labels, 5)):
        write_batch(folder / f'data_batch_{b + 1}', part,
                    b * len(part), 'labels')
    write_batch(folder / 'test_batch', np.repeat(np.arange(10), 7), 0,
                'labels')
    # the md5 sums of the real files cannot match the fake ones
    monkeypatch.setattr(CIFAR10LT, 'train_list',
                        [[f'data_batch_{i}', None] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10LT, 'test_list', [['test_batch', None]])
    return str(tmp_path)


def traced(dataset):
    """(label, original index) of every image of a dataset."""
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return [(int(d['img'][0, 0, 0]),
             int(d['img'][0, 1, 0]) * 256 + int(d['img'][0, 2, 0]))
            for d in infos]


@pytest.mark.parametrize('ratio', [10, 100 / 3])
def test_cifar10_lt_has_exactly_the_profile(cifar10_root, ratio):
    train = CIFAR10LT(data_root=cifar10_root, imbalance_ratio=ratio,
                      download=False)
    expected = [int(PER_CLASS * (1 / ratio)**(i / 9)) for i in range(10)]
    assert expected[0] == PER_CLASS and expected[-1] == int(PER_CLASS /
                                                            ratio)
    assert train.get_class_counts().tolist() == expected
    assert len(train) == sum(expected)
    # each image is a real one of its class, none twice
    pairs = traced(train)
    assert len(pairs) == len(train)
    assert [label for label, _ in pairs] == train.get_gt_labels().tolist()
    assert len(set(pairs)) == len(pairs)


def test_cifar_lt_subset_is_deterministic_per_seed(cifar10_root):
    def subset(seed):
        return traced(CIFAR10LT(data_root=cifar10_root, imbalance_ratio=10,
                                seed=seed, download=False))

    assert subset(0) == subset(0)
    assert subset(0) != subset(1)
    assert sorted(subset(0)) != sorted(subset(1))  # other images, not order


def test_cifar_lt_test_split_stays_balanced(cifar10_root):
    test = CIFAR10LT(data_root=cifar10_root, split='test', download=False)
    assert test.get_class_counts().tolist() == [7] * 10


def test_cifar_lt_refuses_a_profile_the_files_cannot_give(cifar10_root):
    with pytest.raises(ValueError, match='class 0 has 60 training images'):
        CIFAR10LT(data_root=cifar10_root, n_max=61, download=False)


def test_cifar100_lt_reads_fine_labels(tmp_path, monkeypatch):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    rng = np.random.default_rng(1)
    write_batch(folder / 'train',
                rng.permutation(np.repeat(np.arange(100), 20)), 0,
                'fine_labels')
    write_batch(folder / 'test', np.arange(100), 0, 'fine_labels')
    monkeypatch.setattr(CIFAR100LT, 'train_list', [['train', None]])
    monkeypatch.setattr(CIFAR100LT, 'test_list', [['test', None]])
    train = CIFAR100LT(data_root=str(tmp_path), imbalance_ratio=10,
                       download=False)
    assert train.get_class_counts().tolist() == exponential_profile(
        20, 100, 10)
    assert len(train.metainfo['classes']) == 100


def test_published_cifar_lt_sizes():
    # LDAM-DRW / DeiT-LT training-set sizes
    assert sum(cifar_lt_counts(10, 100)) == 12406
    assert sum(cifar_lt_counts(10, 50)) == 13996
    assert sum(cifar_lt_counts(100, 100)) == 10847
    assert sum(cifar_lt_counts(100, 50)) == 12608
    assert cifar_lt_counts(10, 100)[-1] == 50
    assert cifar_lt_counts(100, 100)[-1] == 5


def write_list(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def test_long_tail_list_dataset(tmp_path):
    ann = write_list(tmp_path / 'train.txt', [
        'a/x 1.png 0', 'b/y.png\t2', '', 'c/z.png 2'])
    classes = write_list(tmp_path / 'classes.txt', ['cat', 'dog', 'eel'])
    data = LongTailListDataset(ann_file=ann, data_root=str(tmp_path),
                               classes=classes, lazy_init=False)
    assert data.metainfo['classes'] == ('cat', 'dog', 'eel')
    assert data.get_class_counts().tolist() == [1, 0, 2]
    assert data.get_data_info(0)['img_path'] == str(tmp_path / 'a/x 1.png')
    # no names: generic ones, for num_classes or the largest label + 1
    assert LongTailListDataset(ann_file=ann).metainfo['classes'] == (
        'class_0', 'class_1', 'class_2')
    assert len(LongTailListDataset(ann_file=ann, num_classes=5).metainfo[
        'classes']) == 5
    with pytest.raises(ValueError, match='line 2: label 2 is out of range'):
        LongTailListDataset(ann_file=ann, classes=['cat', 'dog'])
    bad = write_list(tmp_path / 'bad.txt', ['a.png 0', 'b.png two'])
    with pytest.raises(ValueError, match='bad.txt, line 2'):
        LongTailListDataset(ann_file=bad)


def test_imagenet_lt_lists(tmp_path):
    write_list(tmp_path / 'ImageNet_LT_train.txt', [
        'train/n01440764/n01440764_10026.JPEG 0',
        'train/n01443537/n01443537_1.JPEG 1',
        'train/n01440764/n01440764_2.JPEG 0'])
    write_list(tmp_path / 'ImageNet_LT_test.txt', [
        'val/n15075141/ILSVRC2012_val_00000001.JPEG 999'])
    train = ImageNetLT(data_root=str(tmp_path), split='train')
    assert len(train.metainfo['classes']) == 1000
    assert train.get_class_counts()[:3].tolist() == [2, 1, 0]
    assert train.get_data_info(1)['img_path'] == str(
        tmp_path / 'train/n01443537/n01443537_1.JPEG')
    test = ImageNetLT(data_root=str(tmp_path), split='test')
    assert test.get_data_info(0)['gt_label'] == 999
    with pytest.raises(ValueError, match="split must be"):
        ImageNetLT(data_root=str(tmp_path), split='training')


def test_a_cifar_batch_that_would_run_code_is_refused(cifar10_root,
                                                      tmp_path):
    """The batches are pickles: one that names a callable other than
    numpy's array constructors is refused before anything in it runs."""
    marker = tmp_path / 'ran'

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    batch = tmp_path / 'cifar-10-batches-py' / 'data_batch_3'
    batch.write_bytes(pickle.dumps({'data': Payload()}, protocol=2))
    with pytest.raises(ValueError, match=r'data_batch_3 is not a CIFAR batch'
                       r'.*io\.open.*nothing from it was run'):
        CIFAR10LT(data_root=cifar10_root, download=False)
    assert not marker.exists()
