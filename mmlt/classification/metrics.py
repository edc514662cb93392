"""Top-1 accuracy overall and per many / medium / few group of classes.

``LongTailAccuracy`` (mmpretrain's ``METRICS``) reports, with the default
prefix ``lt``::

    lt/top1                 accuracy over all samples (%), as ``Accuracy``
    lt/top5                 when ``topk`` holds 5 (any k in ``topk``)
    lt/many, lt/medium, lt/few
                            mean per-class top-1 accuracy of each group (%)
    lt/top1_classwise       top-1 accuracy of every class (%, None for a
                            class with no sample), for plots

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
        classwise: report ``top1_classwise``.
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
                 classwise: bool = True,
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

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        k = max(self.topk)
        for sample in data_samples:
            if self.pred_key not in sample:
                raise KeyError(f'LongTailAccuracy: the data sample has no '
                               f'{self.pred_key!r} (pred_key); it has '
                               f'{sorted(sample)}.')
            score = torch.as_tensor(sample[self.pred_key]).flatten()
            top = score.topk(min(k, score.numel())).indices
            self.results.append(
                dict(gt=int(torch.as_tensor(sample['gt_label']).flatten()[0]),
                     top=top.cpu().numpy()))

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
        metrics = long_tail_accuracy([t[0] for t in top], gt, self.groups,
                                     self.num_classes)
        for k in self.topk:
            if k == 1:
                continue
            hits = sum(int(g in t[:k]) for g, t in zip(gt, top))
            metrics[f'top{k}'] = 100.0 * hits / max(len(gt), 1)
        classwise = metrics.pop('top1_classwise')
        averaged = metrics.pop('group_classes')
        if self.classwise:
            metrics['top1_classwise'] = classwise
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
            'long-tail top-1 per group: ' + '; '.join(
                f'{name} ({len(averaged[name])} of {len(idx)} classes) '
                f'{metrics[name]:.2f}' if metrics[name] is not None else
                f'{name} (no sample)' for name, idx in self.groups.items()),
            'current')
        return metrics
