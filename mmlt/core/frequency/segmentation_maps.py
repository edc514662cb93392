"""Class frequencies of a folder of segmentation label maps (pixels per
class, ADE20K's head / body / tail proportions by rank)."""
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .class_frequency import ClassFrequency
from .counts import MANY_FILES, PathLike, generic_class_names, progress_bar
from .splits import ADE20K_FRACTIONS, split_by_rank


def _read_label_map(path: Path) -> np.ndarray:
    from PIL import Image
    try:
        with Image.open(path) as img:
            # 'P' (palette) and 'L' give the stored indices, as mmcv's
            # pillow backend with flag='unchanged' does.
            arr = np.asarray(img)
    except (OSError, ValueError, SyntaxError) as e:  # PIL's decode errors
        raise ValueError(f'label map {path} cannot be read as an image '
                         f'({type(e).__name__}: {str(e)[:200]}); replace or '
                         'remove the file.') from None
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ValueError(f'label map {path} has shape {arr.shape}; expected '
                         'a single-channel image of class indices (a colour '
                         'rendering is not a label map).')
    return arr


def from_segmentation_maps(ann_dir: PathLike,
                           num_classes: int,
                           classes: Optional[Sequence[str]] = None,
                           reduce_zero_label: bool = False,
                           ignore_index: int = 255,
                           suffix: str = '.png') -> ClassFrequency:
    """Pixels per class over a folder (searched recursively) of label maps.

    ``reduce_zero_label`` works as in mmseg's LoadAnnotations: label 0
    becomes 255 (ignored), every other label is decreased by 1, and 255
    stays 255. Pixels equal to ``ignore_index`` are skipped. Any other
    value >= ``num_classes`` raises ValueError naming the file. Values above
    255 are refused as well: mmseg casts label maps to uint8 and would wrap
    them. Default split: by pixel-count rank, with ADE20K's head / body /
    tail proportions (20, 55, 75 of 150 classes).
    """
    ann_dir = Path(ann_dir)
    if not ann_dir.is_dir():
        raise FileNotFoundError(f'label-map folder {ann_dir} does not exist.')
    if classes is not None and len(classes) != num_classes:
        raise ValueError(f'from_segmentation_maps: {len(classes)} class '
                         f'names for num_classes={num_classes}.')
    files = sorted(p for p in ann_dir.rglob(f'*{suffix}') if p.is_file())
    if not files:
        raise FileNotFoundError(f'no *{suffix} files under {ann_dir}; check '
                                'the folder and --suffix.')
    counts = np.zeros(num_classes, dtype=np.int64)
    for path in progress_bar(files, len(files), 'label maps', MANY_FILES):
        raw = _read_label_map(path)
        if raw.dtype.kind not in 'ui':
            raise ValueError(f'label map {path} has pixel type {raw.dtype}; '
                             'expected integer class indices.')
        labels = raw.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            value = int(labels.min() if labels.min() < 0 else labels.max())
            raise ValueError(f'label map {path} holds value {value}; mmseg '
                             'reads label maps as uint8 (0..255).')
        if reduce_zero_label:
            reduced = labels - 1
            reduced[(labels == 0) | (labels == 255)] = 255
            labels = reduced
        valid = labels != ignore_index
        if reduce_zero_label:
            valid &= labels != 255
        values = labels[valid]
        bad = values[values >= num_classes]
        if bad.size:
            raise ValueError(f'label map {path} holds label {int(bad[0])} '
                             f'(after reduce_zero_label={reduce_zero_label})'
                             f', but num_classes is {num_classes} and '
                             f'ignore_index is {ignore_index}; check '
                             '--num-classes and --reduce-zero-label.')
        counts += np.bincount(values, minlength=num_classes)
    names = tuple(classes) if classes is not None else generic_class_names(
        num_classes)
    source = (f'from_segmentation_maps({str(ann_dir)!r}, num_classes='
              f'{num_classes}, reduce_zero_label={reduce_zero_label}, '
              f'ignore_index={ignore_index}, suffix={suffix!r}): '
              f'{len(files)} files')
    return ClassFrequency(classes=names, counts=counts, kind='pixels',
                          split=split_by_rank(counts, ADE20K_FRACTIONS),
                          source=source)
