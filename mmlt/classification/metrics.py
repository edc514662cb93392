"""Top-1 accuracy overall and per many / medium / few group of classes.

``LongTailAccuracy`` (mmpretrain's ``METRICS``) reports, with the default
prefix ``lt``::

    lt/top1                 accuracy over all samples (%), as ``Accuracy``
    lt/top5                 when ``topk`` holds 5 (any k in ``topk``)
    lt/many, lt/medium, lt/few
                            mean per-class top-1 accuracy of each group (%)
    lt/top1_classwise       with ``classwise=True``: top-1 accuracy of
                            every class (%, None for a class with no
                            sample); a long list in every log line, so
                            off by default

Two further evaluations, each turned on by its option:

* ``ece_bins=15``: expected calibration error (%, MiSLAS's 15 equal-width
  bins, ``mmlt.core.calibration_error``) overall as ``lt/ece`` and per
  group as ``lt/ece_<group>``; the reliability diagram's bins go to
  ``reliability_<prefix>.json`` next to the run's log
  (``tools/analysis/plot_reliability.py``). The scores must be
  probabilities (mmpretrain's heads predict softmax scores).
* ``label_shift=dict(imbalance=(5, 10, 50))``: the test-agnostic protocol
  (SADE, NeurIPS 2022, ``mmlt.core.label_shift``): top-1 on the balanced
  test set re-sampled to a forward and a backward long-tailed prior of each
  imbalance, ``lt/forward10_top1``, ``lt/backward10_top1``, ...; the same
  subset for a seed (``seed``, 0) and ``directions`` (both by default).
  Classes are ranked by training count when the counts are known. With
  ``adjust=True`` also ``lt/forward10_top1_prior``, ...: top-1 after adding
  the log of the subset's label prior to the log-probabilities, i.e. the
  posterior of a model that targets the balanced distribution moved to the
  test prior (for a logit-adjusted model: logit adjustment with the test
  prior as ``target_prior``, tau 1).

``per_class_results=True`` writes every class's top-1 (recall), test
samples, training count and group to ``per_class_<prefix>.csv`` / ``.json``
next to the run's log (``mmlt.engine.per_class_output``), for
``tools/analysis/plot_per_class.py``.

Group accuracies are the mean of the per-class accuracies in the group (the
OLTR / decoupling ``shot_acc``; on balanced test sets the same as pooling the
samples). Groups come from, in this order:

1. ``class_groups``: half-open class-index ranges, e.g. DeiT-LT's
   CIFAR-10-LT ``dict(many=(0, 3), medium=(3, 7), few=(7, 10))``;
2. ``use_file_split=True``: the split stored in ``frequency_file``;
3. otherwise thresholds on the training counts (``frequency_file`` or
   ``class_counts``): many > ``many_threshold`` (100), few <
   ``few_threshold`` (20), medium in between (ImageNet-LT's shots).

To evaluate several predictions of one sample (DeiT-LT's CLS, DIST and
averaged heads), store each in its own data-sample field and add one metric
per field: ``dict(type='LongTailAccuracy', pred_key='cls_score',
prefix='lt_cls', ...)`` gives ``lt_cls/top1``, ``lt_cls/many``, ...
"""
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.registry import METRICS

from mmlt.core.frequency import (ClassFrequency, groups_from_ranges,
                                 split_by_count)
from mmlt.core.calibration_error import (calibration_per_group,
                                         reliability_bins, write_reliability)
from mmlt.core.label_shift import (DIRECTIONS, resample_to_prior,
                                   shifted_prior)
from mmlt.core.per_class import per_class_rows
from mmlt.engine.per_class_output import (run_output_path,
                                          write_per_class_results)


def long_tail_accuracy(pred_labels, gt_labels, groups: Dict[str, Sequence[int]],
                       num_classes: int) -> Dict[str, object]:
    """Top-1 accuracy overall, per class and per group (all in %).

    Args:
        pred_labels, gt_labels: (N,) predicted and true class indices.
        groups: group name -> class indices.
        num_classes: number of classes.

    Returns:
        ``{'top1': float, <group>: float, ..., 'top1_classwise': list,
        'group_classes': {group: [the classes averaged]}}``. A group's
        accuracy averages its classes that have samples; a group without
        any sample is None (never NaN, which JSON cannot hold), and so is a
        class without samples in the list.
    """
    pred = np.asarray(pred_labels, dtype=np.int64).reshape(-1)
    gt = np.asarray(gt_labels, dtype=np.int64).reshape(-1)
    if pred.shape != gt.shape:
        raise ValueError(f'{pred.size} predictions for {gt.size} labels.')
    if gt.size and (gt.min() < 0 or gt.max() >= num_classes):
        raise ValueError(f'label {int(gt.max())} out of range for '
                         f'{num_classes} classes.')
    total = np.bincount(gt, minlength=num_classes)
    correct = np.bincount(gt[pred == gt], minlength=num_classes)
    with np.errstate(invalid='ignore', divide='ignore'):
        per_class = np.where(total > 0, 100.0 * correct / total, np.nan)
    out = {'top1': float(100.0 * correct.sum() / max(gt.size, 1))}
    averaged = {}
    for name, members in groups.items():
        members = [int(c) for c in members if total[c] > 0]
        averaged[name] = members
        out[name] = float(per_class[members].mean()) if members else None
    out['top1_classwise'] = [None if np.isnan(v) else float(v)
                             for v in per_class]
    out['group_classes'] = averaged
    return out


