"""Long-tailed classification datasets for mmpretrain 1.x.

* ``LongTailListDataset``: any ImageNet-LT style ``path label`` list
  (LT-Digits, iNaturalist-2018 lists, Places-LT, ...).
* ``ImageNetLT``: the ImageNet-LT lists of Liu et al. (OLTR):
  ``ImageNet_LT_{train,val,test}.txt`` in the ImageNet folder, 1000 classes.
* ``CIFAR10LT`` / ``CIFAR100LT``: a long-tailed subset of the standard CIFAR
  training batches with the exponential profile
  ``n_i = int(n_max * (1 / imbalance_ratio) ** (i / (C - 1)))``, picked by a
  seeded shuffle per class (LDAM-DRW's procedure: the same seed and files
  give the same subset); the test split stays balanced.

Every dataset has ``get_class_counts()``: images per class of its split.
"""
import os.path as osp
import pickle
from typing import List, Optional

import numpy as np
from mmengine.fileio import get_file_backend, list_from_file
from mmpretrain.datasets import CIFAR10, CIFAR100, CustomDataset
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
from mmpretrain.registry import DATASETS

from mmlt.core.frequency.counts import check_unique_names, read_class_names
from mmlt.core.reweighting import exponential_profile


class _ClassCounts:
    """``get_class_counts()`` for mmpretrain datasets."""

    def get_class_counts(self) -> np.ndarray:
        """Images per class (int64, one entry per class of the metainfo)."""
        classes = self.metainfo.get('classes') or ()
        return np.bincount(self.get_gt_labels(), minlength=len(classes))


