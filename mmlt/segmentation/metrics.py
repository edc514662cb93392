"""mIoU and mAcc overall and per head / body / tail group of classes."""
import logging
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from mmlt.core.frequency import (ADE20K_GROUPS, ClassFrequency,
                                 groups_from_ranges)
from mmlt.core.per_class import per_class_rows
from mmlt.engine.per_class_output import write_per_class_results

__all__ = ['ADE20K_GROUPS', 'LongTailIoUMetric']


def _percent(value: Optional[float]) -> str:
    return 'None' if value is None else f'{value:.2f}'


@METRICS.register_module()
class LongTailIoUMetric(IoUMetric):
    """``IoUMetric`` (its per-class table in the log included) plus, for
    each group of classes, ``mIoU_<group>`` and ``mAcc_<group>``: the mean
    over the group's classes, NaN classes (absent from the set) skipped as
    IoUMetric skips them. A group none of whose classes occurs in the set
    gets None (JSON's null, as the classification metric writes; NaN is not
    JSON) and a warning. ``per_class_results=True`` writes every class's
    IoU and Acc (%), training pixel count (with ``frequency_file``) and
    group to ``per_class_seg.csv`` / ``.json`` next to the run's log
    (``mmlt.engine.per_class_output``).

    Args:
        class_groups: ``{name: (start, end)}`` half-open class-index ranges
            that together cover every class, e.g. ``ADE20K_GROUPS``, or a
            published split's name: ``'ade20k'`` is ``ADE20K_GROUPS``.
        frequency_file: an mmlt frequency file: its split's groups (unless
            ``class_groups`` is given) and the training pixel counts of the
            per-class results.
        per_class_results: write the per-class file.
        per_class_dir: where to write it instead of the run's log dir.
        **kwargs: ``IoUMetric``'s arguments (``iou_metrics`` must include
            'mIoU').
    """
    # mmseg's IoUMetric has no prefix (its keys are 'mIoU', ...); '' keeps
    # them so without mmengine's "prefix is not set" warning
    default_prefix: Optional[str] = ''

    def __init__(self,
                 class_groups: Union[str, Dict[str, Tuple[int, int]],
                                     None] = None,
                 frequency_file: Optional[str] = None,
                 per_class_results: bool = False,
                 per_class_dir: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.per_class_results = per_class_results
        self.per_class_dir = per_class_dir
        if class_groups is None and frequency_file is None:
            raise ValueError('LongTailIoUMetric needs `class_groups` (index '
                             'ranges, e.g. ADE20K\'s head (0, 20), body (20, '
                             '75), tail (75, 150)) or `frequency_file` (its '
                             'split), or both.')
        self.frequency = None
        if frequency_file is not None:
            self.frequency = ClassFrequency.load(frequency_file)
        self.groups = (groups_from_ranges(class_groups) if class_groups
                       is not None else self.frequency.groups)

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
                         f'{_percent(metrics[f"mIoU_{name}"])}, mAcc '
                         f'{_percent(metrics[f"mAcc_{name}"])}')
        print_log('per group results: ' + '; '.join(lines), 'current')
        if self.per_class_results:
            rows = per_class_rows(
                list(classes),
                {key: per_class[key] * 100 for key in ('IoU', 'Acc')},
                train_counts=(self.frequency.counts
                              if self.frequency is not None else None),
                groups=self.groups)
            write_per_class_results('seg', rows, 'segmentation',
                                    ['IoU', 'Acc'], self.per_class_dir)
        if empty:
            print_log(f'LongTailIoUMetric: no class of the group(s) '
                      f'{", ".join(empty)} occurs in the evaluated set, so '
                      'their mIoU / mAcc are None. Evaluate on a set that '
                      'holds them, or check the class groups.', 'current',
                      level=logging.WARNING)
        return metrics