@METRICS.register_module()
class LongTailAccuracy(BaseMetric):
    """Accuracy overall and per many / medium / few group (see module doc).

    Args:
        frequency_file: mmlt frequency file of the training set
            (``tools/analysis/class_frequency.py list ...``).
        class_counts: training images per class, inline (exclusive with
            ``frequency_file``).
        class_groups: ``{name: (start, end)}`` class-index ranges that tile
            all classes, or a published split's name (``'ade20k'``); when
            given, counts are not needed.
        use_file_split: group by the split stored in ``frequency_file``.
        many_threshold, few_threshold: many > many_threshold, few <
            few_threshold training images.
        topk: overall top-k accuracies to report (groups are top-1).
        pred_key: the data-sample field with the class scores.
        classwise: report ``top1_classwise`` among the metrics.
        per_class_results: write the per-class file (see module doc).
        per_class_dir: where to write it instead of the run's log dir.
        ece_bins: report the expected calibration error with this many
            bins (see module doc).
        label_shift: evaluate on shifted test priors (see module doc).
        collect_device, prefix: as ``BaseMetric``; prefix defaults to 'lt'.
    """
    default_prefix: Optional[str] = 'lt'

    def __init__(self,
                 frequency_file: Optional[str] = None,
                 class_counts: Optional[Sequence[int]] = None,
                 class_groups: Union[str, Dict[str, Tuple[int, int]],
                                     None] = None,
                 use_file_split: bool = False,
                 many_threshold: int = 100,
                 few_threshold: int = 20,
                 topk: Union[int, Sequence[int]] = (1, ),
                 pred_key: str = 'pred_score',
                 classwise: bool = False,
                 per_class_results: bool = False,
                 per_class_dir: Optional[str] = None,
                 ece_bins: Optional[int] = None,
                 label_shift: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if frequency_file is not None and class_counts is not None:
            raise ValueError('LongTailAccuracy: give `frequency_file` or '
                             '`class_counts`, not both.')
        if use_file_split and (frequency_file is None or class_groups):
            raise ValueError('LongTailAccuracy: `use_file_split` needs '
                             '`frequency_file` and no `class_groups`.')
        self.frequency = None
        counts = class_counts
        if frequency_file is not None:
            self.frequency = ClassFrequency.load(frequency_file)
            counts = self.frequency.counts
        if class_groups:
            self.groups = groups_from_ranges(class_groups)
            self.num_classes = sum(map(len, self.groups.values()))
        elif use_file_split:
            self.groups = self.frequency.groups
        elif counts is not None:
            self.groups = split_by_count(
                counts, ('many', 'medium', 'few'), low=few_threshold,
                high=many_threshold)['groups']
        else:
            raise ValueError(
                'LongTailAccuracy needs the training class counts '
                '(`frequency_file` or `class_counts`) to split classes into '
                'many / medium / few, or `class_groups` (index ranges).')
        if counts is not None:
            self.num_classes = len(counts)
            if class_groups and self.num_classes != max(
                    e for _, e in class_groups.values()):
                raise ValueError(
                    f'LongTailAccuracy: the class counts cover '
                    f'{len(counts)} classes but `class_groups` '
                    f'{class_groups} do not.')
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        self.pred_key = pred_key
        self.classwise = classwise
        self.per_class_results = per_class_results
        self.per_class_dir = per_class_dir
        self.counts = None if counts is None else list(counts)
        self.ece_bins = ece_bins
        self.label_shift = None
        if label_shift is not None:
            unknown = set(label_shift) - {'imbalance', 'directions', 'seed',
                                          'adjust'}
            if unknown or 'imbalance' not in label_shift:
                raise ValueError(
                    f'LongTailAccuracy: label_shift takes imbalance (e.g. '
                    f'(5, 10, 50)), directions and seed; got {label_shift}.')
            self.label_shift = {'directions': DIRECTIONS, 'seed': 0,
                                'adjust': False, **label_shift}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        k = max(self.topk)
        for sample in data_samples:
            if self.pred_key not in sample:
                raise KeyError(f'LongTailAccuracy: the data sample has no '
                               f'{self.pred_key!r} (pred_key); it has '
                               f'{sorted(sample)}.')
            score = torch.as_tensor(sample[self.pred_key]).flatten()
            top = score.topk(min(k, score.numel())).indices
            result = dict(
                gt=int(torch.as_tensor(sample['gt_label']).flatten()[0]),
                top=top.cpu().numpy())
            if self._keeps_probs:
                result['probs'] = score.float().cpu().numpy()
            self.results.append(result)

    @property
    def _keeps_probs(self) -> bool:
        """Whether the evaluation needs each sample's class scores: the
        calibration error, and the label shift moved to the test prior."""
        return bool(self.ece_bins) or bool(
            self.label_shift and self.label_shift['adjust'])

    def _check_classes(self) -> None:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            return
        if self.frequency is not None:
            self.frequency.check_classes(list(classes),
                                         'the evaluated dataset')
        elif len(classes) != self.num_classes:
            raise ValueError(f'LongTailAccuracy: groups / counts for '
                             f'{self.num_classes} classes, but the evaluated '
                             f'dataset has {len(classes)} classes.')

    def compute_metrics(self, results: List[dict]) -> Dict[str, object]:
        self._check_classes()
        gt = np.asarray([r['gt'] for r in results], dtype=np.int64)
        top = [r['top'] for r in results]
        pred = np.asarray([t[0] for t in top], dtype=np.int64)
        probs = (np.stack([r['probs'] for r in results])
                 if self._keeps_probs else None)
        metrics = long_tail_accuracy(pred, gt, self.groups, self.num_classes)
        for k in self.topk:
            if k == 1:
                continue
            hits = sum(int(g in t[:k]) for g, t in zip(gt, top))
            metrics[f'top{k}'] = 100.0 * hits / max(len(gt), 1)
        classwise = metrics.pop('top1_classwise')
        averaged = metrics.pop('group_classes')
        if self.classwise:
            metrics['top1_classwise'] = classwise
        if self.per_class_results:
            self._write_per_class(classwise, gt)
        if self.ece_bins:
            metrics.update(self._calibration(probs, gt))
        if self.label_shift:
            metrics.update(self._shifted(
                pred, gt, probs if self.label_shift['adjust'] else None))
        for name, members in self.groups.items():
            missing = sorted(set(members) - set(averaged[name]))
            if not missing:
                continue
            what = (f'its accuracy averages classes {averaged[name]} only'
                    if averaged[name] else 'it is reported as None')
            print_log(
                f'LongTailAccuracy: the evaluated set has no sample of '
                f'classes {missing} of group {name!r}; {what}.', 'current',
                logging.WARNING)
        print_log(
            f'{self.prefix} top-1 per group: ' + '; '.join(
                f'{name} ({len(averaged[name])} of {len(idx)} classes) '
                f'{metrics[name]:.2f}' if metrics[name] is not None else
                f'{name} (no sample)' for name, idx in self.groups.items()),
            'current')
        return metrics

    def _write_per_class(self, top1: List[Optional[float]],
                         gt: np.ndarray) -> None:
        classes = (self.dataset_meta or {}).get('classes') or [
            str(c) for c in range(self.num_classes)]
        rows = per_class_rows(
            list(classes),
            dict(top1=top1,
                 test_samples=np.bincount(gt, minlength=self.num_classes)),
            train_counts=self.counts, groups=self.groups)
        write_per_class_results(self.prefix, rows, 'classification',
                                ['top1', 'test_samples'], self.per_class_dir)

    def _calibration(self, probs: np.ndarray,
                     gt: np.ndarray) -> Dict[str, Optional[float]]:
        found = calibration_per_group(probs, gt, self.groups, self.ece_bins)
        path = run_output_path(f'reliability_{self.prefix}.json',
                               self.per_class_dir)
        if path is not None:
            correct = probs.argmax(1) == gt
            write_reliability(path, reliability_bins(
                probs.max(1), correct, self.ece_bins))
        return {('ece' if name == 'ece' else f'ece_{name}'): value
                for name, value in found.items()}

    def _shifted(self, pred: np.ndarray, gt: np.ndarray,
                 probs: Optional[np.ndarray]) -> Dict[str, float]:
        out = {}
        for direction in self.label_shift['directions']:
            for ratio in self.label_shift['imbalance']:
                kept = resample_to_prior(
                    gt, ratio, direction, self.label_shift['seed'],
                    train_counts=self.counts, num_classes=self.num_classes)
                key = f'{direction}{ratio:g}_top1'
                out[key] = float(100.0 * (pred[kept] == gt[kept]).mean())
                if probs is None:
                    continue
                prior = shifted_prior(
                    np.bincount(gt[kept], minlength=self.num_classes))
                with np.errstate(divide='ignore'):  # log 0: never chosen
                    moved = np.log(probs[kept]) + np.log(prior)
                out[f'{key}_prior'] = float(
                    100.0 * (moved.argmax(1) == gt[kept]).mean())
        return out
