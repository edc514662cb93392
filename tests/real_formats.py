"""A few images in the on-disk formats of the real datasets, with their
real class lists, under the paths the full-size configs read (relative to
the directory a user runs the tools from):

* LVIS v1: ``data/lvis_v1/annotations/lvis_v1_{train,val}.json`` with all
  1,203 categories (mmdet's ``LVISV1Dataset`` names, ids 1..1203, one
  spelled as the real file spells it), r / c / f letters in LVIS v1's
  proportions (405 f, 461 c, 337 r; which category has which is made up),
  polygon annotations, images under ``train2017/`` / ``val2017/`` named by
  their ``coco_url``.
* ADE20K: ``data/ade/ADEChallengeData2016/{images,annotations}/
  {training,validation}``, JPEG images and PNG label maps with values
  0..150 (0: "other", dropped by ``reduce_zero_label``).
* ImageNet-LT: ``data/imagenet/ImageNet_LT_{train,val,test}.txt``
  (``train/nXXXXXXXX/....JPEG label``) over the 1,000 classes, every class
  with at least one training image.
* CIFAR-10: ``data/cifar10/cifar-10-batches-py``, the pickled batches of the
  python version (``data`` uint8 N x 3072, ``labels``), ``per_class``
  images of each class per split.

``save_stage1`` stands in for a trained stage 1: the model of a config,
initialised, saved as mmengine saves a checkpoint.
"""
import json
import pickle
from pathlib import Path

import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

# LVIS v1 spells category 655 so; mmdet's class list says 'stereo'
LVIS_RESPELLED = {'speaker_(stereo_equipment)': 'speaker_(stero_equipment)'}
# images and categories of the fabricated LVIS annotations
LVIS_TRAIN_IMAGES = 4
LVIS_VAL_IMAGES = 1


