"""Expected calibration error (ECE) as MiSLAS computes it (Zhong et al.,
CVPR 2021, "Improving Calibration for Long-Tailed Recognition";
github.com/dvlab-research/MiSLAS, ``utils/metric.py``, ``calibration``):
15 equal-width confidence bins over [0, 1], bin ``b`` holding the
confidences in ``(lower_b, upper_b]``, and

    ECE = sum_b n_b / N * |accuracy_b - confidence_b|,

reported in % (``eval.py`` prints ``expected_calibration_error * 100``).
The confidence of a sample is its largest probability and it is correct
when that class is its label.

One difference: MiSLAS's ``np.digitize(..., right=True)`` puts a confidence
of exactly 0 in no bin (and leaves it out of N); here it goes to the first
bin. A softmax's largest probability is at least 1 / C, so no result
changes.
"""
import json
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Union

import numpy as np

from mmlt.utils.atomic_write import write_atomically

BIN_KEYS = ('lower', 'upper', 'count', 'accuracy', 'confidence')


def _as_numpy(values, name: str) -> np.ndarray:
    if hasattr(values, 'detach'):  # a torch tensor, without importing torch
        values = values.detach().cpu().numpy()
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as e:
        raise ValueError(f'{name}: not an array ({e}).') from None


def _check_num_bins(num_bins) -> int:
    if isinstance(num_bins, bool) or not isinstance(
            num_bins, (int, np.integer)) or num_bins < 1:
        raise ValueError(f'num_bins must be an integer >= 1, got '
                         f'{num_bins!r}.')
    return int(num_bins)


def reliability_bins(confidences, correct, num_bins: int = 15
                     ) -> Dict[str, np.ndarray]:
    """The bins of a reliability diagram: arrays ``lower``, ``upper`` (the
    bin edges), ``count`` (samples in the bin), ``accuracy`` (fraction of
    them correct) and ``confidence`` (their mean confidence). An empty bin
    has count 0 and accuracy and confidence 0.0 (as in MiSLAS), never NaN.

    Args:
        confidences: (N,) the confidence of each sample, in [0, 1].
        correct: (N,) whether each prediction is right (bool or 0 / 1).
        num_bins: equal-width bins over [0, 1]; 15 in MiSLAS.
    """
    num_bins = _check_num_bins(num_bins)
    conf = _as_numpy(confidences, 'confidences')
    hit = _as_numpy(correct, 'correct')
    if conf.ndim != 1 or hit.ndim != 1 or conf.shape != hit.shape:
        raise ValueError(f'confidences and correct must be 1-D arrays of '
                         f'the same length, got shapes {conf.shape} and '
                         f'{hit.shape}.')
    if conf.size == 0:
        raise ValueError('no samples: confidences is empty.')
    if not np.issubdtype(conf.dtype, np.number) or np.issubdtype(
            conf.dtype, np.complexfloating):
        raise ValueError(f'confidences must be numbers, got {conf.dtype}.')
    conf = conf.astype(np.float64)
    if not np.isfinite(conf).all() or conf.min() < 0 or conf.max() > 1:
        raise ValueError(
            f'confidences must be probabilities in [0, 1], got values in '
            f'[{np.nanmin(conf)}, {np.nanmax(conf)}]'
            f'{" and NaN / inf" if not np.isfinite(conf).all() else ""}; '
            'pass softmax probabilities, not logits.')
    if not (hit.dtype == bool or np.isin(hit, (0, 1)).all()):
        raise ValueError('correct must be booleans or 0 / 1.')
    hit = hit.astype(np.float64)
    # MiSLAS's edges and binning, so that a confidence on an edge lands in
    # the same bin: digitize(right=True) gives b + 1 for lower < c <= upper
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.clip(np.digitize(conf, edges, right=True), 1, num_bins) - 1
    count = np.bincount(index, minlength=num_bins)
    with np.errstate(invalid='ignore', divide='ignore'):
        accuracy = np.bincount(index, hit, minlength=num_bins) / count
        mean_conf = np.bincount(index, conf, minlength=num_bins) / count
    empty = count == 0
    accuracy[empty] = 0.0
    mean_conf[empty] = 0.0
    return dict(lower=edges[:-1], upper=edges[1:], count=count,
                accuracy=accuracy, confidence=mean_conf)


