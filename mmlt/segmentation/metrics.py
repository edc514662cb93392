"""mIoU and mAcc overall and per head / body / tail group of classes."""
import logging
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from mmlt.core.frequency import (ADE20K_GROUPS, ClassFrequency,
                                 groups_from_ranges)

__all__ = ['ADE20K_GROUPS', 'LongTailIoUMetric']


@METRICS.register_module()
class LongTailIoUMetric(IoUMetric):
    """``IoUMetric`` (its per-class table in the log included) plus, for
    each group of classes, ``mIoU_<group>`` and ``mAcc_<group>``: the mean
    over the group's classes, NaN classes (absent from the set) skipped as
    IoUMetric skips them. A group none of whose classes occurs in the set
    gets None (JSON's null, as the classification metric writes; NaN is not
    JSON) and a warning.

    Args:
        class_groups: ``{name: (start, end)}`` half-open class-index ranges
            that together cover every class, e.g. ``ADE20K_GROUPS``, or a
            published split's name: ``'ade20k'`` is ``ADE20K_GROUPS``.
        frequency_file: an mmlt frequency file; its split's groups are used.
            Exclusive with ``class_groups``.
        **kwargs: ``IoUMetric``'s arguments (``iou_metrics`` must include
            'mIoU').
    """

    def __init__(self,
                 class_groups: Union[str, Dict[str, Tuple[int, int]],
                                     None] = None,
                 frequency_file: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if (class_groups is None) == (frequency_file is None):
            raise ValueError('LongTailIoUMetric needs exactly one of '
                             '`class_groups` (index ranges, e.g. ADE20K\'s '
                             'head (0, 20), body (20, 75), tail (75, 150)) or '
                             '`frequency_file`.')
        self.frequency = None
        if frequency_file is not None:
            self.frequency = ClassFrequency.load(frequency_file)
            self.groups = self.frequency.groups
        else:
            self.groups = groups_from_ranges(class_groups)

    def _check_groups(self, classes: Sequence[str]) -> None:
        if self.frequency is not None:
            self.frequency.check_classes(list(classes), 'the evaluated dataset')
        covered = sorted(i for idx in self.groups.values() for i in idx)
        if covered != list(range(len(classes))):
            raise ValueError(
                f'LongTailIoUMetric: the class groups '
                f'{ {k: (min(v), max(v) + 1) for k, v in self.groups.items() if v} } '
                f'must cover each of the dataset\'s {len(classes)} classes '
                'exactly once.')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        classes = self.dataset_meta['classes']
        self._check_groups(classes)
        areas = [sum(r) for r in zip(*results)]
        per_class = self.total_area_to_metrics(*areas, ['mIoU'],
                                               self.nan_to_num, self.beta)
        lines, empty = [], []
        for name, idx in self.groups.items():
            for key, short in (('IoU', 'mIoU'), ('Acc', 'mAcc')):
                values = per_class[key][idx]
                value = None
                if np.isfinite(values).any():
                    value = round(float(np.nanmean(values)) * 100, 2)
                metrics[f'{short}_{name}'] = value
            if metrics[f'mIoU_{name}'] is None:
                empty.append(name)
            lines.append(f'{name}: {len(idx)} classes, mIoU '
                         f'{metrics[f"mIoU_{name}"]}, mAcc '
                         f'{metrics[f"mAcc_{name}"]}')
        print_log('per group results: ' + '; '.join(lines), 'current')
        if empty:
            print_log(f'LongTailIoUMetric: no class of the group(s) '
                      f'{", ".join(empty)} occurs in the evaluated set, so '
                      'their mIoU / mAcc are None. Evaluate on a set that '
                      'holds them, or check the class groups.', 'current',
                      level=logging.WARNING)
        return metrics