@DATASETS.register_module()
class LongTailListDataset(_ClassCounts, CustomDataset):
    """Images listed in a ``path label`` file (one image per line, the
    integer label last, paths relative to ``data_prefix`` / ``data_root``).

    Compared with ``CustomDataset`` it checks every line and label (errors
    name the file and line), accepts any whitespace before the label, and
    names the classes when no names are given.

    Args:
        ann_file: the list, relative to ``data_root`` unless absolute.
        classes: class names: a text file (one per line, e.g.
            ``classes.txt``) or a sequence. Without them the classes are
            named ``class_0``, ``class_1``, ... (mmlt's generic names), for
            ``num_classes`` classes or the largest label + 1.
        num_classes: the number of classes when ``classes`` is not given.
        **kwargs: ``CustomDataset`` / ``BaseDataset`` arguments
            (``data_root``, ``data_prefix``, ``pipeline``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 classes=None,
                 num_classes: Optional[int] = None,
                 **kwargs):
        if not ann_file:
            raise ValueError(f'{type(self).__name__} needs `ann_file`, a '
                             '"path label" list.')
        self.num_classes = num_classes
        if isinstance(classes, str):  # a file of names, read naming it
            classes = read_class_names(classes, f'class-name file {classes}')
        super().__init__(ann_file=ann_file, classes=classes, **kwargs)

    def load_data_list(self) -> List[dict]:
        classes = self._metainfo.get('classes')
        if classes is not None:  # a list in the config, or published
            check_unique_names(classes, f'{type(self).__name__} classes',
                               strict=False)
        if classes is not None and self.num_classes is not None and len(
                classes) != self.num_classes:
            raise ValueError(f'{type(self).__name__}: {len(classes)} class '
                             f'names for num_classes={self.num_classes}.')
        limit = len(classes) if classes is not None else self.num_classes
        backend = get_file_backend(self.img_prefix, enable_singleton=True)
        data_list = []
        for number, line in enumerate(list_from_file(self.ann_file), 1):
            if not line.strip():
                continue
            parts = line.strip().rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].isdigit():
                raise ValueError(f'{self.ann_file}, line {number}: expected '
                                 f'"path label" with an integer label >= 0,'
                                 f' got {line.strip()!r}.')
            label = int(parts[1])
            if limit is not None and label >= limit:
                raise ValueError(f'{self.ann_file}, line {number}: label '
                                 f'{label} is out of range for {limit} '
                                 'classes.')
            data_list.append(
                dict(img_path=backend.join_path(self.img_prefix, parts[0]),
                     gt_label=label))
        if not data_list:
            raise ValueError(f'{self.ann_file} lists no images.')
        if classes is None:
            count = limit or max(d['gt_label'] for d in data_list) + 1
            self._metainfo['classes'] = tuple(f'class_{i}'
                                              for i in range(count))
        return data_list


@DATASETS.register_module()
class ImageNetLT(LongTailListDataset):
    """ImageNet-LT (Liu et al., CVPR 2019): 115.8k training images of the
    1000 ImageNet classes, 1280 to 5 per class; a balanced val (20 per
    class, from ImageNet train) and test (50 per class: the ImageNet val
    set).

    Layout (mmpretrain's ``data/imagenet`` plus the three lists)::

        data/imagenet/
        ├── ImageNet_LT_train.txt   # train/n01440764/n01440764_10026.JPEG 0
        ├── ImageNet_LT_val.txt     # train/n01440764/...JPEG 0
        ├── ImageNet_LT_test.txt    # val/n01440764/ILSVRC2012_val_...JPEG 0
        ├── train/n01440764/...
        └── val/n01440764/...       # val images in class folders

    Args:
        split: 'train', 'val' or 'test'; picks ``ImageNet_LT_{split}.txt``.
        ann_file: another list instead.
        **kwargs: ``LongTailListDataset`` arguments.
    """
    METAINFO = {'classes': IMAGENET_CATEGORIES}

    def __init__(self, split: str = 'train', ann_file: str = '', **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"ImageNetLT: split must be 'train', 'val' or "
                             f"'test', got {split!r}.")
        self.split = split
        super().__init__(
            ann_file=ann_file or f'ImageNet_LT_{split}.txt', **kwargs)


# What the pickled CIFAR batches of the python version may refer to: numpy
# arrays and scalars (numpy 1 and 2 module names), and the bytes of a
# python-3 pickle (_codecs.encode, which torch's weights_only reader allows
# too). Nothing else can run on reading.
_CIFAR_PICKLE_GLOBALS = {('_codecs', 'encode'), ('numpy', 'ndarray'),
                         ('numpy', 'dtype')} | {
                             (f'numpy.{core}.multiarray', name)
                             for core in ('core', '_core')
                             for name in ('_reconstruct', 'scalar')}


class _ArraysOnly(pickle.Unpickler):

    def find_class(self, module, name):
        if (module, name) in _CIFAR_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'it refers to {module}.{name}')


def check_cifar_batch(path: str) -> None:
    """Raise ``ValueError`` unless ``path`` is a pickled CIFAR batch that
    holds only data (dicts, lists, strings, numpy arrays): a pickle that
    names any other callable could run code when mmpretrain unpickles it."""
    try:
        with open(path, 'rb') as f:
            content = _ArraysOnly(f, encoding='latin1').load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError) as e:
        raise ValueError(
            f'{path} is not a CIFAR batch of the python version ({e}); '
            'nothing from it was run. Take the dataset from '
            'https://www.cs.toronto.edu/~kriz/cifar.html (python '
            'version).') from None
    if not isinstance(content, dict):
        raise ValueError(f'{path} is not a CIFAR batch of the python '
                         f'version: it holds a {type(content).__name__}, '
                         'not a dict.')


class _CIFARLongTail(_ClassCounts):
    """The long-tailed subset of a CIFAR training split (see module doc).

    The batches are read by mmpretrain's ``CIFAR10`` / ``CIFAR100``, which
    unpickle them once their md5 sums match the published files; here any
    batch in the same format is accepted (a re-packed or fabricated set)
    once ``check_cifar_batch`` found it holds nothing but data.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 imbalance_ratio: float = 100,
                 seed: int = 0,
                 n_max: Optional[int] = None,
                 **kwargs):
        # Set before super().__init__, which loads the data.
        self.imbalance_ratio = imbalance_ratio
        self.seed = seed
        self.n_max = n_max
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.split != 'train':
            return data_list
        labels = np.asarray([d['gt_label'] for d in data_list])
        num_classes = len(self.metainfo['classes'])
        available = np.bincount(labels, minlength=num_classes)
        # LDAM: n_max = images per class of the full (balanced) split.
        n_max = self.n_max if self.n_max is not None else int(available.min())
        counts = exponential_profile(n_max, num_classes, self.imbalance_ratio)
        short = [c for c in range(num_classes) if available[c] < counts[c]]
        if short:
            c = short[0]
            raise ValueError(
                f'{type(self).__name__}: class {c} has {available[c]} '
                f'training images, the profile asks for {counts[c]} '
                f'(n_max={n_max}, imbalance_ratio={self.imbalance_ratio}).')
        # One RandomState shuffling each class in turn: LDAM's
        # np.random.seed(seed) + np.random.shuffle(idx), without the global
        # state.
        rng = np.random.RandomState(self.seed)
        keep = []
        for c in range(num_classes):
            idx = np.flatnonzero(labels == c)
            rng.shuffle(idx)
            keep.extend(idx[:counts[c]].tolist())
        return [data_list[i] for i in keep]

    def _check_integrity(self) -> bool:
        # mmpretrain asks twice per load (main process, then every rank)
        if getattr(self, '_batches_checked', False):
            return True
        folder = osp.join(self.data_prefix['root'], self.base_folder)
        paths = [osp.join(folder, name)
                 for name, _ in self.train_list + self.test_list]
        if not all(osp.isfile(p) for p in paths):
            return False
        # the batches of the split are unpickled next; batches.meta only
        # for the class names, if at all
        files = self.train_list if self.split == 'train' else self.test_list
        meta = osp.join(folder, self.meta['filename'])
        for path in [osp.join(folder, name) for name, _ in files] + (
                [meta] if osp.isfile(meta) else []):
            check_cifar_batch(path)
        self._batches_checked = True
        return True


@DATASETS.register_module()
class CIFAR10LT(_CIFARLongTail, CIFAR10):
    """CIFAR-10-LT: ``CIFAR10`` (same files, ``data/cifar10/
    cifar-10-batches-py``) with a long-tailed training split.

    Args:
        imbalance_ratio: n_max / n_min (100 or 50 in the literature).
        seed: seed of the per-class shuffle that picks the subset.
        n_max: images of class 0; defaults to the per-class count of the
            full split (5000).
        **kwargs: ``CIFAR10`` arguments (``data_root``, ``split``, ...).
    """


@DATASETS.register_module()
class CIFAR100LT(_CIFARLongTail, CIFAR100):
    """CIFAR-100-LT: ``CIFAR100`` (``data/cifar100/cifar-100-python``) with
    a long-tailed training split; n_max defaults to 500. Arguments as
    ``CIFAR10LT``."""


def cifar_lt_counts(num_classes: int, imbalance_ratio: float) -> List[int]:
    """The training counts of CIFAR-10-LT / CIFAR-100-LT."""
    return exponential_profile({10: 5000, 100: 500}[num_classes], num_classes,
                               imbalance_ratio)