def _image(path: Path, rng, size=(48, 64)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(
        path, quality=90)


def lvis_v1(root: Path) -> Path:
    """LVIS v1 train / val jsons and images under ``root/data/lvis_v1``."""
    from mmdet.datasets import LVISV1Dataset
    rng = np.random.default_rng(0)
    data = root / 'data' / 'lvis_v1'
    names = [LVIS_RESPELLED.get(n, n)
             for n in LVISV1Dataset.METAINFO['classes']]
    letters = np.array(['f'] * 405 + ['c'] * 461 + ['r'] * 337)
    rng.shuffle(letters)
    categories = [
        {'id': i + 1, 'name': name, 'synset': f'{name}.n.01',
         'synonyms': [name], 'def': name, 'frequency': str(letters[i]),
         'image_count': 0, 'instance_count': 0}
        for i, name in enumerate(names)]
    width, height = 64, 48
    ann_id = 1
    for split, count, first_id in (('train', LVIS_TRAIN_IMAGES, 1),
                                   ('val', LVIS_VAL_IMAGES, 1000)):
        images, annotations = [], []
        for k in range(count):
            image_id = first_id + k
            url = (f'http://images.cocodataset.org/{split}2017/'
                   f'{image_id:012d}.jpg')
            _image(data / f'{split}2017' / f'{image_id:012d}.jpg', rng,
                   (height, width))
            images.append(dict(
                id=image_id, width=width, height=height, coco_url=url,
                license=1, flickr_url=url, date_captured='2013-11-14',
                neg_category_ids=[], not_exhaustive_category_ids=[]))
            for category in (1 + k % 5, 655, 1203):  # 655: the respelled one
                x, y = 4 + 6 * k, 6
                w, h = 24, 20
                annotations.append(dict(
                    id=ann_id, image_id=image_id, category_id=category,
                    bbox=[x, y, w, h], area=w * h,
                    segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
                ann_id += 1
        for cat in categories:
            mine = [a for a in annotations if a['category_id'] == cat['id']]
            if split == 'train':
                cat['image_count'] = len({a['image_id'] for a in mine})
                cat['instance_count'] = len(mine)
        out = data / 'annotations' / f'lvis_v1_{split}.json'
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(dict(
            info={}, licenses=[], images=images, annotations=annotations,
            categories=categories)))
    return data


def ade20k(root: Path, train: int = 4, val: int = 2) -> Path:
    """The ADEChallengeData2016 folders under ``root/data/ade``."""
    rng = np.random.default_rng(1)
    data = root / 'data' / 'ade' / 'ADEChallengeData2016'
    for split, count in (('training', train), ('validation', val)):
        for k in range(count):
            name = f'ADE_{"train" if split == "training" else "val"}_' \
                   f'{k + 1:08d}'
            _image(data / 'images' / split / f'{name}.jpg', rng, (48, 64))
            labels = np.zeros((48, 64), np.uint8)  # 0: other
            labels[:, 16:32] = 1 + k  # a head class
            labels[:, 32:48] = 150  # the last tail class
            labels[:24, 48:] = 80 + k
            out = data / 'annotations' / split / f'{name}.png'
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(labels).save(out)
    return data


def imagenet_lt(root: Path, val: int = 4) -> Path:
    """The ImageNet-LT lists and their images under ``root/data/imagenet``:
    one training image per class, five for class 0; ``val`` val and test
    images."""
    rng = np.random.default_rng(2)
    data = root / 'data' / 'imagenet'
    wnids = [f'n{10000000 + c:08d}' for c in range(1000)]
    lists = {'train': [], 'val': [], 'test': []}
    for c, wnid in enumerate(wnids):
        for k in range(5 if c == 0 else 1):
            lists['train'].append((f'train/{wnid}/{wnid}_{k}.JPEG', c))
    for k in range(val):
        c = 333 * k % 1000
        lists['val'].append((f'train/{wnids[c]}/{wnids[c]}_val{k}.JPEG', c))
        lists['test'].append((f'val/{wnids[c]}/ILSVRC2012_val_{k:08d}.JPEG',
                              c))
    for split, lines in lists.items():
        for path, _ in lines:
            _image(data / path, rng, (40, 40))
        (data / f'ImageNet_LT_{split}.txt').write_text(
            ''.join(f'{p} {c}\n' for p, c in lines))
    return data


def cifar10(root: Path, per_class: int = 10) -> Path:
    """``cifar-10-batches-py`` under ``root/data/cifar10``: five training
    batches and the test batch, ``per_class`` images of each class in each
    split, and ``batches.meta``."""
    rng = np.random.default_rng(3)
    folder = root / 'data' / 'cifar10' / 'cifar-10-batches-py'
    folder.mkdir(parents=True, exist_ok=True)
    names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
             'horse', 'ship', 'truck']

    def batch(labels):
        return dict(batch_label='fabricated', labels=list(labels),
                    data=rng.integers(0, 255, (len(labels), 3072),
                                      dtype=np.uint8),
                    filenames=[f'{i}.png' for i in range(len(labels))])

    train = np.repeat(np.arange(10), per_class)
    rng.shuffle(train)
    for i, part in enumerate(np.array_split(train, 5)):
        (folder / f'data_batch_{i + 1}').write_bytes(
            pickle.dumps(batch(part.tolist()), protocol=2))
    (folder / 'test_batch').write_bytes(pickle.dumps(
        batch(np.repeat(np.arange(10), per_class).tolist()), protocol=2))
    (folder / 'batches.meta').write_bytes(pickle.dumps(
        dict(label_names=names, num_cases_per_batch=len(train) // 5,
             num_vis=3072), protocol=2))
    return folder


def save_stage1(config: str, out: Path, scope: str) -> Path:
    """The model of a stage-1 config, initialised, saved as mmengine's
    ``CheckpointHook`` saves (``meta`` + ``state_dict``)."""
    from mmengine.registry import MODELS
    from mmengine.runner import save_checkpoint
    cfg = Config.fromfile(config)
    init_default_scope(scope)
    if 'custom_imports' in cfg:
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    model = MODELS.build(cfg.model)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint({'meta': {'epoch': 1, 'iter': 1},
                     'state_dict': model.state_dict()}, str(out))
    return out


def save_run(config: str, work_dir: Path, scope: str,
             name: str = 'epoch_1.pth') -> Path:
    """``save_stage1`` into ``work_dir`` as a finished run leaves it (the
    checkpoint and ``last_checkpoint`` naming it): what a stage-2 config's
    ``load_from`` names. Returns ``work_dir``."""
    save_stage1(config, work_dir / name, scope)
    (work_dir / 'last_checkpoint').write_text(name)
    return work_dir
