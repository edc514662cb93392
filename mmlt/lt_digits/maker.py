"""make_lt_digits: checks the arguments, splits the digits, draws the
canvases and calls the writers in order; lt_digits_outdated: whether a
folder must be written again."""
import json
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmlt.core.reweighting import exponential_profile
from .canvases import place_digits
from .common import (FORMAT_VERSION, LT_DIGITS_CLASSES, META_FILE, TASKS,
                     load_mnist)
from .writers import write_cls, write_det, write_meta, write_seg

PathLike = Union[str, Path]


def _check_args(tasks: Tuple[str, ...], val_per_class: int,
                test_per_class: int, canvas_size: int,
                max_per_canvas: int) -> None:
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


def _train_profiles(labels: np.ndarray, imbalance_ratio: float,
                    val_per_class: int, test_per_class: int,
                    instances_n_max: int) -> Tuple[List[int], List[int]]:
    """Train samples per class: of cls (from the whole train pool) and of
    det / seg instances (from ``instances_n_max``)."""
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
    return cls_counts, inst_counts


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


def _make_canvases(images: np.ndarray, pool: Dict[int, List[int]],
                   val: Dict[int, List[int]], inst_counts: List[int],
                   train_rng: np.random.Generator,
                   val_rng: np.random.Generator, canvas_size: int,
                   max_per_canvas: int) -> Dict[str, list]:
    """The det / seg train and val canvases (all their random draws)."""
    num_classes = len(LT_DIGITS_CLASSES)
    # Train instances: the first n_i digits of each class's (shuffled)
    # pool, so they are a subset of the cls train images; val: the val
    # digits. Shuffled across classes so canvases mix classes.
    train_inst = [(c, i) for c in range(num_classes)
                  for i in pool[c][:inst_counts[c]]]
    val_inst = [(c, i) for c in range(num_classes) for i in val[c]]
    train_inst = [train_inst[j]
                  for j in train_rng.permutation(len(train_inst))]
    val_inst = [val_inst[j] for j in val_rng.permutation(len(val_inst))]
    return dict(
        train=place_digits(train_inst, images, train_rng, canvas_size,
                           max_per_canvas),
        val=place_digits(val_inst, images, val_rng, canvas_size,
                         max_per_canvas))


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
    _check_args(tasks, val_per_class, test_per_class, canvas_size,
                max_per_canvas)
    images, labels = load_mnist()
    cls_counts, inst_counts = _train_profiles(labels, imbalance_ratio,
                                              val_per_class, test_per_class,
                                              instances_n_max)

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
    counts = dict(cls_train=cls_counts, det_seg_train=inst_counts)
    if 'cls' in tasks:
        train = {
            c: sorted(pool[c][:cls_counts[c]])
            for c in range(len(LT_DIGITS_CLASSES))
        }
        paths['cls'] = write_cls(out / 'cls', images,
                                 dict(train=train, val=val, test=test))
    if 'det' in tasks or 'seg' in tasks:
        # Drawn once; det and seg each render them (rendering draws
        # nothing), so image k of a split is the same picture in both.
        canvases = _make_canvases(images, pool, val, inst_counts, train_rng,
                                  val_rng, canvas_size, max_per_canvas)
        counts['train_canvases'] = len(canvases['train'])
        counts['val_canvases'] = len(canvases['val'])
        if 'det' in tasks:
            paths['det'], det_counts = write_det(out / 'det', canvases)
            counts.update(det_counts)
        if 'seg' in tasks:
            paths['seg'], seg_counts = write_seg(out / 'seg', canvases)
            counts.update(seg_counts)
    settings = dict(
        imbalance_ratio=imbalance_ratio,
        seed=seed,
        val_per_class=val_per_class,
        test_per_class=test_per_class,
        instances_n_max=instances_n_max,
        canvas_size=canvas_size,
        max_per_canvas=max_per_canvas)
    paths['meta'] = write_meta(out, settings, counts)
    return paths


def lt_digits_outdated(out_dir: PathLike) -> Optional[str]:
    """Why ``out_dir`` is not a complete LT-Digits of this mmlt's format
    (a task folder or the meta file missing, or an older
    ``format_version``), or None when it is."""
    out = Path(out_dir)
    missing = [t for t in TASKS if not (out / t).is_dir()]
    if not (out / META_FILE).exists() or missing:
        return f'incomplete (missing {missing or META_FILE})'
    # Folders written before the version was recorded are format 1.
    version = json.loads((out / META_FILE).read_text()).get(
        'format_version', 1)
    if version != FORMAT_VERSION:
        return (f'written by an older mmlt (format {version}, this mmlt '
                f'writes {FORMAT_VERSION})')
    return None