def ece_of_bins(bins: Mapping[str, Sequence]) -> float:
    """ECE in % of a ``reliability_bins`` result."""
    count = np.asarray(bins['count'], dtype=np.float64)
    gap = np.abs(np.asarray(bins['accuracy'], dtype=np.float64) -
                 np.asarray(bins['confidence'], dtype=np.float64))
    return float(100.0 * (count * gap).sum() / count.sum())


def expected_calibration_error(confidences, correct,
                               num_bins: int = 15) -> float:
    """ECE in % (module doc) of the samples' confidences and correctness."""
    return ece_of_bins(reliability_bins(confidences, correct, num_bins))


def calibration_per_group(probs, labels,
                          groups: Mapping[str, Sequence[int]],
                          num_bins: int = 15) -> Dict[str, Optional[float]]:
    """ECE in % of all samples (``'ece'``) and of each group's samples: a
    sample belongs to the group of its true label; None for a group without
    a sample.

    Args:
        probs: (N, C) class probabilities (softmax of the logits).
        labels: (N,) true labels in [0, C).
        groups: group name -> class indices (a frequency file's groups).
    """
    probs = _as_numpy(probs, 'probs')
    labels = _as_numpy(labels, 'labels')
    if probs.ndim != 2 or labels.ndim != 1 or len(probs) != len(labels):
        raise ValueError(f'probs must be (N, C) and labels (N,), got shapes '
                         f'{probs.shape} and {labels.shape}.')
    num_classes = probs.shape[1]
    if labels.size and (not np.issubdtype(labels.dtype, np.integer)
                        or labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'labels must be integers in [0, {num_classes}) '
                         f'(probs has {num_classes} classes).')
    if probs.size and np.isfinite(probs).all() and not np.allclose(
            probs.sum(1), 1.0, atol=1e-3):
        raise ValueError('the rows of probs do not sum to 1; pass softmax '
                         'probabilities, not logits.')
    if 'ece' in groups:
        raise ValueError("a group is named 'ece', the key of the overall "
                         'ECE; rename the group.')
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    result = dict(ece=expected_calibration_error(confidence, correct,
                                                 num_bins))
    for group, members in groups.items():
        members = _as_numpy(members, f'group {group!r}').astype(np.int64)
        if members.size and (members.min() < 0
                             or members.max() >= num_classes):
            raise ValueError(f'group {group!r} holds class indices outside '
                             f'[0, {num_classes}).')
        chosen = np.isin(labels, members)
        result[group] = (expected_calibration_error(
            confidence[chosen], correct[chosen], num_bins)
            if chosen.any() else None)
    return result


def write_reliability(path: Union[str, Path],
                      bins: Mapping[str, Sequence]) -> Path:
    """Write a ``reliability_bins`` result and its ``'ece'`` (in %) to a
    JSON file atomically (``tools/analysis/plot_reliability.py`` draws
    it); returns the path."""
    missing = [k for k in BIN_KEYS if k not in bins]
    if missing:
        raise ValueError(f'bins has no {missing}; pass the result of '
                         'reliability_bins.')
    data = {k: np.asarray(bins[k]).tolist() for k in BIN_KEYS}
    data['ece'] = ece_of_bins(bins)
    return write_atomically(json.dumps(data, indent=1, allow_nan=False)
                            + '\n', path)


def read_reliability(path: Union[str, Path]) -> dict:
    """A file of ``write_reliability``: the bins as numpy arrays and the
    ECE; ValueError naming the file and the missing entries otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e}).') from None
    missing = [k for k in BIN_KEYS + ('ece', )
               if not isinstance(data, dict) or k not in data]
    if missing:
        raise ValueError(f'{path}: not a reliability file: no {missing} '
                         '(write it with mmlt.core.calibration_error.'
                         'write_reliability).')
    lengths = {len(data[k]) for k in BIN_KEYS}
    if len(lengths) != 1:
        raise ValueError(f'{path}: the bin arrays differ in length.')
    out = {k: np.asarray(data[k], dtype=np.float64) for k in BIN_KEYS}
    out['count'] = out['count'].astype(np.int64)
    out['ece'] = float(data['ece'])
    return out
